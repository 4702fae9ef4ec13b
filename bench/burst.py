"""Figure: what people see while a burst of mentions is posted into one channel at Slack's pace (one worker).

The Slack stand-in keeps Slack's documented pace (one message a second per channel, 429 with Retry-After
beyond it). While the burst is posted, staff reply in tickets of other departments (signed event -> POST
/2/tweets, the same measure as the relay figure, also taken on a quiet bot first), a Claim is clicked on the
burst's first ticket, and that ticket (fast-track, 30 s) breaches.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import data, relay
from bench.stack import Stack, wait_for

BREACH_S = 30
REPLIES_PER_S = 1.0


@dataclass(frozen=True)
class BurstResult:
    mentions: int
    quiet_p50_ms: float
    quiet_p99_ms: float
    burst_p50_ms: float
    burst_p99_ms: float
    replies: int
    arrived: int
    claim_s: float
    breach_late_s: float
    burst_s: float  # the burst's first post to its last
    allowed_s: float  # what Slack's pace allows for it: one a second after the first


def _shown(msg: dict[str, Any]) -> str:
    return json.dumps(msg, ensure_ascii=False)


def _message(stack: Stack, channel: str, ts: str) -> dict[str, Any]:
    return next((m for m in stack.slack.messages(channel) if m["ts"] == ts), {})


def run(tmp: Path, mentions: int, breach_s: int = BREACH_S, quiet_s: float = 10) -> BurstResult:
    depts = data.departments(4, 4)
    routing = data.routing_yaml(depts, hold="0s").replace(
        'fast_track: {first_response: 3h, remind: ["1h", "2h"]}', f"fast_track: {{first_response: {breach_s}s}}")
    stack = Stack(tmp, routing)
    stack.slack.rate_limit_per_channel = 1.0
    burst_channel, others = depts[0].channel, [d.channel for d in depts[1:]]
    try:
        stack.start()
        for channel in [burst_channel, *others]:
            stack.slack.set_members(channel, [data.STAFF])
        for n, d in enumerate(depts[1:]):
            stack.x.add_mention(f"{d.keywords[0]} 문의드립니다", username=f"other{n}")
        wait_for(lambda: all(stack.slack.messages(c) for c in others), 60, 0.1, "a ticket in each other channel")
        time.sleep(2)  # quiet: each channel's last post (its ticket) a full Slack interval behind, as in a calm hour
        quiet = relay._offer(stack, others, REPLIES_PER_S, quiet_s, 0, 30)

        created = datetime.now(UTC)
        keyword = depts[0].keywords[0]
        stack.x.add_mention(f"{keyword} 장애 신고합니다", username="burst0000", created_at=created)
        for n in range(1, mentions):
            stack.x.add_mention(f"{keyword} 문의 {n}", username=f"burst{n:04d}")
        first: dict[str, Any] = wait_for(lambda: next((m for m in stack.slack.messages(burst_channel)
                                                       if "@burst0000" in m.get("text", "")), {}), 60, 0.05,
                                         "the first post")
        with ThreadPoolExecutor(max_workers=1) as pool:
            during = pool.submit(relay._offer, stack, others, REPLIES_PER_S, max(10.0, mentions * 0.8), 10_000, 60)
            clicked = time.time()
            stack.slack.block_action(data.STAFF, burst_channel, first["ts"], "ticket_claim")
            wait_for(lambda: "claimed" in _shown(_message(stack, burst_channel, first["ts"])), 60, 0.05,
                     "the Claim shown")
            claim_s = time.time() - clicked
            breach = wait_for(lambda: [m for m in stack.slack.thread(burst_channel, first["ts"])[1:]
                                       if m.get("text", "").startswith("🚨")], breach_s + 60, 0.1, "the breach")[0]
            wait_for(lambda: len(stack.slack.messages(burst_channel)) >= mentions, mentions * 2 + 60, 0.2,
                     "the whole burst")
            offered = during.result()
        stamps = sorted(float(m["ts"]) for m in stack.slack.messages(burst_channel))
    finally:
        stack.stop()
    return BurstResult(
        mentions, relay.percentile(quiet.latencies_ms, 50), relay.percentile(quiet.latencies_ms, 99),
        relay.percentile(offered.latencies_ms, 50), relay.percentile(offered.latencies_ms, 99), offered.sent,
        offered.arrived, claim_s, float(breach["ts"]) - (created.timestamp() + breach_s),
        stamps[-1] - stamps[0], float(mentions - 1))
