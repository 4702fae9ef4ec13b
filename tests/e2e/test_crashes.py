"""Crashes with real processes: SIGKILL mid-ingest, a Redis restart, and secrets kept out of every log."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from bot.embedded_redis import start_redis
from tests.e2e.test_spine import ACCOUNT, replies_on_x, ticket_in
from tests.harness import Bot, wait_for

pytestmark = pytest.mark.slow
ROUTING = Path(__file__).resolve().parent.parent / "data" / "routing.yaml"


def test_worker_killed_mid_ingest_posts_every_mention_exactly_once(start_bot, slack, x):
    slack.rate_limit_per_channel = 2.0  # Slack's pace makes the ingest slow enough to kill it midway
    try:
        bot = start_bot()
        for i in range(12):
            x.add_mention(f"@{ACCOUNT} 아이폰 문의 {i}", username=f"crash{i}")
        wait_for(lambda: len(slack.messages("C0IPHONE")) >= 3, 20, message="the first posts")
        bot.kill("worker", signal.SIGKILL)
        posted_at_kill = len(slack.messages("C0IPHONE"))
        assert posted_at_kill < 12, "the ingest finished before the kill; the test proves nothing"
        bot.start("worker")
        wait_for(lambda: len(slack.messages("C0IPHONE")) == 12, 60, message="all twelve posts after the restart")
        bot.settle()  # drained: no post is still on its way
    finally:
        slack.rate_limit_per_channel = None
    texts = [m["text"] for m in slack.messages("C0IPHONE")]
    assert len(texts) == len(set(texts)) == 12


def test_redis_restart_with_aof_loses_no_ticket_cursor_or_pending_reply(tmp_path, slack, x):
    data = tmp_path / "redis"
    own = start_redis(data, aof=True)
    routing = ROUTING.read_text(encoding="utf-8").replace("hold: 0s", "hold: 4s")
    bot = Bot(tmp_path, own.url, slack, x, routing).start()
    try:
        tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="durable")
        msg = ticket_in(slack, "C0IPHONE", "durable")
        slack.user_message("C0IPHONE", "재시작 후에도 가야 할 답변", user="U0STAFF1", thread_ts=msg["ts"])
        wait_for(lambda: any("⏳" in m.get("text", "") for m in slack.thread("C0IPHONE", msg["ts"])), 10)
        time.sleep(1.2)  # appendfsync everysec
        own.process.send_signal(signal.SIGKILL)
        own.process.wait(10)
        own = start_redis(data, port=own.port, aof=True)
        sent = wait_for(lambda: replies_on_x(x, tweet_id), 60, message="the pending reply after the restart")
        assert [t["text"] for t in sent] == ["재시작 후에도 가야 할 답변"]
        x.add_mention(f"@{ACCOUNT} 와이브로 문의", username="after")
        ticket_in(slack, "C0WIBRO", "after")
        bot.settle(x, polls=2)  # two more polls, then drained: an old mention would have come again
        assert len(slack.messages("C0IPHONE")) == 1, "the cursor was lost: old mentions came again"
        assert len(replies_on_x(x, tweet_id)) == 1
    finally:
        bot.stop()
        print(bot.logs())
        own.stop()


def test_secrets_never_reach_a_log(start_bot, slack, x):
    secrets = {"X_API_KEY": "ck-SECRET-1a2b3c", "X_API_SECRET": "cs-SECRET-4d5e6f",
               "X_ACCESS_TOKEN": "at-SECRET-7g8h9i", "X_ACCESS_TOKEN_SECRET": "ats-SECRET-0j1k2l",
               "X_BEARER_TOKEN": "bearer-SECRET-3m4n5o", "LOG_LEVEL": "DEBUG"}
    bot = start_bot(ROUTING, secrets)
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="leak")
    msg = ticket_in(slack, "C0IPHONE", "leak")
    x.fail_next("POST", "/2/tweets", 401, count=1)
    slack.user_message("C0IPHONE", "답변", user="U0STAFF1", thread_ts=msg["ts"])
    wait_for(lambda: any("❌" in m.get("text", "") for m in slack.thread("C0IPHONE", msg["ts"])), 30)
    assert replies_on_x(x, tweet_id) == []
    logs = bot.logs() + "".join(m.get("text", "") for c in ("C0TRIAGE", "C0IPHONE") for m in slack.messages(c))
    for name, value in secrets.items():
        if name != "LOG_LEVEL":
            assert value not in logs, f"{name} appears in a log or a Slack message"
    assert slack.signing_secret not in logs and slack.bot_token not in logs
    assert os.environ.get("X_API_KEY") != secrets["X_API_KEY"]
