"""Figure: the bot at a real network's distance. Every Slack and X call takes a round trip (the stand-ins'
latency_ms: 0, then 150 ms, as from Seoul), Slack keeps its pace (one message a second per channel, 429 with
Retry-After beyond it), and the bot runs with 1, 2 and 4 worker processes.

- tickets per second to Slack: a burst spread evenly over 20 department channels, from the poll that read it to
  its last post, beside Slack's own limit for it (20 channels at 1/s: 20/s);
- a 1,000-mention burst over 20 channels, from that poll to the last post, beside Slack's limit (50 s), with
  the most workers, at 0 and 150 ms;
- relay p50/p99 (signed Slack event -> POST /2/tweets at X) at 20 replies/s, with the most workers, at 0 and
  150 ms.

Each worker process runs WORKER_THREADS jobs at once (bot/worker.py; the default, 16, unless the environment
says otherwise).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench import data, relay
from bench.stack import Stack, wait_for

CHANNELS = 20
SLACK_PER_CHANNEL_S = 1.0


@dataclass(frozen=True)
class Burst:
    workers: int
    latency_ms: float
    mentions: int
    visible_s: float  # the poll that read the burst -> its last post in Slack
    slack_limit_s: float  # what Slack's pace allows for the same burst: mentions / channels at 1/s
    throttled: int  # 429s Slack answered during the burst

    @property
    def per_s(self) -> float:
        return self.mentions / self.visible_s if self.visible_s else 0.0


@dataclass(frozen=True)
class Relayed:
    latency_ms: float
    workers: int
    result: relay.RelayResult


@dataclass(frozen=True)
class LatencyResult:
    bursts: list[Burst]
    bigs: list[Burst]  # the big burst with the most workers, at 0 ms and at 150 ms
    relays: list[Relayed]  # the relay with the most workers, at 0 ms and at 150 ms


def _burst(stack: Stack, depts: list[data.Department], workers: int, latency_ms: float, count: int,
           tag: str) -> Burst:
    stack.slack.latency_ms = stack.x.latency_ms = latency_ms
    time.sleep(SLACK_PER_CHANNEL_S * 1.5)  # every channel's last post a full Slack interval behind
    throttled_before = stack.slack.throttled
    added = time.time()
    for n in range(count):
        d = depts[n % len(depts)]
        stack.x.add_mention(f"{d.keywords[0]} 문의드립니다 {n}", username=f"{tag}u{n}")
    handle = f"@{tag}u"

    def posted() -> list[float]:
        return [float(m["ts"]) for d in depts for m in stack.slack.messages(d.channel)
                if handle in m.get("text", "")]

    wait_for(lambda: len(posted()) >= count, 60 + count * 0.5, 0.2, f"{count} posts of burst {tag}")
    stamps = posted()
    read = min((t for t in stack.x.polls if t >= added), default=added)
    return Burst(workers, latency_ms, count, max(stamps) - read, count / len(depts) * SLACK_PER_CHANNEL_S,
                 stack.slack.throttled - throttled_before)


def run(tmp: Path, mentions: int, big: int, relay_rate: float, relay_seconds: float,
        workers: tuple[int, ...] = (1, 2, 4)) -> LatencyResult:
    depts = data.departments(CHANNELS, 2)
    routing = data.routing_yaml(depts, hold="0s")
    bursts: list[Burst] = []
    bigs: list[Burst] = []
    relays: list[Relayed] = []
    for n in workers:
        stack = Stack(tmp / f"workers-{n}", routing)
        stack.slack.rate_limit_per_channel = 1 / SLACK_PER_CHANNEL_S
        try:
            stack.start(workers=n)
            for d in depts:
                stack.slack.set_members(d.channel, [data.STAFF])
            # Warm up every process (first jobs, connections, the channels' pace keys): steady state is measured.
            _burst(stack, depts, n, 0.0, len(depts), f"warm{n}")
            for latency in (0.0, 150.0):
                bursts.append(_burst(stack, depts, n, latency, mentions, f"w{n}l{latency:.0f}"))
            if n == max(workers):
                for latency in (0.0, 150.0):
                    bigs.append(_burst(stack, depts, n, latency, big, f"big{n}l{latency:.0f}"))
                    relays.append(Relayed(latency, n, relay.run(stack, [d.channel for d in depts], relay_rate,
                                                                relay_seconds, timeout=60,
                                                                first=100_000 * (len(relays) + 1))))
        finally:
            stack.stop()
    return LatencyResult(bursts, bigs, relays)
