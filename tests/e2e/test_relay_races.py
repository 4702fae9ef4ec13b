"""Relay races and crashes with real processes: sends held open at the X stand-in while another worker acts.

Issue 11 finding 4 (an edit racing a send on another worker) and issue 12 finding 2 (a dead worker's in-flight
reply is resumed within 30 s, judged by the worker's liveness; a live worker's slow X call is never taken over).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.test_spine import ACCOUNT, replies_on_x, ticket_in
from tests.harness import wait_for

pytestmark = pytest.mark.slow
ROUTING = Path(__file__).resolve().parent.parent / "data" / "routing.yaml"
RESUME_BOUND_S = 30  # issue 12: a dead worker's reply goes on within this
MARGIN_S = 25  # a worker restart (imports, connecting) and a loaded CI machine


def _notes(slack, msg: dict) -> list[str]:
    return [m.get("text", "") for m in slack.thread("C0IPHONE", msg["ts"]) if "✅" in m.get("text", "")]


def _posts_to_x(x) -> int:
    return sum(1 for r in x.requests if r["method"] == "POST" and r["path"] == "/2/tweets")


def test_a_dead_workers_reply_is_resumed_within_the_bound_and_reaches_x_once(start_bot, slack, x):
    bot = start_bot()
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="waiting")
    msg = ticket_in(slack, "C0IPHONE", "waiting")
    arrived, release = x.hold_next("POST", "/2/tweets")
    slack.user_message("C0IPHONE", "기다리시던 답변입니다", user="U0STAFF1", thread_ts=msg["ts"])
    assert arrived.wait(20), "the send never reached X"
    bot.kill("worker", signal.SIGKILL)
    killed_at = time.monotonic()
    release.set()  # X takes the tweet its dead client asked for; nobody hears the answer
    wait_for(lambda: replies_on_x(x, tweet_id), 10, message="X taking the held tweet")
    bot.start("worker")
    note = wait_for(lambda: _notes(slack, msg), RESUME_BOUND_S + MARGIN_S,
                    message="the resumed reply's ✅ note (main: ~100 s of silence)")
    resumed_in = time.monotonic() - killed_at
    (tweet,) = replies_on_x(x, tweet_id)
    assert tweet["text"] == "기다리시던 답변입니다"
    assert len(note) == 1 and tweet["id"] in note[0], "one note, linking the tweet X shows"
    wait_for(lambda: "sweep" in bot.log("worker"), 30, message="a sweep after the resumption")
    assert len(replies_on_x(x, tweet_id)) == 1 and len(_notes(slack, msg)) == 1
    print(f"resumed {resumed_in:.1f} s after the SIGKILL (bound {RESUME_BOUND_S} s + restart)")


def test_a_live_workers_slow_x_call_is_never_taken_over(start_bot, slack, x):
    """X answers after the claim's lifetime has passed twice over, on a live worker: sweeps in between see its
    renewed claim and leave it alone. The hold stays under X's 20 s read timeout (past it the worker itself
    retries, a different case), and the sweeps are enqueued at chosen moments instead of waiting for cron's."""
    from redis import Redis
    from rq import Queue

    from bot.adapters.jobqueue import BULK
    from bot.adapters.store.relays import CLAIM_TTL_S

    bot = start_bot()
    bot.start_command("worker2", bot.commands["worker"])  # free to run the sweeps while worker 1 waits on X
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="patient")
    msg = ticket_in(slack, "C0IPHONE", "patient")
    arrived, release = x.hold_next("POST", "/2/tweets")
    slack.user_message("C0IPHONE", "천천히 가는 답변", user="U0STAFF1", thread_ts=msg["ts"])
    assert arrived.wait(20)
    held_at = time.monotonic()
    bulk = Queue(BULK, connection=Redis.from_url(bot.env["REDIS_URL"]))
    swept = []
    for at in (CLAIM_TTL_S + 1, CLAIM_TTL_S + 4):  # each past the first claim's lifetime
        wait_for(lambda at=at: time.monotonic() - held_at >= at, 20, 0.1, message=f"{at} s of X being slow")
        job = bulk.enqueue("bot.jobs.sweep")
        wait_for(lambda job=job: job.get_status(refresh=True) in ("finished", "failed"), 8, 0.1,
                 message="a sweep on the free worker")
        swept.append(job.get_status())
    release.set()
    wait_for(lambda: _notes(slack, msg), 20, message="the ✅ note")
    bot.settle()
    assert swept == ["finished", "finished"]
    assert _posts_to_x(x) == 1, "a sweeper took over a live worker's send"
    assert len(replies_on_x(x, tweet_id)) == 1 and len(_notes(slack, msg)) == 1
    bot.kill("worker2")


def test_an_edit_on_another_worker_while_the_send_is_held_changes_nothing(start_bot, slack, x):
    routing = ROUTING.read_text(encoding="utf-8").replace("hold: 0s", "hold: 2s")
    bot = start_bot(routing)
    bot.start_command("worker2", bot.commands["worker"])
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="raced")
    msg = ticket_in(slack, "C0IPHONE", "raced")
    arrived, release = x.hold_next("POST", "/2/tweets")
    reply = slack.user_message("C0IPHONE", "원래 답변", user="U0STAFF1", thread_ts=msg["ts"])
    assert arrived.wait(20), "the send never reached X"
    slack.edit_message("C0IPHONE", reply.ts, "고친 답변")
    wait_for(lambda: any("⚠️" in m.get("text", "") for m in slack.thread("C0IPHONE", msg["ts"])), 20,
             message="the author told the edit is not sent (handled by the other worker)")
    release.set()
    wait_for(lambda: _notes(slack, msg), 20, message="the ✅ note")
    before = (bot.log("worker") + bot.log("worker2")).count("bot.jobs.sweep()")
    wait_for(lambda: (bot.log("worker") + bot.log("worker2")).count("bot.jobs.sweep()") >= before + 2, 60, 0.5,
             message="two sweeps after the send")
    assert [t["text"] for t in replies_on_x(x, tweet_id)] == ["원래 답변"]
    assert len(_notes(slack, msg)) == 1
    bot.kill("worker2")
