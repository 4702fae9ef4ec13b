"""X's limits as numbers: when to poll next from a rate-limit window, and what a posting budget allows.

Pure: every function takes `now` (epoch seconds) and returns a decision; the Redis counting lives in
bot/adapters/store/xlimits.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HEADROOM = 1 / 3  # of every rate-limit window, kept for /escalate lookups and other reads
MIN_POLL_S = 1.0  # the cron tick: no sooner than this
FIRST_POLL_S = 1.0  # before X has told us its window (no headers yet)


@dataclass(frozen=True)
class RateWindow:
    """X's x-rate-limit-limit, -remaining and -reset (epoch seconds) for one endpoint, as last answered."""

    limit: int
    remaining: int
    reset_at: float


def next_poll_at(window: RateWindow | None, now: float, headroom: float = HEADROOM) -> float:
    """The moment of the next mentions poll: the requests left in this window above the headroom, spread
    evenly over the time the window has left; none left, the window's reset. Never sooner than MIN_POLL_S.

    At pay-per-use (450 per 15 min per app) that is a poll every 3 s; at Basic (10 per 15 min), every 150 s."""
    if window is None:
        return now + FIRST_POLL_S
    keep = math.ceil(window.limit * headroom)
    usable = window.remaining - keep
    left = max(0.0, window.reset_at - now)
    if usable <= 0 or left <= 0:
        return max(now + MIN_POLL_S, window.reset_at + 1.0)
    return now + max(MIN_POLL_S, left / usable)


def allowances(limits: Sequence[tuple[float, int]], reserve: int, tickets: bool) -> list[tuple[float, int]]:
    """Each posting window (seconds, posts) as one kind of sender may use it. Ticket replies use all of it; a storm
    broadcast only what lies above the reserve: `reserve` in the longest window, pro rata in the shorter ones
    (with 100 per 15 min and 300 per 3 h, a reserve of 50 keeps 17 per 15 min and 50 per 3 h for tickets)."""
    if tickets or not limits:
        return list(limits)
    longest = max(limits, key=lambda w: w[0])[1]
    return [(per, max(1, most - math.ceil(reserve * most / longest))) for per, most in limits]


@dataclass(frozen=True)
class XUsage:
    """GET /2/usage/tweets: posts read today and this billing cycle, against the project's cap."""

    today: int
    cycle: int
    cap: int
    reset_in_days: int | None = None

    @property
    def capped(self) -> bool:
        return self.cap > 0 and self.cycle >= self.cap
