"""SLA timers end to end: second-scale policies through the real worker, RQ's scheduler and `rq cron`.

Timings are read from Slack message timestamps (wall clock) and only ever checked for "not before": a
reminder is never early, a breach never comes before the deadline. Nothing asserts how fast anything is.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.test_spine import ACCOUNT, ticket_in
from tests.harness import ROOT, wait_for

pytestmark = pytest.mark.slow

BASE = (Path(__file__).resolve().parent.parent / "data" / "routing.yaml").read_text(encoding="utf-8")
SECOND_SCALE = BASE.replace(
    'standard: {first_response: 24h, remind: ["50%", "90%"]}',
    'standard: {first_response: 6s, remind: ["50%"], escalate: [{after: 2s, to: managers}]}')
SLOW_REMINDER = BASE.replace('standard: {first_response: 24h, remind: ["50%", "90%"]}',
                             'standard: {first_response: 12s, remind: ["50%"]}')
EARLY = 0.01  # X keeps milliseconds: created_at may read up to 1 ms earlier than the test's clock
assert SECOND_SCALE != BASE and SLOW_REMINDER != BASE


def shown(msg: dict) -> str:
    """Everything in a message, blocks included, as one string to search."""
    return json.dumps(msg, ensure_ascii=False)


def in_thread(slack, msg: dict, mark: str) -> list[dict]:
    return [m for m in slack.thread("C0IPHONE", msg["ts"])[1:] if m.get("text", "").startswith(mark)]


def about(slack, channel: str, tweet_id: str) -> list[dict]:
    return [m for m in slack.messages(channel) if f"/status/{tweet_id}" in m.get("text", "")]


def test_reminder_at_half_time_then_breach_to_leads_and_managers_then_escalation(start_bot, slack, x):
    bot = start_bot(SECOND_SCALE)
    created = datetime.now(UTC)
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 배송이 안 와요", username="waiting", created_at=created)
    msg = ticket_in(slack, "C0IPHONE", "waiting")

    reminder = wait_for(lambda: in_thread(slack, msg, "⏰"), 15, message="a reminder in the thread")[0]
    assert float(reminder["ts"]) >= created.timestamp() + 3 - EARLY, "the 50% reminder came early"
    assert "남았습니다" in reminder["text"]

    breach = wait_for(lambda: in_thread(slack, msg, "🚨"), 15, message="the breach in the thread")[0]
    assert float(breach["ts"]) >= created.timestamp() + 6 - EARLY, "the breach came before the deadline"
    assert "<@U0LEAD>" in breach["text"]
    posted = wait_for(lambda: about(slack, "C0MANAGERS", tweet_id), 10, message="the breach in managers")
    assert posted[0]["text"].startswith("🚨 SLA 위반 · 아이폰 고객센터 · @waiting")
    assert f"https://x.com/waiting/status/{tweet_id}" in posted[0]["text"] and "초과" in posted[0]["text"]
    wait_for(lambda: "· breached" in shown(slack.messages("C0IPHONE")[0]), 10,
             message="the ticket message showing the breach")

    step = wait_for(lambda: [m for m in about(slack, "C0MANAGERS", tweet_id) if m["text"].startswith("📣")],
                    15, message="the escalation step to managers")[0]
    assert float(step["ts"]) >= created.timestamp() + 8 - EARLY
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert len(in_thread(slack, msg, "⏰")) == 1 and len(in_thread(slack, msg, "🚨")) == 1
    assert len(about(slack, "C0MANAGERS", tweet_id)) == 2


def test_an_answered_ticket_stays_quiet_and_the_report_counts_both(start_bot, slack, x):
    bot = start_bot(SECOND_SCALE)
    quiet = x.add_mention(f"@{ACCOUNT} 아이폰 충전기 문의", username="answered")
    late = x.add_mention(f"@{ACCOUNT} 아이폰 액정 문의", username="ignored")
    msg = ticket_in(slack, "C0IPHONE", "answered")
    ticket_in(slack, "C0IPHONE", "ignored")
    slack.user_message("C0IPHONE", "매장에서 교환 가능합니다", user="U0STAFF1", thread_ts=msg["ts"])
    wait_for(lambda: [t for t in x.posted() if t.get("in_reply_to_tweet_id") == quiet], 10,
             message="the answer on X")

    # The unanswered one is past its breach and its escalation step: so is the answered one, written earlier.
    wait_for(lambda: len(about(slack, "C0MANAGERS", late)) == 2, 20, message="the late one's breach and step")
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    ours = [m["text"][:1] for m in slack.thread("C0IPHONE", msg["ts"])[1:] if m.get("bot_id")]
    assert ours == ["✅"], "the bot said nothing but the sent note"
    assert about(slack, "C0MANAGERS", quiet) == []

    out = subprocess.run([sys.executable, "-m", "bot", "report", "--format", "json"], env=bot.env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    iphone = next(d for d in report["departments"] if d["id"] == "iphone")
    assert {k: iphone[k] for k in ("received", "answered", "open", "breached", "sla_met_pct")} == \
        {"received": 2, "answered": 1, "open": 1, "breached": 1, "sla_met_pct": 50.0}
    rows = {r["tweet_id"]: r for r in report["tickets"]}
    assert rows[quiet]["state"] == "answered" and rows[quiet]["breached"] is False
    assert 0 < rows[quiet]["first_response_s"] < 6
    assert iphone["first_response_p50_s"] == pytest.approx(rows[quiet]["first_response_s"], abs=0.05)
    assert rows[late]["state"] == "open" and rows[late]["breached"] is True
    assert rows[late]["first_response_s"] is None


def test_a_reminder_due_while_the_worker_was_down_is_sent_late_and_once(start_bot, slack, x):
    bot = start_bot(SLOW_REMINDER)  # 12s, reminder at 6s
    created = datetime.now(UTC)
    x.add_mention(f"@{ACCOUNT} 아이폰 요금 문의", username="restart", created_at=created)
    msg = ticket_in(slack, "C0IPHONE", "restart")
    bot.kill("worker", signal.SIGTERM)  # a deploy: the only worker, and its scheduler, go away
    time.sleep(max(0.0, created.timestamp() + 7 - time.time()))
    assert in_thread(slack, msg, "⏰") == [], "nothing can remind while no worker runs"

    bot.start("worker")
    reminder = wait_for(lambda: in_thread(slack, msg, "⏰"), 15, message="the late reminder")[0]
    assert float(reminder["ts"]) >= created.timestamp() + 7
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert len(in_thread(slack, msg, "⏰")) == 1
