"""Slack's per-channel pace and the ticket lanes: the keys every process shares to post at Slack's pace.

Slack takes about one message a second per channel. `Pace` keeps, per channel, the moment the next message may
go (Redis's own clock, so hosts agree). A ticket lane takes the slot only when it is free now, and otherwise is
rescheduled for it; a post a person waits for reserves the next slot, ahead of the lane's next ticket.

Each channel's slots are counted from when a post is sent, with a small margin (SLOT_MARGIN_S), not from when
Slack's answer came back: at a 150 ms round trip, counting from the answer made every channel's cycle 1.15 s
plus the lane job's scheduling, and 20 channels reached ~16 posts/s of Slack's 20. A lane's next run is
scheduled EARLY_S before its slot and waits the rest inside the job (at most WAIT_S), so the scheduler's tick
and a worker picking the job up do not add to every cycle.

A lane is a channel's queue of outbox items in outbox order. Its runner holds the lane's lease (by a token)
while it posts or while its next run is scheduled, so one runner at a time posts a channel's tickets, in order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

P = "esc:"
LANE_TTL_S = 7 * 86400  # a lane's keys outlive any backlog; the outbox stays the record of what is unposted
SLOT_MARGIN_S = 0.1  # added to the interval at each slot: Slack counts from the post's arrival, a little later
EARLY_S = 0.3  # a lane's next run is scheduled this much before its slot (the scheduler, a worker taking it) ...
WAIT_S = 0.5  # ... and a run that finds its slot this close waits for it in its thread rather than be rescheduled

# KEYS[1] the channel's next-free moment. ARGV: interval, mode ("free": take the slot only if it is free now;
# "reserve": take the next slot, now or later). Returns {go (1/0), the moment the slot is (or will be) free,
# seconds from now until then}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local interval = tonumber(ARGV[1])
if nxt <= now then
  redis.call('SET', KEYS[1], tostring(now + interval), 'PX', math.ceil(interval * 1000) + 60000)
  return {1, tostring(now), '0'}
end
if ARGV[2] == 'reserve' then
  redis.call('SET', KEYS[1], tostring(nxt + interval), 'PX', math.ceil((nxt + interval - now) * 1000) + 60000)
  return {1, tostring(nxt), tostring(nxt - now)}
end
return {0, tostring(nxt), tostring(nxt - now)}
"""

# KEYS[1] the next-free moment: pushed to now + ARGV[1] (Slack's Retry-After), never pulled earlier.
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 60000)
end
return tostring(until_)
"""

# The lane's lease: KEYS[1]; ARGV: token, seconds, expected token ('' = take it only if free).
_LEASE = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[3] then return 0 end
if not held and ARGV[3] ~= '' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""

# A lane found empty leaves the set of lanes a flush runs, unless an item was added meanwhile.
_SETTLE = """
if redis.call('ZCARD', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lanes:
    """Per-channel pace and lanes. Pass a redis.Redis with decode_responses=True."""

    def __init__(self, r: Any, interval: float) -> None:
        self.r = r
        self.interval = interval
        self.slot = interval + SLOT_MARGIN_S if interval > 0 else 0.0  # no pace of our own: no margin either
        self._take = r.register_script(_TAKE)
        self._hold = r.register_script(_HOLD)
        self._lease = r.register_script(_LEASE)
        self._release = r.register_script(_RELEASE)
        self._settle = r.register_script(_SETTLE)

    # -- the pace ------------------------------------------------------------------------------------------
    def now(self) -> float:
        seconds, micros = self.r.time()
        return float(seconds) + micros / 1e6

    def take_if_free(self, channel: str) -> tuple[bool, float]:
        """(True, now) with the slot taken if the channel is free now, or within WAIT_S (waited for here);
        else (False, when to run again: EARLY_S before the slot frees)."""
        for _ in range(2):
            go, at, wait = self._take(keys=[P + "pace:" + channel], args=[self.slot, "free"])
            if go:
                return True, float(at)
            if float(wait) > WAIT_S:
                break
            time.sleep(float(wait))
        return False, float(at) - EARLY_S

    def reserve(self, channel: str) -> float:
        """Take the channel's next slot, now or later; returns when it is (Redis time)."""
        _, at, _ = self._take(keys=[P + "pace:" + channel], args=[self.slot, "reserve"])
        return float(at)

    def hold(self, channel: str, seconds: float) -> float:
        """Slack said wait (429 Retry-After): nothing goes to the channel before then. Returns that moment."""
        return float(self._hold(keys=[P + "pace:" + channel], args=[seconds]))

    def posted(self, channel: str, ago: float = 0.0) -> None:
        """Slack took a post `ago` seconds ago (its ts): the channel's next slot is at least an interval after
        that, whatever the slot taken at the send time said (a post that took long to arrive pushes it)."""
        if self.interval > 0:
            self.hold(channel, max(0.0, self.interval - ago))

    # -- the lanes -----------------------------------------------------------------------------------------
    def laned(self, members: Sequence[str]) -> list[bool]:
        """Which of these outbox items are already in a lane."""
        if not members:
            return []
        return [bool(x) for x in self.r.hmget(P + "laned", list(members))]

    def add(self, channel: str, items: Sequence[tuple[str, float]]) -> None:
        """Put outbox items (member, outbox score) in a channel's lane, each once, in outbox order."""
        if not items:
            return
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(P + "lane:" + channel, dict(items), nx=True)
        pipe.hset(P + "laned", mapping={m: channel for m, _ in items})
        pipe.sadd(P + "lanes", channel)
        pipe.expire(P + "lane:" + channel, LANE_TTL_S)
        pipe.execute()

    def head(self, channel: str) -> str | None:
        first = self.r.zrange(P + "lane:" + channel, 0, 0)
        return str(first[0]) if first else None

    def drop(self, channel: str, member: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.zrem(P + "lane:" + channel, member)
        pipe.hdel(P + "laned", member)
        pipe.execute()

    def size(self, channel: str) -> int:
        return int(self.r.zcard(P + "lane:" + channel))

    def channels(self) -> list[str]:
        return sorted(self.r.smembers(P + "lanes"))

    def settle(self, channel: str) -> None:
        """An empty lane is no longer run by every flush (until an item joins it again)."""
        self._settle(keys=[P + "lane:" + channel, P + "lanes"], args=[channel])

    # -- the runner's lease ---------------------------------------------------------------------------------
    def lease(self, channel: str, token: str, seconds: float, expected: str = "") -> bool:
        """Take the lane (expected ''), or keep it (expected: the token held so far) for `seconds`."""
        return bool(self._lease(keys=[P + "lease:lane:" + channel], args=[token, max(1, round(seconds)), expected]))

    def release(self, channel: str, token: str) -> None:
        self._release(keys=[P + "lease:lane:" + channel], args=[token])
