"""Ingest: a mention becomes a ticket and one Slack post, whatever X and Slack do on the way.

In-process on the real flows (real slack_sdk and tweepy clients, the stand-ins, a real Redis) with an explicit
`now`, so back-off and retry timing are checked without sleeping; crashes are simulated at their worst moment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.flows import ingest, storm, ticket_message
from tests.flows.faults import ACCOUNT, now, poll_and_post
from tests.harness import make_context


@pytest.fixture
def ctx(redis_url, slack, x):
    return make_context(redis_url, slack, x)


def test_x_5xx_while_polling_backs_off_then_loses_no_mention(ctx, slack, x):
    x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="minsu")
    x.fail_next("GET", "/2/users/1000/mentions", 503, count=1)
    t0 = now()
    assert poll_and_post(ctx, t0) == 0
    assert ctx.store.poll_paused_until() == pytest.approx(t0.timestamp() + 15, abs=1)
    assert poll_and_post(ctx, t0 + timedelta(seconds=5)) == 0, "polled during the pause"
    assert poll_and_post(ctx, t0 + timedelta(seconds=16)) == 1
    assert len(slack.messages("C0IPHONE")) == 1


def test_x_rate_limit_while_polling_waits_for_the_reset_and_tells_triage_once(ctx, slack, x):
    t0 = now()
    reset = int(t0.timestamp()) + 120
    x.fail_next("GET", "/2/users/1000/mentions", 429, count=2, headers={"x-rate-limit-reset": str(reset)})
    x.add_mention(f"@{ACCOUNT} 와이브로 문의", username="waiter")
    assert poll_and_post(ctx, t0) == 0
    assert ctx.store.poll_paused_until() >= reset
    assert poll_and_post(ctx, t0 + timedelta(seconds=60)) == 0
    told = [m for m in slack.messages("C0TRIAGE") if "⏸️" in m["text"]]
    assert len(told) == 1
    assert poll_and_post(ctx, datetime.fromtimestamp(reset + 2, UTC)) == 0  # the second 429
    assert poll_and_post(ctx, datetime.fromtimestamp(reset + 200, UTC)) == 1
    assert len([m for m in slack.messages("C0TRIAGE") if "⏸️" in m["text"]]) == 1


def test_x_refusing_our_credentials_pauses_polling_for_long(ctx, slack, x):
    x.fail_next("GET", "/2/users/1000/mentions", 401, count=1)
    t0 = now()
    poll_and_post(ctx, t0)
    assert ctx.store.poll_paused_until() >= t0.timestamp() + 900
    assert any("⏸️" in m["text"] for m in slack.messages("C0TRIAGE"))


def run_scheduled_lanes(ctx, timeout: float = 30.0) -> list[str]:
    """Play the worker for the ticket lanes: run each scheduled lane job when it comes due, until the outbox
    is empty. Returns the channels in the order their lane jobs ran."""
    import time

    from rq.job import Job

    ran = []
    registry = ctx.queue.bulk.scheduled_job_registry
    deadline = time.monotonic() + timeout
    while ctx.store.pending_posts():
        assert time.monotonic() < deadline, "the lanes did not drain"
        due = ctx.queue.connection.zrangebyscore(registry.key, 0, time.time())
        for job_id in due:
            job = Job.fetch(job_id.decode(), connection=ctx.queue.connection)
            ctx.queue.connection.zrem(registry.key, job.id)
            assert job.func_name == "bot.jobs.post_lane"
            ran.append(job.args[0])
            ingest.run_lane(ctx, job.args[0], now(), job.args[1])
        time.sleep(0.02)
    return ran


def test_slack_rate_limit_in_one_channel_drops_nothing(ctx, slack, x):
    slack.rate_limit_per_channel = 1.0
    try:
        for i in range(4):
            x.add_mention(f"@{ACCOUNT} 아이폰 문의 {i}", username=f"burst{i}")
        poll_and_post(ctx, now())
        assert len(slack.messages("C0IPHONE")) == 1, "the first goes at once, the rest wait for their slot"
        run_scheduled_lanes(ctx)
    finally:
        slack.rate_limit_per_channel = None
    posts = slack.messages("C0IPHONE")
    assert [p["text"].rsplit(" ", 1)[-1] for p in posts] == ["0", "1", "2", "3"], "in the order they came"


def test_a_rate_limited_channel_does_not_hold_up_another_channels_tickets(ctx, slack, x):
    """Slack paces each channel: while #iphone waits out its 429s, the WiBro ticket goes straight through."""
    slack.rate_limit_per_channel = 1.0
    try:
        for i in range(3):
            x.add_mention(f"@{ACCOUNT} 아이폰 문의 {i}", username=f"burst{i}")
        x.add_mention(f"@{ACCOUNT} 와이브로 문의", username="wibro")
        poll_and_post(ctx, now())
        run_scheduled_lanes(ctx)
    finally:
        slack.rate_limit_per_channel = None
    iphone = [float(m["ts"]) for m in slack.messages("C0IPHONE")]
    wibro = [float(m["ts"]) for m in slack.messages("C0WIBRO")]
    assert len(iphone) == 3 and len(wibro) == 1
    assert wibro[0] < sorted(iphone)[1], "the WiBro ticket waited behind #iphone's rate limit"


