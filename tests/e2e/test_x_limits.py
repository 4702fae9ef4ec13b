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


BUDGET = ROUTING + """
storm: {threshold: 20, window: 10m, quiet: 10m, pace: 0s}
x: {post_limits: [{per: 40s, max: 60}], reserve: 15}
"""
MEMBERS = 50


def test_a_broadcast_waits_for_the_budget_while_ticket_replies_keep_flowing(start_bot, slack, x):
    """The issue's 500 members under 300 posts per 3 hours, scaled down in size and time alike: 50 members under
    60 posts per 40 s with 15 kept for tickets. The broadcast takes its 45, shows when the rest go and resumes by
    itself; ten ticket replies written meanwhile go at once from the reserve."""
    x.set_post_windows([(40, 60)])  # X enforces the same window
    bot = start_bot(BUDGET)
    tickets = [x.add_mention(f"아이폰 문의 {i}", username=f"calm{i}") for i in range(10)]
    wait_for(lambda: len(slack.messages("C0IPHONE")) == 10, 30, message="ten ordinary tickets")
    burst = [x.add_mention(f"와이브로 또 먹통이에요 ({i})", username=f"angry{i:02d}") for i in range(MEMBERS)]
    header = wait_for(lambda: next((m for m in slack.messages("C0WIBRO") if "🌩️" in m.get("text", "")), None),
                      60, message="the storm thread")
    wait_for(lambda: sum(m.get("text", "").count("• <https://x.com/angry")
                         for m in slack.thread("C0WIBRO", header["ts"])) == MEMBERS, 60, message="all members shown")
    slack.user_message("C0WIBRO", "복구 중입니다. 죄송합니다.", user="U0STAFF1", thread_ts=header["ts"])
    ask = wait_for(lambda: next((m for m in slack.thread("C0WIBRO", header["ts"]) if "📣" in m.get("text", "")),
                                None), 15, message="the confirmation step")
    slack.block_action("U0STAFF1", "C0WIBRO", ask["ts"], "storm_send")

    eta = wait_for(lambda: next((m for m in slack.thread("C0WIBRO", header["ts"]) if "⏳" in m.get("text", "")),
                                None), 30, message="the broadcast's progress with its ETA")
    assert f"{MEMBERS}명 중 45명에게 보냈습니다" in eta["text"] and "부터 보냅니다" in eta["text"]
    assert len(x.posted()) == 45, "only what lies above the reserve"

    written = {}
    for tweet_id in tickets:
        msg = next(m for m in slack.messages("C0IPHONE") if tweet_id in str(m.get("blocks")))
        slack.user_message("C0IPHONE", f"확인해 드렸습니다 ({tweet_id})", user="U0STAFF1", thread_ts=msg["ts"])
        written[tweet_id] = time.monotonic()
    wait_for(lambda: {p["in_reply_to_tweet_id"] for p in x.posted()} >= set(tickets), 20,
             message="every ticket reply on X within its hold (0 s) plus a few seconds")
    broadcast_left = {p["in_reply_to_tweet_id"] for p in x.posted()} & set(burst)
    assert len(broadcast_left) == 45, "the broadcast still waits for its budget"

    wait_for(lambda: len({p["in_reply_to_tweet_id"] for p in x.posted()} & set(burst)) == MEMBERS, 90, 0.5,
             message="the broadcast resumed by itself and finished")
    wait_for(lambda: any("✅" in m.get("text", "") and f"{MEMBERS}/{MEMBERS}" in m.get("text", "")
                         for m in slack.thread("C0WIBRO", header["ts"])), 15, message="the progress at 50/50")
    bot.settle(timeout=60)
    assert len(x.posted()) == MEMBERS + 10, "nothing dropped, nothing twice"
    assert x.limits.throttled == 0, "X never had to refuse: the bot kept within its windows"
