"""X at its real limits (issue 13), end to end: the real Procfile processes with X_POLL_SECONDS unset (adaptive
polling on rq cron's one-second tick), against the X stand-in enforcing X's windows and headers."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_spine import ticket_in
from tests.harness import ROOT, wait_for

pytestmark = pytest.mark.slow
ROUTING = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")
ADAPTIVE = {"X_POLL_SECONDS": ""}


def mention_reads(x) -> list[dict]:
    return [r for r in list(x.requests) if r["path"].endswith("/mentions")]


def test_adaptive_polling_brings_a_tweet_to_slack_in_seconds_and_follows_a_tightened_window(start_bot, slack, x):
    start_bot(ROUTING, ADAPTIVE)
    wait_for(lambda: len(mention_reads(x)) >= 3, 30, message="the first adaptive polls")
    x.add_mention("아이폰 화면이 안 켜져요", username="fast_one")
    said = time.monotonic()
    ticket_in(slack, "C0IPHONE", "fast_one")
    assert time.monotonic() - said < 10, "pay-per-use allows a poll every ~3 s (generous margin)"

    # The tier tightens to 10 reads per 30 s: the bot reads the new window from X's headers and slows down.
    x.set_limit("GET", "/2/users/{id}/mentions", 10, window_s=30)
    before = len(mention_reads(x))
    wait_for(lambda: len(mention_reads(x)) >= before + 8, 90, message="polls under the tighter window")
    x.add_mention("아이폰 배터리 문의", username="slow_one")
    ticket_in(slack, "C0IPHONE", "slow_one")
    assert x.limits.throttled == 0, "never a 429: two thirds of each window, then wait for its reset"
