"""Figure 1: N mentions on X become N Slack posts, against bare slack_sdk making the same N calls."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bench.stack import Stack, wait_for
from bot.adapters.slack import TICKET_EVENT

FLOOR_EVENT = "bench_floor_post"  # as long as TICKET_EVENT, so the floor posts the same bytes


@dataclass(frozen=True)
class IngestResult:
    mentions: int
    posted: int
    bot_s: float  # mentions available on X -> last of them posted in Slack (timed out: until the deadline)
    poll_wait_s: float  # of which: until the bot's next read of the mentions (X_POLL_SECONDS bounds it)
    floor_s: float  # the same chat.postMessage calls, made by a bare WebClient, one after another
    timed_out: bool


def _ticket_calls(stack: Stack) -> list[dict[str, Any]]:
    """The bot's ticket posts as the stand-in received them (top-level chat.postMessage with ticket metadata)."""
    return [args for method, args in list(stack.slack.calls)
            if method == "chat.postMessage" and not args.get("thread_ts")
            and (args.get("metadata") or {}).get("event_type") == TICKET_EVENT]


def _last_post_time(stack: Stack, channels: set[str], tweet_ids: set[str]) -> float:
    """When the last of these tickets was stored by the stand-in: its Slack ts is wall-clock time."""
    last = 0.0
    for channel in channels:
        for message in stack.slack.messages(channel):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("tweet_id") in tweet_ids:
                last = max(last, float(message["ts"]))
    return last


def warm_up(stack: Stack, text: str) -> None:
    """One mention end to end, so the first poll's account lookup and backfill are out of the way."""
    stack.x.add_mention(text, username="warmup")
    wait_for(lambda: _ticket_calls(stack), 60, 0.1, "the warm-up mention to reach Slack")


def run(stack: Stack, texts: list[str], channels: set[str], timeout: float) -> IngestResult:
    """The mentions arrive just after a poll, so they wait almost X_POLL_SECONDS for the next: the worst case,
    the same in every run."""
    before = len(_ticket_calls(stack))
    polls = len(stack.x.polls)
    wait_for(lambda: len(stack.x.polls) > polls, 30, 0.005, "a poll of the mentions")
    started = time.time()
    ids = {stack.x.add_mention(text, username=f"customer{n % 200}", name=f"고객 {n % 200}", followers=n)
           for n, text in enumerate(texts)}
    deadline = time.monotonic() + timeout
    posted = 0
    while time.monotonic() < deadline:
        posted = len(_ticket_calls(stack)) - before
        if posted >= len(texts):
            break
        time.sleep(0.1)
    timed_out = posted < len(texts)
    finished = time.time() if timed_out else _last_post_time(stack, channels | {"C0TRIAGE"}, ids)
    calls = _ticket_calls(stack)[before:]
    poll_wait = next((at for at in stack.x.polls if at >= started), finished) - started
    return IngestResult(len(texts), posted, finished - started, poll_wait, floor(stack, calls), timed_out)


def floor(stack: Stack, calls: list[dict[str, Any]]) -> float:
    """The same chat.postMessage calls from a bare WebClient; the stand-in echoes nothing back meanwhile."""
    client = WebClient(token=stack.slack.bot_token, base_url=stack.slack.url + "/api/")
    stack.slack.echo_bot_messages = False  # the floor is the calls alone, not the bot reading its own posts
    try:
        started = time.perf_counter()
        for args in calls:
            # Same size, another event type: these are not tickets, and nothing should take them for one.
            meta = {**args["metadata"], "event_type": FLOOR_EVENT}
            client.chat_postMessage(**{**args, "metadata": meta})
        return time.perf_counter() - started
    finally:
        stack.slack.echo_bot_messages = True
