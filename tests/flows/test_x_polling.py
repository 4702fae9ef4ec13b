"""Adaptive polling (issue 13), in-process over a simulated hour: the real poll flow, a real Redis, the X stand-in
enforcing X's per-endpoint windows on the same simulated clock. A cron tick every simulated second; the bot polls
when the schedule it set from X's x-rate-limit-* headers says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.flows import ingest
from tests.harness import make_context

T0 = 1_800_000_000.0  # a simulated start (2027-01-15), whole seconds


@pytest.fixture
def ctx(redis_url, slack, x):
    return make_context(redis_url, slack, x)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def run(ctx, x, seconds: int, clock: Clock, on_tick=None) -> list[float]:
    """One cron tick per simulated second; the moments a poll read the mentions."""
    polls = []
    for _ in range(seconds):
        now = datetime.fromtimestamp(clock.now, UTC)
        if ingest.poll_if_due(ctx, now):
            polls.append(clock.now)
            ingest.flush_outbox(ctx, now)
        if on_tick:
            on_tick(clock.now)
        clock.now += 1
    return polls


def mention_reads(x) -> int:
    return sum(1 for r in x.requests if r["path"].endswith("/mentions"))


def test_adaptive_polling_uses_two_thirds_of_the_window_and_never_draws_a_429(ctx, slack, x):
    clock = Clock()
    x.clock = clock  # the stand-in's windows count on the simulated clock
    shown: list[float] = []
    said = {}

    def customer(now: float) -> None:  # a customer tweets every 97 s; when does Slack show it?
        if int(now - T0) % 97 == 50:
            said[x.add_mention(f"아이폰 문의 {int(now)}", username=f"c{int(now)}")] = now
        for tweet_id, at in list(said.items()):
            ticket = ctx.store.ticket(tweet_id)
            if ticket and ticket.message_ts:
                shown.append(now - at)
                del said[tweet_id]

    polls = run(ctx, x, 3600, clock, customer)
    assert x.limits.throttled == 0, "no 429 in steady state"
    # 450 per 15 min per app, a third kept: 300 per window, four windows in the hour.
    assert 4 * 250 <= len(polls) <= 4 * 300
    assert mention_reads(x) == len(polls)
    assert shown and max(shown) <= 5, f"every tweet was in Slack within one poll interval: {max(shown)} s"


def test_a_tighter_tier_slows_the_polls_down_by_itself(ctx, slack, x):
    clock = Clock()
    x.clock = clock
    x.set_limit("GET", "/2/users/{id}/mentions", 10)  # Basic: 10 per 15 min
    polls = run(ctx, x, 3600, clock)
    assert x.limits.throttled == 0, "no 429 once the bot has seen the tighter window"
    assert 4 * 5 <= len(polls) <= 4 * 7, "two thirds of 10 per window, four windows"
    gaps = [b - a for a, b in zip(polls[5:], polls[6:], strict=False)]
    assert min(gaps) >= 100, "a poll every ~150 s, not every 3 s"


def test_a_tier_tightened_while_running_is_followed(ctx, slack, x):
    clock = Clock()
    x.clock = clock
    fast = run(ctx, x, 60, clock)
    assert len(fast) >= 15, "pay-per-use: about every 3 s"
    x.set_limit("GET", "/2/users/{id}/mentions", 10)
    slow = run(ctx, x, 1800, clock)
    assert len(slow) <= 2 * 7 + 1 and x.limits.throttled == 0