def test_a_channel_at_its_pace_is_posted_by_rescheduled_jobs_that_never_wait(redis_url, slack, x):
    """With the bot's own pace (a slot a second per channel), a flush posts one ticket per channel and leaves
    the rest to lane jobs scheduled for each channel's next slot: no job sleeps for Slack."""
    import time

    ctx = make_context(redis_url, slack, x, SLACK_POST_INTERVAL="1")
    for i in range(3):
        x.add_mention(f"@{ACCOUNT} 아이폰 문의 {i}", username=f"paced{i}")
    started = time.monotonic()
    poll_and_post(ctx, now())
    assert time.monotonic() - started < 1.0, "the flush waited for Slack"
    assert len(slack.messages("C0IPHONE")) == 1
    assert ctx.queue.bulk.scheduled_job_registry.count == 1, "one lane job, for the channel's next slot"
    assert run_scheduled_lanes(ctx) == ["C0IPHONE", "C0IPHONE"]
    stamps = [float(m["ts"]) for m in slack.messages("C0IPHONE")]
    assert len(stamps) == 3 and all(b - a >= 0.95 for a, b in zip(stamps, stamps[1:], strict=False))


def test_slack_5xx_after_taking_a_post_is_not_posted_twice(ctx, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="minsu")
    slack.fail_next("chat.postMessage", status=500, count=1, after=True)
    t0 = now()
    poll_and_post(ctx, t0)
    assert ctx.store.pending_posts() == [tweet_id], "the ticket must stay in the outbox"
    ingest.flush_outbox(ctx, t0 + timedelta(seconds=15))
    assert len(slack.messages("C0IPHONE")) == 1
    assert ctx.store.pending_posts() == [] and ctx.store.ticket(tweet_id).message_ts


@pytest.fixture
def storm_ctx(redis_url, slack, x):
    """A context with storm mode on and an operator's storm declared for WiBro."""
    routing = open("tests/data/routing.yaml", encoding="utf-8").read() + \
        "storm: {threshold: 50, window: 10m, quiet: 10m, pace: 0s}\n"
    ctx = make_context(redis_url, slack, x, routing)
    storm.declare(ctx, "wibro", "기지국 장애", now(), by="U0OPS1")
    return ctx


def test_slack_5xx_after_taking_a_storm_header_is_not_posted_twice(storm_ctx, slack, x):
    ctx, t0 = storm_ctx, now()
    for i in range(3):
        x.add_mention(f"@{ACCOUNT} 와이브로 안 돼요 {i}", username=f"storm{i}")
    slack.fail_next("chat.postMessage", status=500, count=1, after=True)  # Slack took the header; the answer lost
    poll_and_post(ctx, t0)
    assert len(ctx.store.pending_posts()) == 3, "the members wait in the outbox"
    ingest.flush_outbox(ctx, t0 + timedelta(seconds=15))
    headers = [m for m in slack.messages("C0WIBRO") if "🌩️" in m.get("text", "")]
    assert len(headers) == 1 and len(slack.messages("C0WIBRO")) == 1
    assert ctx.store.pending_posts() == []
    assert sum(m["text"].count("• <https://x.com/storm") for m in slack.thread("C0WIBRO", headers[0]["ts"])) == 3


