"""Ticket keys: creation, the Slack outbox, thread and conversation lookups, guards, the X cursor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.threads import ThreadKind, ThreadRef
from bot.domain.tickets import Author, Mention, State, Ticket

if TYPE_CHECKING:  # see lazy_redis.py: the report command does not import redis-py
    from redis.client import Pipeline

P = "esc:"

# Create a ticket and put it in the Slack outbox in one step, or do nothing if it exists (overlapping polls,
# restarts and retries all funnel through here, which is what makes "posted once" hold).
# Claim an outbox item: a lease, refused when another worker holds it or the ticket is already in Slack.
_CLAIM = """
if not redis.call('set', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if redis.call('hget', KEYS[2], 'message_ts') then redis.call('del', KEYS[1]) return 0 end
return 1
"""

# ARGV[4] > 0: the key's lifetime in seconds (follow-ups); tickets have none, the retention purge takes them.
_CREATE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 5))
if tonumber(ARGV[4]) > 0 then redis.call('expire', KEYS[1], ARGV[4]) end
redis.call('zadd', KEYS[2], ARGV[1], ARGV[2])
if KEYS[3] then redis.call('zadd', KEYS[3], ARGV[3], ARGV[2]) end
return 1
"""

DAY_S = 86400


def _x_key(name: str, account: str = "") -> str:
    """An X account's key: the first account ("") keeps the key it had before there were several."""
    return f"{P}x:{name}:{account}" if account else f"{P}x:{name}"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _iso(value: datetime | None) -> str:
    """Integer microseconds since the epoch: exact (deadlines compare equal after a round trip), and half
    the bytes of an ISO string across a million tickets."""
    return str((value - EPOCH) // _US) if value else ""


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    if "T" in value:  # written by an earlier version
        return datetime.fromisoformat(value)
    return EPOCH + int(value) * _US


def ticket_to_hash(t: Ticket) -> dict[str, str]:
    """Fields at their defaults are left out (an empty value means: delete the field)."""
    return {
        "tweet_id": t.tweet_id, "text": t.text, "author_id": t.author.id, "username": t.author.username,
        "name": t.author.name, "followers": str(t.author.followers) if t.author.followers else "",
        "created_at": _iso(t.created_at), "policy": t.policy, "due_at": _iso(t.due_at),
        "department": t.department or "", "fast_track": "1" if t.fast_track else "",
        "keywords": "\x1f".join(t.keywords),
        "conversation_id": t.conversation_id or "" if t.conversation_id != t.tweet_id else "",
        "state": t.state.value, "channel": t.channel or "", "message_ts": t.message_ts or "",
        "clock_start": _iso(t.clock_start) if t.clock_start != t.created_at else "",
        "first_response_at": _iso(t.first_response_at), "answered_at": _iso(t.answered_at),
        "breached": "1" if t.breached else "", "claimed_by": t.claimed_by or "",
        "source": t.source if t.source != "x" else "", "escalated_by": t.escalated_by or "", "note": t.note,
        "opened_at": _iso(t.opened_at) if t.opened_at != t.created_at else "",
        "first_due_at": _iso(t.first_due_at) if t.first_due_at != t.due_at else "", "storm": t.storm or "",
        "unsummoned": "1" if t.unsummoned else "", "account": t.account or "",
    }


def hash_to_ticket(h: dict[str, str]) -> Ticket:
    created, due = _dt(h["created_at"]), _dt(h["due_at"])
    return Ticket(
        tweet_id=h["tweet_id"], text=h.get("text", ""),
        author=Author(h.get("author_id", ""), h.get("username", ""), h.get("name", ""),
                      int(h.get("followers") or 0)),
        created_at=created,  # type: ignore[arg-type]
        policy=h["policy"], due_at=due,  # type: ignore[arg-type]
        department=h.get("department") or None, fast_track=bool(h.get("fast_track")),
        keywords=tuple(k for k in h.get("keywords", "").split("\x1f") if k),
        conversation_id=h.get("conversation_id") or h["tweet_id"], state=State(h.get("state", "new")),
        channel=h.get("channel") or None, message_ts=h.get("message_ts") or None,
        clock_start=_dt(h.get("clock_start")) or created, first_response_at=_dt(h.get("first_response_at")),
        answered_at=_dt(h.get("answered_at")), breached=bool(h.get("breached")),
        claimed_by=h.get("claimed_by") or None, source=h.get("source") or "x",
        escalated_by=h.get("escalated_by") or None, note=h.get("note", ""),
        # left out when equal to these: materialised so a later save keeps them apart
        opened_at=_dt(h.get("opened_at")) or created, first_due_at=_dt(h.get("first_due_at")) or due,
        storm=h.get("storm") or None, unsummoned=bool(h.get("unsummoned")),
        account=h.get("account") or None,
    )


def _day(ts: str) -> int:
    """The UTC day number of a Slack ts."""
    try:
        return int(float(ts)) // DAY_S
    except ValueError:
        return 0


# How a ThreadRef is stored: a ticket's bare tweet id (most threads), the others behind their kind.
_THREAD_PREFIXES = {ThreadKind.STORM: "storm:", ThreadKind.MOVED: "moved:"}


def encode_thread(ref: ThreadRef) -> str:
    return _THREAD_PREFIXES.get(ref.kind, "") + ref.id


def decode_thread(stored: str) -> ThreadRef:
    for kind, prefix in _THREAD_PREFIXES.items():
        if stored.startswith(prefix):
            return ThreadRef(kind, stored.removeprefix(prefix))
    return ThreadRef.ticket(stored)


def thread_key(channel: str, ts: str) -> str:
    """Thread pointers are kept per channel and UTC day of the message: each day's hash expires as a whole
    after the retention (a field of a hash cannot expire on its own before Redis 7.4)."""
    return f"{P}threads:{channel}:{_day(ts)}"


class TicketKeys:
    r: Any
    _create: Any
    _claim: Any
    retention_s: int  # how long a ticket and everything about it stay (routing.yaml `retention`)

    def _thread_expiry(self, ts: str) -> int:
        """When a day's thread pointers go: a day after the last ticket of that day has been purged."""
        return (_day(ts) + 2) * DAY_S + self.retention_s

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
                         args=[now_ts, t.tweet_id, t.clock_origin.timestamp(), 0, *flat], client=pipe)
        results = pipe.execute()
        # A conversation that a ticket started is found by the ticket's own key; only a ticket inside
        # someone else's conversation needs a pointer.
        linked = [t for t, new in zip(tickets, results, strict=True)
                  if new and t.conversation_id and t.conversation_id != t.tweet_id]
        if linked:
            pipe = self.r.pipeline(transaction=False)
            for t in linked:
                pipe.set(P + "conv:" + (t.conversation_id or ""), t.tweet_id, nx=True, ex=self.retention_s)
            pipe.execute()
        return [bool(x) for x in results]

    def add_followups(self, items: Sequence[tuple[Mention, str]], now_ts: float) -> list[bool]:
        """Queue customer follow-ups (replies in a ticket's conversation) for their ticket's thread."""
        pipe = self.r.pipeline(transaction=False)
        for m, parent in items:
            h = {"parent": parent, "text": m.text, "username": m.author.username, "name": m.author.name,
                 "created_at": _iso(m.created_at)}
            flat = [x for kv in h.items() for x in kv]
            self._create(keys=[P + "fu:" + m.id, P + "outbox:post"],
                         args=[now_ts, "fu:" + m.id, 0, self.retention_s, *flat], client=pipe)
        return [bool(x) for x in pipe.execute()]

    def followup(self, tweet_id: str) -> dict[str, str]:
        return self.r.hgetall(P + "fu:" + tweet_id)  # type: ignore[return-value]

    def done_posting(self, member: str) -> None:
        self.r.zrem(P + "outbox:post", member)

    def outbox_since(self, member: str) -> float | None:
        return self.r.zscore(P + "outbox:post", member)

    def tickets_to_post(self, ids: Sequence[str]) -> dict[str, tuple[Ticket | None, int]]:
        """Outbox tickets with their attempt number, counted before posting; one round trip for the batch.

        An attempt above 1 means an earlier one may have reached Slack before its worker died."""
        if not ids:
            return {}
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(P + "t:" + i)
            pipe.hincrby(P + "t:" + i, "post_attempts", 1)
        answers = pipe.execute()
        out: dict[str, tuple[Ticket | None, int]] = {}
        for n, i in enumerate(ids):
            h, attempt = answers[2 * n], int(answers[2 * n + 1])
            out[i] = (hash_to_ticket(h) if h and "created_at" in h else None, attempt)
        return out

    def claim_posts(self, members: Sequence[str], seconds: int) -> list[bool]:
        """Take outbox items for posting, each unless another worker has it or it was posted meanwhile.

        One round trip for the lot; each claim is its own atomic script."""
        pipe = self.r.pipeline(transaction=False)
        for member in members:
            key = P + ("fu:" + member[3:] if member.startswith("fu:") else "t:" + member)
            self._claim(keys=[P + "lease:post:" + member, key], args=[seconds], client=pipe)
        return [bool(x) for x in pipe.execute()]

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

    # -- the Slack outbox: tickets stored but not yet posted --------------------------------------------
    def pending_posts(self, limit: int = 500) -> list[str]:
        return list(self.r.zrange(P + "outbox:post", 0, limit - 1))

    def mark_posted(self, t: Ticket, pipeline: Pipeline | None = None) -> None:
        """Record the Slack message of a ticket and take it out of the outbox, atomically.

        With `pipeline` (a MULTI the caller executes), the commands join the caller's other writes."""
        pipe = pipeline if pipeline is not None else self.r.pipeline(transaction=True)
        pipe.hset(P + "t:" + t.tweet_id, mapping={"state": t.state.value, "channel": t.channel or "",
                                                   "message_ts": t.message_ts or ""})
        pipe.hset(thread_key(t.channel or "", t.message_ts or ""), t.message_ts or "", t.tweet_id)
        pipe.expireat(thread_key(t.channel or "", t.message_ts or ""), self._thread_expiry(t.message_ts or ""))
        pipe.zrem(P + "outbox:post", t.tweet_id)
        pipe.hincrby(P + "m:events", "tickets_posted", 1)
        pipe.delete(P + "lease:post:" + t.tweet_id)
        if pipeline is None:
            pipe.execute()

    def post_attempt(self, member: str) -> int:
        """Count attempts to post an outbox item; more than one means a worker may have died mid-post."""
        key = P + ("fu:" + member[3:] if member.startswith("fu:") else "t:" + member)
        return int(self.r.hincrby(key, "post_attempts", 1))

    # -- lookups ------------------------------------------------------------------------------------------
    def thread(self, channel: str, ts: str) -> ThreadRef | None:
        """What the bot's thread at (channel, ts) stands for; None when it is none of the bot's."""
        # one hash per channel and day: far less memory than a key per thread; before those, one per channel
        found = self.r.hget(thread_key(channel, ts), ts)
        if found is None:
            found = self.r.hget(P + "threads:" + channel, ts)
        return decode_thread(found) if found else None

    def link_thread(self, channel: str, ts: str, ref: ThreadRef) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(thread_key(channel, ts), ts, encode_thread(ref))
        pipe.expireat(thread_key(channel, ts), self._thread_expiry(ts))
        pipe.execute()

    def tickets_for_conversations(self, tweet_ids: Sequence[str]) -> dict[str, str]:
        """Which of these tweet ids (conversations, tickets, or our own replies) belong to a ticket; one trip."""
        ids = list(dict.fromkeys(i for i in tweet_ids if i))
        if not ids:
            return {}
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.get(P + "conv:" + i)
            pipe.exists(P + "t:" + i)
        answers = pipe.execute()
        found = {}
        for n, i in enumerate(ids):
            pointer, is_ticket = answers[2 * n], answers[2 * n + 1]
            if pointer or is_ticket:
                found[i] = pointer or i
        return found

    def link_conversation(self, tweet_id: str, ticket_id: str) -> None:
        self.r.set(P + "conv:" + tweet_id, ticket_id, ex=self.retention_s)

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

    # -- X cursor and account (per account: "" is the first one, on the keys it had before there were several)
    def since_id(self, account: str = "") -> str | None:
        return self.r.get(_x_key("since_id", account))  # type: ignore[return-value]

    def set_since_id(self, tweet_id: str, account: str = "") -> None:
        # Never move backwards: compare numerically inside Redis would need Lua; ids are same-length digits.
        current = self.since_id(account)
        if current is None or (len(tweet_id), tweet_id) > (len(current), current):
            self.r.set(_x_key("since_id", account), tweet_id)

    def account(self, account: str = "") -> dict[str, str]:
        return self.r.hgetall(_x_key("me", account))  # type: ignore[return-value]

    def set_account(self, user_id: str, username: str, account: str = "") -> None:
        self.r.hset(_x_key("me", account), mapping={"id": user_id, "username": username})

    # -- polling back-off -------------------------------------------------------------------------------
    def poll_paused_until(self, account: str = "") -> float:
        return float(self.r.get(_x_key("pause_until", account)) or 0)

    def pause_polling(self, until: float, account: str = "") -> int:
        """Pause polling until a time; returns how many failures in a row led here (for back-off)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.set(_x_key("pause_until", account), until)
        pipe.incr(_x_key("poll_failures", account))
        return int(pipe.execute()[1])

    def poll_failures(self, account: str = "") -> int:
        return int(self.r.get(_x_key("poll_failures", account)) or 0)

    def poll_ok(self, account: str = "") -> None:
        self.r.delete(_x_key("pause_until", account), _x_key("poll_failures", account))

    # -- Slack events ------------------------------------------------------------------------------------
    def seen_event(self, event_id: str) -> bool:
        """Slack retries carry the same event_id; one already queued is not queued again."""
        return bool(self.r.exists(P + "event:" + event_id))

    def mark_event(self, event_id: str) -> None:
        self.r.set(P + "event:" + event_id, "1", ex=3600)
