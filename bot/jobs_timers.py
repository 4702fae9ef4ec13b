"""RQ job functions for the SLA timers: each takes (tweet_id, due_at, index) and calls bot.flows.timers."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.context import get_context
from bot.flows import timers


def _now() -> datetime:
    return datetime.now(UTC)


def remind(tweet_id: str, due_at: str, index: int, deferred: bool = False) -> str:
    return timers.remind(get_context(), tweet_id, due_at, index, _now(), deferred)


def breach(tweet_id: str, due_at: str, index: int) -> str:
    return timers.breach(get_context(), tweet_id, due_at, index, _now())


def escalate(tweet_id: str, due_at: str, index: int) -> str:
    return timers.escalate(get_context(), tweet_id, due_at, index, _now())
