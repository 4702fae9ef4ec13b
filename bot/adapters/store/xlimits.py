"""X's limits in Redis: the adaptive poll's schedule, the account's posting budget and the usage-cap pause."""

from __future__ import annotations

from typing import Any

from bot.adapters.store.tickets import P

# The poll's turn: due (no schedule, or its time has come) -> held for `lease` seconds by the one who took it.
_TAKE_TURN = """
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < at then return 0 end
redis.call('SET', KEYS[1], tostring(tonumber(ARGV[1]) + tonumber(ARGV[2])))
return 1
"""


class XLimitKeys:
    r: Any

    def take_poll_turn(self, now_ts: float, lease_s: float = 60.0) -> bool:
        """True for the one caller whose tick finds the adaptive poll due; it then holds it for `lease_s`
        (longer than a poll takes) or until it sets the next poll time."""
        return bool(self.r.eval(_TAKE_TURN, 1, P + "x:poll_next_at", now_ts, lease_s))

    def set_next_poll(self, at_ts: float) -> None:
        self.r.set(P + "x:poll_next_at", repr(at_ts))

    def next_poll_at(self) -> float:
        return float(self.r.get(P + "x:poll_next_at") or 0)
