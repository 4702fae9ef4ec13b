"""Redis keys, and the only place that knows them. Every write that guards a side effect is atomic."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import redis

from bot.domain.tickets import Author, Mention, State, Ticket

P = "esc:"

# Create a ticket and put it in the Slack outbox in one step, or do nothing if it exists (overlapping polls,
# restarts and retries all funnel through here, which is what makes "posted once" hold).
_CREATE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 4))
redis.call('zadd', KEYS[2], ARGV[1], ARGV[2])
if KEYS[3] then redis.call('zadd', KEYS[3], ARGV[3], ARGV[2]) end
return 1
"""


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def ticket_to_hash(t: Ticket) -> dict[str, str]:
    return {
        "tweet_id": t.tweet_id, "text": t.text, "author_id": t.author.id, "username": t.author.username,
        "name": t.author.name, "followers": str(t.author.followers), "created_at": _iso(t.created_at),
        "policy": t.policy, "due_at": _iso(t.due_at), "department": t.department or "",
        "fast_track": "1" if t.fast_track else "", "keywords": "\x1f".join(t.keywords),
        "conversation_id": t.conversation_id or "", "state": t.state.value, "channel": t.channel or "",
        "message_ts": t.message_ts or "", "clock_start": _iso(t.clock_start),
        "first_response_at": _iso(t.first_response_at), "answered_at": _iso(t.answered_at),
        "breached": "1" if t.breached else "", "claimed_by": t.claimed_by or "", "source": t.source,
        "escalated_by": t.escalated_by or "", "note": t.note, "opened_at": _iso(t.opened_at),
        "first_due_at": _iso(t.first_due_at), "storm": t.storm or "",
    }


def hash_to_ticket(h: dict[str, str]) -> Ticket:
    return Ticket(
        tweet_id=h["tweet_id"], text=h.get("text", ""),
        author=Author(h.get("author_id", ""), h.get("username", ""), h.get("name", ""),
                      int(h.get("followers") or 0)),
        created_at=_dt(h["created_at"]),  # type: ignore[arg-type]
        policy=h["policy"], due_at=_dt(h["due_at"]),  # type: ignore[arg-type]
        department=h.get("department") or None, fast_track=bool(h.get("fast_track")),
        keywords=tuple(k for k in h.get("keywords", "").split("\x1f") if k),
        conversation_id=h.get("conversation_id") or None, state=State(h.get("state", "new")),
        channel=h.get("channel") or None, message_ts=h.get("message_ts") or None,
        clock_start=_dt(h.get("clock_start")), first_response_at=_dt(h.get("first_response_at")),
        answered_at=_dt(h.get("answered_at")), breached=bool(h.get("breached")),
        claimed_by=h.get("claimed_by") or None, source=h.get("source", "x"),
        escalated_by=h.get("escalated_by") or None, note=h.get("note", ""),
        opened_at=_dt(h.get("opened_at")), first_due_at=_dt(h.get("first_due_at")),
        storm=h.get("storm") or None,
    )


@dataclass
class Relay:
    """A staff reply on its way to X: keyed by the Slack message that carries it."""

    channel: str
    ts: str
    ticket: str
    user: str
    text: str
    state: str = "pending"  # pending | sending | sent | cancelled | refused | failed
    send_at: float = 0.0
    notice_ts: str = ""
    tweet_id: str = ""
    detail: str = ""
    attempts: int = 0

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.ts}"


def _relay_from(h: dict[str, str]) -> Relay:
    kw: dict[str, Any] = {f.name: h[f.name] for f in fields(Relay) if f.name in h}
    kw["send_at"] = float(kw.get("send_at") or 0)
    kw["attempts"] = int(kw.get("attempts") or 0)
    return Relay(**kw)


