"""Figure 2: staff thread replies at a steady rate; latency from the signed Slack event to POST /2/tweets."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.data import STAFF, reply_text
from bench.stack import Stack
from bot.adapters.slack import TICKET_EVENT
from bot.adapters.x_session import make_tweepy_client


@dataclass(frozen=True)
class RelayResult:
    offered_per_s: float
    sent: int
    arrived: int
    per_s: float  # replies that reached X, over the time from the first event to the last arrival
    p50_ms: float
    p99_ms: float
    floor_p50_ms: float  # a bare tweepy create_tweet to the same stand-in, at the same rate
    floor_p99_ms: float


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p / 100))]


def _threads(stack: Stack, channels: list[str], count: int) -> list[tuple[str, str]]:
    """(channel, ts) of ticket messages to reply in, one per reply, round-robin over the channels."""
    per_channel = {c: [m["ts"] for m in stack.slack.messages(c)
                       if (m.get("metadata") or {}).get("event_type") == TICKET_EVENT] for c in channels}
    found: list[tuple[str, str]] = []
    while len(found) < count and any(per_channel.values()):
        for channel, stamps in per_channel.items():
            if stamps and len(found) < count:
                found.append((channel, stamps.pop()))
    # Fewer tickets than replies: staff answer some tickets twice, as they do.
    return [found[i % len(found)] for i in range(count)] if found else []


def _paced(rate: float, count: int, action: object) -> None:
    """Start action(i) at start + i/rate, from a pool so a slow answer does not delay the next one."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(action, i)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Offered:
    sent: int
    arrived: int
    per_s: float
    latencies_ms: list[float]


def _offer(stack: Stack, channels: list[str], rate: float, seconds: float, first: int, timeout: float) -> _Offered:
    """Staff replies at `rate` for `seconds`, each a signed event; when each reached X as POST /2/tweets."""
    threads = _threads(stack, channels, max(1, int(rate * seconds)))
    rng = random.Random(first)
    texts = [reply_text(rng, first + i) for i in range(len(threads))]
    sent_at: dict[str, float] = {}

    def reply(i: int) -> None:
        channel, thread_ts = threads[i]
        sent_at[texts[i]] = time.time()
        stack.slack.user_message(channel, texts[i], user=STAFF, thread_ts=thread_ts)

    before = len(stack.x.arrivals)
    _paced(rate, len(threads), reply)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(stack.x.arrivals) - before < len(threads):
        time.sleep(0.05)
    arrivals = {text: at for at, text in stack.x.arrivals[before:] if text in sent_at}
    span = max(arrivals.values()) - min(sent_at.values()) if arrivals else 0.0
    return _Offered(len(threads), len(arrivals), len(arrivals) / span if span > 0 else 0.0,
                    [(at - sent_at[text]) * 1000 for text, at in arrivals.items()])


def run(stack: Stack, channels: list[str], rate: float, seconds: float, timeout: float = 30,
        first: int = 0) -> RelayResult:
    """`first` numbers the replies' texts: a second run on the same stack passes another, or X refuses its
    words (and the floor's) as duplicates of the first run's."""
    for channel in channels:
        stack.slack.set_members(channel, [STAFF])  # departments without a staff list ask Slack
    offered = _offer(stack, channels, rate, seconds, first, timeout)
    floor_p50, floor_p99 = floor(stack, rate, offered.sent, first)
    return RelayResult(rate, offered.sent, offered.arrived, offered.per_s, percentile(offered.latencies_ms, 50),
                       percentile(offered.latencies_ms, 99), floor_p50, floor_p99)


def capacity(stack: Stack, channels: list[str], rate: float, seconds: float, timeout: float = 60) -> float:
    """Replies per second that reach X when more are offered than the bot can take: its ceiling."""
    return _offer(stack, channels, rate, seconds, 1_000_000, timeout).per_s


def floor(stack: Stack, rate: float, count: int, first: int = 0) -> tuple[float, float]:
    """The one call a relay cannot skip: tweepy's create_tweet to the X stand-in, at the same rate."""
    env = stack.env
    client = make_tweepy_client(stack.x.url, env["X_BEARER_TOKEN"], env["X_API_KEY"], env["X_API_SECRET"],
                                env["X_ACCESS_TOKEN"], env["X_ACCESS_TOKEN_SECRET"])
    target = stack.x.add_mention(f"floor target {first}")
    rng = random.Random(9 + first)
    latencies: list[float] = []

    def tweet(i: int) -> None:
        started = time.perf_counter()
        client.create_tweet(text=f"floor {first + i} {reply_text(rng, first + i)}", in_reply_to_tweet_id=target,
                            user_auth=True)
        latencies.append((time.perf_counter() - started) * 1000)

    _paced(rate, count, tweet)
    return percentile(latencies, 50), percentile(latencies, 99)