def test_slack_5xx_after_taking_storm_lines_shows_each_member_once(storm_ctx, slack, x):
    ctx, t0 = storm_ctx, now()
    x.add_mention(f"@{ACCOUNT} 와이브로 안 돼요", username="first")
    poll_and_post(ctx, t0)  # the header and its first line
    for i in range(3):
        x.add_mention(f"@{ACCOUNT} 와이브로 먹통 {i}", username=f"later{i}")
    slack.fail_next("chat.postMessage", status=500, count=1, after=True)  # Slack took the lines; answer lost
    poll_and_post(ctx, t0 + timedelta(seconds=5))
    assert len(ctx.store.pending_posts()) == 3, "the three wait in the outbox"
    ingest.flush_outbox(ctx, t0 + timedelta(seconds=15))
    assert ctx.store.pending_posts() == []
    (header,) = slack.messages("C0WIBRO")
    lines = "\n".join(m["text"] for m in slack.thread("C0WIBRO", header["ts"]))
    assert [lines.count(f"|@{name}>") for name in ("first", "later0", "later1", "later2")] == [1, 1, 1, 1]


def test_a_missing_channel_sends_the_ticket_to_triage_with_a_warning(redis_url, slack, x):
    routing = open("tests/data/routing.yaml", encoding="utf-8").read().replace("C0WIBRO", "C0GONE")
    ctx = make_context(redis_url, slack, x, routing)
    slack.fail_next("chat.postMessage", error="channel_not_found", count=1)
    tweet_id = x.add_mention(f"@{ACCOUNT} 와이브로 문의", username="minsu")
    poll_and_post(ctx, now())
    triage = slack.messages("C0TRIAGE")
    assert len(triage) == 1 and "channel_not_found" in triage[0]["text"]
    assert ctx.store.ticket(tweet_id).channel == "C0TRIAGE"


def test_a_worker_dying_after_slack_took_the_post_posts_nothing_twice(ctx, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="minsu")
    t0 = now()
    ingest.poll(ctx, t0)
    ctx.store.post_attempt(tweet_id)  # the first attempt ...
    text, blocks = ticket_message.render(ctx, ctx.store.ticket(tweet_id))
    ctx.slack.post("C0IPHONE", text, blocks, metadata={"event_type": "escalator_ticket",
                                                        "event_payload": {"tweet_id": tweet_id}})
    # ... reached Slack, and the worker died before recording it. The sweeper comes by:
    ingest.flush_outbox(ctx, t0 + timedelta(seconds=40))
    assert len(slack.messages("C0IPHONE")) == 1
    assert ctx.store.ticket(tweet_id).message_ts == slack.messages("C0IPHONE")[0]["ts"]


def test_overlapping_polls_post_each_mention_once(ctx, slack, x):
    import threading

    for i in range(20):
        x.add_mention(f"@{ACCOUNT} 아이폰 문의 {i}", username=f"user{i}")
    ctx.store.release("poll")
    t0 = now()
    other = make_context(ctx.settings.redis_url, slack, x)
    threads = [threading.Thread(target=poll_and_post, args=(c, t0)) for c in (ctx, other, ctx)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    poll_and_post(ctx, t0 + timedelta(seconds=1))
    posts = slack.messages("C0IPHONE")
    assert len(posts) == 20
    assert len({p["text"] for p in posts}) == 20


def test_a_poll_that_dies_mid_page_skips_nothing_and_doubles_nothing(ctx, slack, x):
    for i in range(150):  # two pages of 100
        x.add_mention(f"@{ACCOUNT} 아이폰 문의 {i}", username=f"page{i}")
    t0 = now()
    user_id, _ = ctx.account()
    first_page = next(ctx.x.mention_pages(user_id, ctx.store.since_id()))
    ingest.store_mentions(ctx, first_page.mentions, t0)  # stored, then the worker died: cursor not moved
    assert ctx.store.since_id() is None
    poll_and_post(ctx, t0 + timedelta(seconds=1))
    posts = slack.messages("C0IPHONE")
    assert len(posts) == 150 and len({p["text"] for p in posts}) == 150
    assert ctx.store.since_id() == max((m.id for m in first_page.mentions), key=int)
