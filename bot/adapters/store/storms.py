"""Storm keys: the sliding window per department, storms and their members, broadcasts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.adapters.store.tickets import P, ticket_to_hash
from bot.domain.storms import BroadcastEvent, BroadcastState, StormEvent, StormState, broadcast_step, storm_step
from bot.domain.tickets import Ticket

if TYPE_CHECKING:  # see lazy_redis.py: the report command does not import redis-py
    from redis.client import Pipeline

STORM_TTL_S = 90 * 86400  # a running storm's keys; the retention work will read this from `retention:`
STORM_KEEP_S = 7 * 86400  # how long a storm's members and broadcasts stay once it has ended


class StormKeys:
    r: Any

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
            pipe = self.r.pipeline(transaction=True)
            pipe.sadd(P + "storms:active", storm_id)
            pipe.hset(P + "storm:" + storm_id, mapping={
                "id": storm_id, "dept": dept, "channel": channel, "topic": topic, "started_at": now_ts,
                "last_at": now_ts, "state": StormState.ACTIVE.value})
            pipe.expire(P + "storm:" + storm_id, STORM_TTL_S)
            pipe.execute()
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
        pipe.expire(P + f"storm:{storm_id}:members", STORM_TTL_S)
        for tweet_id in stamps:
            pipe.hset(P + "t:" + tweet_id, "storm", storm_id)
        pipe.hset(P + "storm:" + storm_id, "last_at", now_ts)
        pipe.execute()

    def storm_members(self, storm_id: str) -> list[str]:
        return list(self.r.zrange(P + f"storm:{storm_id}:members", 0, -1))

    def end_storm(self, storm_id: str, dept: str, now_ts: float) -> bool:
        """Atomically end it (once): the active pointer goes only if it still names this storm."""
        _, ended = storm_step(StormEvent.ENDED)
        # Once ended, the storm, its members and its broadcasts keep STORM_KEEP_S, set in the same step.
        script = ("redis.call('srem', KEYS[3], ARGV[1]) "
                  "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) "
                  "redis.call('hset', KEYS[2], 'state', ARGV[5], 'ended_at', ARGV[2]) "
                  "redis.call('expire', KEYS[2], ARGV[3]) redis.call('expire', KEYS[4], ARGV[3]) "
                  "for _, bc in ipairs(redis.call('smembers', KEYS[5])) do "
                  "for _, suffix in ipairs({'', ':sent', ':members'}) do "
                  "redis.call('expire', ARGV[4] .. bc .. suffix, ARGV[3]) end end "
                  "redis.call('expire', KEYS[5], ARGV[3]) return 1 end return 0")
        return bool(self.r.eval(script, 5, P + "storm:active:" + dept, P + "storm:" + storm_id,
                                P + "storms:active", P + f"storm:{storm_id}:members", P + f"storm:{storm_id}:bcs",
                                storm_id, now_ts, STORM_KEEP_S, P + "bc:", ended.value))

    def mark_storm_posted(self, tickets: Sequence[Ticket], pipeline: Pipeline | None = None) -> None:
        """Storm members are shown as lines in the storm thread: record that, without a thread of their own."""
        pipe = pipeline if pipeline is not None else self.r.pipeline(transaction=True)
        for t in tickets:
            pipe.hset(P + "t:" + t.tweet_id, mapping={"state": t.state.value, "channel": t.channel or "",
                                                       "message_ts": t.message_ts or ""})
            pipe.zrem(P + "outbox:post", t.tweet_id)
        pipe.hincrby(P + "m:events", "storm_members_posted", len(tickets))
        if pipeline is None:
            pipe.execute()

    # -- broadcasts: one staff reply to every member of a storm -------------------------------------------
    def add_broadcast(self, key: str, values: Mapping[str, str | float], members: Sequence[str] = ()) -> bool:
        """A broadcast waiting for its confirmation, with the members it will reach (listed now: a mention that
        joins later waits for the next confirmation)."""
        if not self.r.hsetnx(P + "bc:" + key, "state", BroadcastState.CONFIRM.value):
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(P + "bc:" + key, mapping=dict(values))
        if members:
            pipe.rpush(P + f"bc:{key}:members", *members)
        storm_id = str(values.get("storm", ""))
        pipe.sadd(P + f"storm:{storm_id}:bcs", key)
        for name in (f"bc:{key}", f"bc:{key}:members", f"storm:{storm_id}:bcs"):
            pipe.expire(P + name, STORM_TTL_S)
        pipe.execute()
        return True

    def broadcast_members(self, key: str) -> list[str]:
        return list(self.r.lrange(P + f"bc:{key}:members", 0, -1))

    def broadcast(self, key: str) -> dict[str, str]:
        return self.r.hgetall(P + "bc:" + key)  # type: ignore[no-any-return]

    def set_broadcast(self, key: str, **values: str | float) -> None:
        self.r.hset(P + "bc:" + key, mapping=values)

    def broadcast_transition(self, key: str, event: BroadcastEvent) -> bool:
        """Move a broadcast by this event, atomically (False: it was not in the event's state); the set of
        sending ones is kept for the sweeper."""
        before, after = broadcast_step(event)
        script = ("if redis.call('hget', KEYS[1], 'state') ~= ARGV[1] then return 0 end "
                  "redis.call('hset', KEYS[1], 'state', ARGV[2]) "
                  "if ARGV[2] == ARGV[4] then redis.call('sadd', KEYS[2], ARGV[3]) "
                  "else redis.call('srem', KEYS[2], ARGV[3]) end return 1")
        return bool(self.r.eval(script, 2, P + "bc:" + key, P + "bc-sending", before.value, after.value, key,
                                BroadcastState.SENDING.value))

    def broadcasts_sending(self) -> list[str]:
        return sorted(self.r.smembers(P + "bc-sending"))

    def broadcast_sent(self, key: str) -> dict[str, str]:
        return self.r.hgetall(P + f"bc:{key}:sent")  # type: ignore[no-any-return]

    def broadcast_mark(self, key: str, tweet_id: str, value: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(P + f"bc:{key}:sent", tweet_id, value)
        pipe.expire(P + f"bc:{key}:sent", STORM_TTL_S)
        pipe.execute()

    def broadcast_sent_to(self, key: str, ticket: Ticket, tweet_id: str, last_sent: str) -> None:
        """A member's reply is on X: its mark, its ticket (answered) and the conversation pointer, in one step."""
        h = ticket_to_hash(ticket)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(P + f"bc:{key}:sent", ticket.tweet_id, f"sent:{tweet_id}")
        pipe.hset(P + "bc:" + key, "last_sent", last_sent)
        pipe.hset(P + "t:" + ticket.tweet_id, mapping={k: v for k, v in h.items() if v})
        empty = [k for k, v in h.items() if not v]
        if empty:
            pipe.hdel(P + "t:" + ticket.tweet_id, *empty)
        if tweet_id:
            pipe.set(P + "conv:" + tweet_id, ticket.tweet_id)
        pipe.execute()