class Store:
    """Typed access to the bot's Redis data. Pass a redis.Redis with decode_responses=True."""

    def __init__(self, r: redis.Redis) -> None:
        # redis-py's return types are unions of every response shape; with decode_responses they are str.
        self.r: Any = r
        self._create = r.register_script(_CREATE)

    # -- tickets -------------------------------------------------------------------------------------
    def create_tickets(self, tickets: Sequence[Ticket], now_ts: float) -> list[bool]:
        """Store new tickets and queue their Slack posts; one round trip for the lot. True = it was new."""
        if not tickets:
            return []
        pipe = self.r.pipeline(transaction=False)
        for t in tickets:
            flat: list[str] = []
            for k, v in ticket_to_hash(t).items():
                if v:
                    flat += [k, v]
            self._create(keys=[P + "t:" + t.tweet_id, P + "outbox:post", P + "idx:created"],
                         args=[now_ts, t.tweet_id, t.clock_origin.timestamp(), *flat], client=pipe)
            if t.conversation_id:
                pipe.set(P + "conv:" + t.conversation_id, t.tweet_id, nx=True)
        results = pipe.execute()
        out: list[bool] = []
        i = 0
        for t in tickets:
            out.append(bool(results[i]))
            i += 2 if t.conversation_id else 1
        return out

    def add_followups(self, items: Sequence[tuple[Mention, str]], now_ts: float) -> list[bool]:
        """Queue customer follow-ups (replies in a ticket's conversation) for their ticket's thread."""
        pipe = self.r.pipeline(transaction=False)
        for m, parent in items:
            h = {"parent": parent, "text": m.text, "username": m.author.username, "name": m.author.name,
                 "created_at": _iso(m.created_at)}
            flat = [x for kv in h.items() for x in kv]
            self._create(keys=[P + "fu:" + m.id, P + "outbox:post"], args=[now_ts, "fu:" + m.id, 0, *flat],
                         client=pipe)
        return [bool(x) for x in pipe.execute()]

    def followup(self, tweet_id: str) -> dict[str, str]:
        return self.r.hgetall(P + "fu:" + tweet_id)  # type: ignore[return-value]

    def done_posting(self, member: str) -> None:
        self.r.zrem(P + "outbox:post", member)

    def outbox_since(self, member: str) -> float | None:
        return self.r.zscore(P + "outbox:post", member)

    def ticket(self, tweet_id: str) -> Ticket | None:
        h = self.r.hgetall(P + "t:" + tweet_id)
        return hash_to_ticket(h) if h and "created_at" in h else None  # type: ignore[arg-type]

    def tickets(self, ids: Iterable[str]) -> list[Ticket]:
        pipe = self.r.pipeline(transaction=False)
        ids = list(ids)
        for i in ids:
            pipe.hgetall(P + "t:" + i)
        return [hash_to_ticket(h) for h in pipe.execute() if h and "created_at" in h]

    def save(self, t: Ticket) -> None:
        h = ticket_to_hash(t)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(P + "t:" + t.tweet_id, mapping={k: v for k, v in h.items() if v})
        empty = [k for k, v in h.items() if not v]
        if empty:
            pipe.hdel(P + "t:" + t.tweet_id, *empty)
        pipe.execute()

    def ticket_ids_between(self, since: float, until: float) -> list[str]:
        """Tickets whose clock started in [since, until): the report's index, never a scan of every key."""
        return list(self.r.zrangebyscore(P + "idx:created", since, f"({until}"))

    def mark_breached(self, tweet_id: str) -> bool:
        """Flag a first-response breach without rewriting the ticket (a reply may be saving it right now)."""
        script = ("if redis.call('hget', KEYS[1], 'first_response_at') then return 0 end "
                  "redis.call('hset', KEYS[1], 'breached', '1') return 1")
        return bool(self.r.eval(script, 1, P + "t:" + tweet_id))

    def ticket_exists(self, tweet_id: str) -> bool:
        return bool(self.r.exists(P + "t:" + tweet_id))

    # -- the Slack outbox: tickets stored but not yet posted --------------------------------------------
    def pending_posts(self, limit: int = 500) -> list[str]:
        return list(self.r.zrange(P + "outbox:post", 0, limit - 1))

    def mark_posted(self, t: Ticket) -> None:
        """Record the Slack message of a ticket and take it out of the outbox, atomically."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(P + "t:" + t.tweet_id, mapping={"state": t.state.value, "channel": t.channel or "",
                                                   "message_ts": t.message_ts or ""})
        pipe.set(P + f"thread:{t.channel}:{t.message_ts}", t.tweet_id)
        pipe.zrem(P + "outbox:post", t.tweet_id)
        pipe.hincrby(P + "m:events", "tickets_posted", 1)
        pipe.execute()

    def post_attempt(self, member: str) -> int:
        """Count attempts to post an outbox item; more than one means a worker may have died mid-post."""
        key = P + ("fu:" + member[3:] if member.startswith("fu:") else "t:" + member)
        return int(self.r.hincrby(key, "post_attempts", 1))

    # -- lookups ------------------------------------------------------------------------------------------
    def ticket_for_thread(self, channel: str, ts: str) -> str | None:
        return self.r.get(P + f"thread:{channel}:{ts}")  # type: ignore[return-value]

    def link_thread(self, channel: str, ts: str, tweet_id: str) -> None:
        self.r.set(P + f"thread:{channel}:{ts}", tweet_id)

    def tickets_for_conversations(self, tweet_ids: Sequence[str]) -> dict[str, str]:
        """Which of these tweet ids (conversations, or our own replies) belong to a ticket; one round trip."""
        ids = list(dict.fromkeys(i for i in tweet_ids if i))
        if not ids:
            return {}
        return {i: v for i, v in zip(ids, self.r.mget([P + "conv:" + i for i in ids]), strict=True) if v}

    def link_conversation(self, tweet_id: str, ticket_id: str) -> None:
        self.r.set(P + "conv:" + tweet_id, ticket_id)

    # -- guards ------------------------------------------------------------------------------------------
    def once(self, name: str, ttl: int | None = None) -> bool:
        """True the first time a name is seen: the SET NX guard around a side effect."""
        return bool(self.r.set(P + "once:" + name, "1", nx=True, ex=ttl))

    def forget(self, name: str) -> None:
        self.r.delete(P + "once:" + name)

    def lease(self, name: str, seconds: int) -> bool:
        return bool(self.r.set(P + "lease:" + name, "1", nx=True, ex=seconds))

    def lease_extend(self, name: str, seconds: int) -> None:
        self.r.expire(P + "lease:" + name, seconds)

    def release(self, name: str) -> None:
        self.r.delete(P + "lease:" + name)

    # -- X cursor and account ----------------------------------------------------------------------------
    def since_id(self) -> str | None:
        return self.r.get(P + "x:since_id")  # type: ignore[return-value]

    def set_since_id(self, tweet_id: str) -> None:
        # Never move backwards: compare numerically inside Redis would need Lua; ids are same-length digits.
        current = self.since_id()
        if current is None or (len(tweet_id), tweet_id) > (len(current), current):
            self.r.set(P + "x:since_id", tweet_id)

    def account(self) -> dict[str, str]:
        return self.r.hgetall(P + "x:me")  # type: ignore[return-value]

    def set_account(self, user_id: str, username: str) -> None:
        self.r.hset(P + "x:me", mapping={"id": user_id, "username": username})

    # -- polling back-off -------------------------------------------------------------------------------
    def poll_paused_until(self) -> float:
        return float(self.r.get(P + "x:pause_until") or 0)

    def pause_polling(self, until: float) -> int:
        """Pause polling until a time; returns how many failures in a row led here (for back-off)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.set(P + "x:pause_until", until)
        pipe.incr(P + "x:poll_failures")
        return int(pipe.execute()[1])

    def poll_failures(self) -> int:
        return int(self.r.get(P + "x:poll_failures") or 0)

    def poll_ok(self) -> None:
        self.r.delete(P + "x:pause_until", P + "x:poll_failures")

    # -- relays ------------------------------------------------------------------------------------------
    def add_relay(self, relay: Relay) -> bool:
        """Store a new relay unless one exists for that Slack message (Slack retries, duplicate events)."""
        key = P + "relay:" + relay.key
        if not self.r.hsetnx(key, "state", relay.state):
            return False
        self.save_relay(relay)
        return True

    def relay(self, channel: str, ts: str) -> Relay | None:
        h = self.r.hgetall(P + f"relay:{channel}:{ts}")
        return _relay_from(h) if h and "ticket" in h else None  # type: ignore[arg-type]

    def save_relay(self, relay: Relay) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(P + "relay:" + relay.key, mapping={f.name: str(getattr(relay, f.name)) for f in fields(Relay)})
        if relay.state in ("pending", "sending"):
            pipe.zadd(P + "outbox:relay", {relay.key: relay.send_at})
        else:
            pipe.zrem(P + "outbox:relay", relay.key)
        pipe.execute()

    def claim_relay(self, channel: str, ts: str) -> bool:
        """Move a relay from pending to sending; only one worker wins."""
        script = "if redis.call('hget', KEYS[1], 'state') == 'pending' then " \
                 "redis.call('hset', KEYS[1], 'state', 'sending') return 1 end return 0"
        return bool(self.r.eval(script, 1, P + f"relay:{channel}:{ts}"))

    def due_relays(self, before: float) -> list[tuple[str, str]]:
        keys = self.r.zrangebyscore(P + "outbox:relay", "-inf", before)
        return [tuple(k.split(":", 1)) for k in keys]  # type: ignore[misc]

    # -- Slack events ------------------------------------------------------------------------------------
    def seen_event(self, event_id: str) -> bool:
        """Slack retries carry the same event_id; one already queued is not queued again."""
        return bool(self.r.exists(P + "event:" + event_id))

    def mark_event(self, event_id: str) -> None:
        self.r.set(P + "event:" + event_id, "1", ex=3600)

    # -- storms ---------------------------------------------------------------------------------------------
    def storm_rate(self, dept: str, stamps: Mapping[str, float], since: float) -> int:
        """Add mentions to a department's sliding window and count what is in it; one round trip."""
        key = P + "storm:rate:" + dept
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(key, dict(stamps))
        pipe.zremrangebyscore(key, "-inf", f"({since}")
        pipe.zcard(key)
        pipe.expire(key, 86400)
        return int(pipe.execute()[2])

    def active_storm(self, dept: str) -> str | None:
        return self.r.get(P + "storm:active:" + dept)  # type: ignore[no-any-return]

    def start_storm(self, storm_id: str, dept: str, channel: str, topic: str, now_ts: float) -> str:
        """Make storm_id the department's active storm unless one already is; returns the active one."""
        if self.r.set(P + "storm:active:" + dept, storm_id, nx=True):
            self.r.sadd(P + "storms:active", storm_id)
            self.r.hset(P + "storm:" + storm_id, mapping={
                "id": storm_id, "dept": dept, "channel": channel, "topic": topic, "started_at": now_ts,
                "last_at": now_ts, "state": "active"})
            return storm_id
        return self.active_storm(dept) or storm_id

    def storm(self, storm_id: str) -> dict[str, str]:
        return self.r.hgetall(P + "storm:" + storm_id)  # type: ignore[no-any-return]

    def active_storms(self) -> list[str]:
        return sorted(self.r.smembers(P + "storms:active"))

    def update_storm(self, storm_id: str, **values: str | float) -> None:
        self.r.hset(P + "storm:" + storm_id, mapping=values)

    def join_storm(self, storm_id: str, stamps: Mapping[str, float], now_ts: float) -> None:
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(P + f"storm:{storm_id}:members", dict(stamps))
        for tweet_id in stamps:
            pipe.hset(P + "t:" + tweet_id, "storm", storm_id)
        pipe.hset(P + "storm:" + storm_id, "last_at", now_ts)
        pipe.execute()

    def storm_members(self, storm_id: str) -> list[str]:
        return list(self.r.zrange(P + f"storm:{storm_id}:members", 0, -1))

    def end_storm(self, storm_id: str, dept: str, now_ts: float) -> bool:
        """Atomically end it (once): the active pointer goes only if it still names this storm."""
        script = ("redis.call('srem', KEYS[3], ARGV[1]) "
                  "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) "
                  "redis.call('hset', KEYS[2], 'state', 'ended', 'ended_at', ARGV[2]) return 1 end return 0")
        return bool(self.r.eval(script, 3, P + "storm:active:" + dept, P + "storm:" + storm_id,
                                P + "storms:active", storm_id, now_ts))

    def mark_storm_posted(self, tickets: Sequence[Ticket]) -> None:
        """Storm members are shown as lines in the storm thread: record that, without a thread of their own."""
        pipe = self.r.pipeline(transaction=True)
        for t in tickets:
            pipe.hset(P + "t:" + t.tweet_id, mapping={"state": t.state.value, "channel": t.channel or "",
                                                       "message_ts": t.message_ts or ""})
            pipe.zrem(P + "outbox:post", t.tweet_id)
        pipe.hincrby(P + "m:events", "storm_members_posted", len(tickets))
        pipe.execute()

    # -- broadcasts: one staff reply to every member of a storm -------------------------------------------
    def add_broadcast(self, key: str, values: Mapping[str, str | float]) -> bool:
        if not self.r.hsetnx(P + "bc:" + key, "state", "confirm"):
            return False
        self.r.hset(P + "bc:" + key, mapping=dict(values))
        return True

    def broadcast(self, key: str) -> dict[str, str]:
        return self.r.hgetall(P + "bc:" + key)  # type: ignore[no-any-return]

    def set_broadcast(self, key: str, **values: str | float) -> None:
        self.r.hset(P + "bc:" + key, mapping=values)

    def broadcast_transition(self, key: str, before: str, after: str) -> bool:
        """Move a broadcast between states atomically; the set of sending ones is kept for the sweeper."""
        script = ("if redis.call('hget', KEYS[1], 'state') ~= ARGV[1] then return 0 end "
                  "redis.call('hset', KEYS[1], 'state', ARGV[2]) "
                  "if ARGV[2] == 'sending' then redis.call('sadd', KEYS[2], ARGV[3]) "
                  "else redis.call('srem', KEYS[2], ARGV[3]) end return 1")
        return bool(self.r.eval(script, 2, P + "bc:" + key, P + "bc-sending", before, after, key))

    def broadcasts_sending(self) -> list[str]:
        return sorted(self.r.smembers(P + "bc-sending"))

    def broadcast_sent(self, key: str) -> dict[str, str]:
        return self.r.hgetall(P + f"bc:{key}:sent")  # type: ignore[no-any-return]

    def broadcast_mark(self, key: str, tweet_id: str, value: str) -> None:
        self.r.hset(P + f"bc:{key}:sent", tweet_id, value)

    # -- metrics: counters in Redis, so every process (web, forked jobs, cron) adds to the same figures ------
    def count(self, metric: str, label: str = "", by: int = 1) -> None:
        self.r.hincrby(P + "m:" + metric, label, by)

    def counts(self, metric: str) -> dict[str, int]:
        return {k: int(v) for k, v in self.r.hgetall(P + "m:" + metric).items()}

    def counts_float(self, metric: str) -> dict[str, float]:
        return {k: float(v) for k, v in self.r.hgetall(P + "m:" + metric).items()}

    def observe(self, metric: str, value: float, buckets: Sequence[float]) -> None:
        """A histogram observation: one pipeline, cumulative buckets as Prometheus wants them."""
        pipe = self.r.pipeline(transaction=False)
        for le in buckets:
            if value <= le:
                pipe.hincrby(P + "m:" + metric, f"le:{le}", 1)
        pipe.hincrby(P + "m:" + metric, "le:+Inf", 1)
        pipe.hincrbyfloat(P + "m:" + metric, "sum", value)
        pipe.execute()

    def outbox_sizes(self) -> dict[str, int]:
        pipe = self.r.pipeline(transaction=False)
        pipe.zcard(P + "outbox:post")
        pipe.zcard(P + "outbox:relay")
        posts, relays = pipe.execute()
        return {"slack_posts": int(posts), "replies": int(relays)}

    # -- misc ---------------------------------------------------------------------------------------------
    def push_log(self, kind: str, item: dict[str, Any], keep: int = 1000) -> None:
        pipe = self.r.pipeline(transaction=False)
        pipe.lpush(P + "log:" + kind, json.dumps(item, ensure_ascii=False))
        pipe.ltrim(P + "log:" + kind, 0, keep - 1)
        pipe.execute()
