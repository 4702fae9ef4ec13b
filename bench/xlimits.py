"""Figure: tweet -> Slack with adaptive polling (X_POLL_SECONDS unset) against the X stand-in enforcing X's
pay-per-use limits (mentions: 450 per 15 min per app, headers and 429s as X sends them), and 429s over an hour.

Two measurements:
- live: the real Procfile processes; customers tweet at random moments for `seconds`; each tweet's latency is
  its Slack ts (wall clock, set by the stand-in when the bot posts) minus the moment it was added on X.
- simulated hour: the real poll flow in process on the same Redis and stand-in, one cron tick per simulated
  second, the stand-in's rate-limit clock simulated too (an hour takes a few seconds); counts polls and 429s at
  pay-per-use and at Basic's 10 per 15 min, and the simulated tweet -> Slack delay (a tick's granularity, no
  processing time).
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import data
from bench.stack import Stack, wait_for


class _None:
    message_ts = None


_NONE = _None()


@dataclass(frozen=True)
class LiveResult:
    tweets: int
    shown: int
    p50_s: float
    p99_s: float
    polls_per_min: float
    throttled: int


@dataclass(frozen=True)
class HourResult:
    limit: int
    polls: int
    throttled: int
    p50_s: float
    p99_s: float


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def live(tmp: Path, seconds: float, tweets: int, seed: int = 13) -> LiveResult:
    depts = data.departments(4, 4)
    stack = Stack(tmp, data.routing_yaml(depts, hold="0s"), env={"SLACK_POST_INTERVAL": "0", "X_POLL_SECONDS": ""})
    stack.x.enforce_limits = True  # X's own limits this time: the bot must keep within them by itself
    channels = {d.channel for d in depts} | {"C0TRIAGE"}
    rng = random.Random(seed)
    texts = data.mention_texts(depts, tweets, seed=seed)
    try:
        stack.start()
        wait_for(lambda: len(stack.x.polls) >= 2, 60, 0.05, "the first adaptive polls")
        polls_before, started = len(stack.x.polls), time.time()
        added: dict[str, float] = {}
        moments = sorted(rng.uniform(0, seconds) for _ in range(tweets))
        for n, at in enumerate(moments):
            time.sleep(max(0.0, started + at - time.time()))
            added[stack.x.add_mention(texts[n], username=f"live{n}")] = time.time()
        wait_for(lambda: len(_shown(stack, channels, set(added))) == len(added), 60, 0.1, "every tweet in Slack")
        elapsed = time.time() - started
        shown = _shown(stack, channels, set(added))
        delays = [shown[i] - added[i] for i in shown]
        return LiveResult(tweets, len(shown), statistics.median(delays), _pct(delays, 0.99),
                          60 * (len(stack.x.polls) - polls_before) / elapsed, stack.x.limits.throttled)
    finally:
        stack.stop()


def _shown(stack: Stack, channels: set[str], ids: set[str]) -> dict[str, float]:
    found = {}
    for channel in channels:
        for message in stack.slack.messages(channel):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("tweet_id") in ids:
                found[payload["tweet_id"]] = float(message["ts"])
    return found


def simulated_hour(stack: Stack, limit: int | None, seconds: int = 3600, seed: int = 17) -> HourResult:
    """One simulated hour of cron ticks against the stand-in on a simulated clock; a tweet every ~40 s."""
    import redis

    from bot.context import Context
    from bot.flows import ingest
    from bot.routing import parse_routing
    from bot.settings import load_settings

    redis.Redis.from_url(stack.redis.url).flushall()
    stack.x.reset()
    clock = [1_800_000_000.0]
    stack.x.clock = lambda: clock[0]
    stack.x.enforce_limits = True
    if limit:
        stack.x.set_limit("GET", "/2/users/{id}/mentions", limit)
    settings = load_settings({**stack.env, "X_POLL_SECONDS": ""})
    ctx = Context(settings=settings, routing=parse_routing(stack.routing_file.read_text(encoding="utf-8")),
                  redis=redis.Redis.from_url(stack.redis.url, decode_responses=True))
    rng = random.Random(seed)
    arrivals = sorted(rng.uniform(0, seconds) for _ in range(seconds // 40))
    waiting: dict[str, float] = {}
    delays: list[float] = []
    polls = 0
    try:
        for tick in range(seconds):
            while arrivals and arrivals[0] <= tick:
                waiting[stack.x.add_mention("아이폰 문의 시뮬레이션", username=f"sim{len(delays) + len(waiting)}")] \
                    = clock[0] - (tick - arrivals.pop(0))
            now = datetime.fromtimestamp(clock[0], UTC)
            if ingest.poll_if_due(ctx, now):
                polls += 1
                ingest.flush_outbox(ctx, now)
                for tweet_id in [i for i in waiting if (ctx.store.ticket(i) or _NONE).message_ts]:
                    delays.append(clock[0] - waiting.pop(tweet_id))
            clock[0] += 1
        return HourResult(limit or 450, polls, stack.x.limits.throttled, _pct(delays, 0.5), _pct(delays, 0.99))
    finally:
        stack.x.clock = time.time
        stack.x.enforce_limits = False
        stack.x.reset()


def hour(tmp: Path) -> list[HourResult]:
    depts = data.departments(4, 4)
    stack = Stack(tmp, data.routing_yaml(depts, hold="0s"), env={"X_POLL_SECONDS": "", "SLACK_POST_INTERVAL": "0"})
    try:  # no processes: the poll flow runs in this process on the stack's Redis and stand-ins
        return [simulated_hour(stack, None), simulated_hour(stack, 10)]
    finally:
        stack.stop()
