"""X's limits in Redis: the adaptive poll's schedule, the account's posting budget and the usage-cap pause."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.store.tickets import P

# The poll's turn: due (no schedule, or its time has come) -> held for `lease` seconds by the one who took it.
_TAKE_TURN = """
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < at then return 0 end
redis.call('SET', KEYS[1], tostring(tonumber(ARGV[1]) + tonumber(ARGV[2])))
return 1
"""


# The account's posts over sliding windows, one sorted set per window (score: when). Either every window has room
# and the post is counted in all of them, or nothing is counted and the answer is when the fullest frees a slot.
_TAKE_POST = """
local now, token = tonumber(ARGV[1]), ARGV[2]
local free = 0
for i, key in ipairs(KEYS) do
  local per, most = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - per)
  local count = redis.call('ZCARD', key)
  if count >= most then
    local oldest = redis.call('ZRANGE', key, count - most, count - most, 'WITHSCORES')
    local at = tonumber(oldest[2]) + per
    if at > free then free = at end
  end
end
if free > 0 then return tostring(free) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, token)
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[1 + 2 * i])) + 60)
end
return '0'
"""


def _post_keys(account: str, windows: list[tuple[float, int]]) -> list[str]:
    return [f"{P}x:posts:{account}:{int(per)}" for per, _ in windows]


def _poll_key(account: str) -> str:
    """The adaptive poll's schedule of an account; the first one ("") keeps its key from before."""
    return f"{P}x:poll_next_at:{account}" if account else f"{P}x:poll_next_at"


class XLimitKeys:
    r: Any

    def take_poll_turn(self, now_ts: float, lease_s: float = 60.0, account: str = "") -> bool:
        """True for the one caller whose tick finds the account's adaptive poll due; it then holds it for
        `lease_s` (longer than a poll takes) or until it sets the next poll time."""
        return bool(self.r.eval(_TAKE_TURN, 1, _poll_key(account), now_ts, lease_s))

    def set_next_poll(self, at_ts: float, account: str = "") -> None:
        self.r.set(_poll_key(account), repr(at_ts))

    def next_poll_at(self, account: str = "") -> float:
        return float(self.r.get(_poll_key(account)) or 0)

    # -- the posting budget -----------------------------------------------------------------------------
    def take_post(self, account: str, windows: list[tuple[float, int]], now_ts: float, token: str) -> float:
        """Count one post of the account in every window if each has room under its allowance: 0.0. Otherwise
        nothing is counted and the answer is the moment the fullest window frees a slot."""
        args: list[Any] = [now_ts, token]
        for per, most in windows:
            args += [per, most]
        keys = _post_keys(account, windows)
        return float(self.r.eval(_TAKE_POST, len(keys), *keys, *args))

    def give_back_post(self, account: str, windows: list[tuple[float, int]], token: str) -> None:
        """A counted post X did not take (refused, rate-limited): its slot is free again."""
        pipe = self.r.pipeline(transaction=True)
        for key in _post_keys(account, windows):
            pipe.zrem(key, token)
        pipe.execute()

    def posts_in(self, account: str, windows: list[tuple[float, int]], now_ts: float) -> list[int]:
        """How many posts the account made in each window (for App Home and the summary)."""
        pipe = self.r.pipeline(transaction=False)
        for key, (per, _) in zip(_post_keys(account, windows), windows, strict=True):
            pipe.zcount(key, now_ts - per, "+inf")
        return [int(n) for n in pipe.execute()]

    def hold_reply(self, ticket: str, ts: str, until: float) -> None:
        """A ticket reply waits for the budget: later replies of the same ticket wait behind it."""
        self.r.zadd(P + "x:held:" + ticket, {ts: until})
        self.r.expire(P + "x:held:" + ticket, 86400)

    def unhold_reply(self, ticket: str, ts: str) -> None:
        self.r.zrem(P + "x:held:" + ticket, ts)

    def held_before(self, ticket: str, ts: str, now_ts: float) -> float | None:
        """When the last of this ticket's replies written before `ts` and held by the budget goes, if any is
        (order within a ticket is kept). A hold long past its time (its reply was deleted meanwhile) is ignored."""
        earlier = [float(until) for member, until in self.r.zrange(P + "x:held:" + ticket, 0, -1, withscores=True)
                   if float(member) < float(ts) and float(until) > now_ts - 10]
        return max(earlier) if earlier else None

    # -- X usage (GET /2/usage/tweets, 50 calls per 15 min: cached) and the usage-cap pause -------------------
    def cached_usage(self) -> dict[str, Any] | None:
        raw = self.r.get(P + "x:usage")
        return json.loads(raw) if raw else None

    def cache_usage(self, usage: dict[str, Any], ttl_s: int = 300) -> None:
        self.r.set(P + "x:usage", json.dumps(usage), ex=ttl_s)

    def mark_usage_capped(self) -> bool:
        """True for the first caller after the cap was reached (the one who tells triage)."""
        return bool(self.r.set(P + "x:usage_capped", "1", nx=True, ex=40 * 86400))

    def clear_usage_capped(self) -> bool:
        """True if reads were capped until now (the caller tells triage they are back)."""
        return bool(self.r.delete(P + "x:usage_capped"))
