"""Ticket lanes keep every channel busy up to Slack's pace: 20 channels at one post a second each.

In-process on the real flows, a real Redis and the Slack stand-in keeping Slack's per-channel limit (429 beyond
it) with a round trip on every call. The test plays a worker with threads: every lane job that comes due runs
at once in a pool, as the threaded worker runs them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from rq.job import Job

from bench import data
from bot.flows import ingest
from tests.flows.faults import ACCOUNT, now, poll_and_post
from tests.harness import make_context

CHANNELS = 20
ROUNDS = 3


def _play_lane_jobs(ctx, timeout: float = 60.0) -> int:
    """Run every scheduled lane job as it comes due, each in a thread of a pool, until the outbox is empty.
    Returns how many lane jobs ran."""
    registry = ctx.queue.bulk.scheduled_job_registry
    conn = ctx.queue.connection
    deadline = time.monotonic() + timeout
    ran = 0
    with ThreadPoolExecutor(max_workers=CHANNELS) as pool:
        running = []
        while ctx.store.pending_posts() or any(not f.done() for f in running):
            assert time.monotonic() < deadline, "the lanes did not drain"
            for raw in conn.zrangebyscore(registry.key, 0, time.time()):
                if not conn.zrem(registry.key, raw):
                    continue
                job = Job.fetch(raw.decode(), connection=conn)
                assert job.func_name == "bot.jobs.post_lane"
                running.append(pool.submit(ingest.run_lane, ctx, job.args[0], now(), job.args[1]))
                ran += 1
            time.sleep(0.005)
        for f in running:
            f.result()
    return ran


def test_twenty_channels_each_get_a_post_every_slot_and_none_idles(redis_url, slack, x):
    depts = data.departments(CHANNELS, 1)
    ctx = make_context(redis_url, slack, x, data.routing_yaml(depts), SLACK_POST_INTERVAL="1")
    slack.rate_limit_per_channel, slack.latency_ms = 1.0, 60
    try:
        for n in range(CHANNELS * ROUNDS):
            x.add_mention(f"@{ACCOUNT} {depts[n % CHANNELS].keywords[0]} 문의 {n // CHANNELS}",
                          username=f"p{n}")
        poll_and_post(ctx, now())
        _play_lane_jobs(ctx)
    finally:
        slack.rate_limit_per_channel, slack.latency_ms = None, 0
    posts = sorted((float(m["ts"]), d.channel, m["text"].rsplit(" ", 1)[-1]) for d in depts
                    for m in slack.messages(d.channel))
    assert slack.throttled == 0, "a post went before its channel's slot"
    per_channel = {d.channel: [r for _, c, r in posts if c == d.channel] for d in depts}
    assert all(rounds == [str(k) for k in range(ROUNDS)] for rounds in per_channel.values()), per_channel
    # No channel idles while the others post: every channel's k-th post comes before any channel's (k+1)-th.
    order = [int(r) for _, _, r in posts]
    assert order == sorted(order), order
