"""Figure 6: Redis bytes per mention through the real ingest flow, what the retention purge leaves, and the
steady-state footprint that follows (retention x daily volume x bytes per ticket, plus the day figures)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from bench.data import departments, mention_texts, routing_yaml
from bot.context import Context
from bot.domain.tickets import State
from bot.embedded_redis import start_redis
from bot.flows import ingest, retention
from bot.routing import parse_routing
from bot.settings import load_settings
from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn

DEPARTMENTS = 8


@dataclass(frozen=True)
class MemoryResult:
    mentions: int
    used_per_mention: float  # INFO memory used_memory delta / mentions: everything, RQ's timers too
    ticket_per_mention: float  # MEMORY USAGE of the bot's own per-mention keys (esc:*), summed / mentions
    payload_per_mention: float  # the bytes of the tickets' fields and values themselves
    purged: int
    left_per_mention: float  # the bot's per-mention keys left after the purge (esc:*, not the day figures)
    figures_per_department_day: float  # MEMORY USAGE of a day's figures / departments in it
    retention_days: int


def _own_keys(r: Any) -> list[str]:
    """The bot's keys that grow with mentions: all of esc:* but the day figures and one-per-bot keys."""
    fixed = ("esc:agg:", "esc:outbox:", "esc:m:", "esc:x:", "esc:lease:")
    return [k for k in r.scan_iter("esc:*", count=1000) if not k.startswith(fixed)]


def _usage(r: Any, keys: list[str]) -> int:
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return sum(n or 0 for n in pipe.execute())


def run(tmp: Path, count: int) -> MemoryResult:
    depts = departments(DEPARTMENTS, 6)
    server = start_redis(tmp / "memory-redis", aof=False)
    slack = SlackStandIn(echo_bot_messages=False, validate_specs=False)
    x = XStandIn()
    slack.start()
    x.start()
    try:
        r: Any = redis.Redis(port=server.port, decode_responses=True)
        settings = load_settings({
            "REDIS_URL": server.url, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.url + "/api/",
            "X_API_URL": x.url, "X_BEARER_TOKEN": "b", "X_API_KEY": "k", "X_API_SECRET": "s",
            "X_ACCESS_TOKEN": "a", "X_ACCESS_TOKEN_SECRET": "as"})
        ctx = Context(settings=settings, routing=parse_routing(routing_yaml(depts)), redis=r)
        ingest.poll(ctx, datetime.now(UTC))  # the account lookup and an empty first page, out of the way
        before = int(r.info("memory")["used_memory"])
        for n, text in enumerate(mention_texts(depts, count)):
            x.add_mention(f"{text} https://example.com/order/{n}", username=f"customer{n % 500}",
                          name=f"고객 {n % 500}", followers=n * 7)
        now = datetime.now(UTC)
        ingest.poll(ctx, now)
        while ingest.flush_outbox(ctx, datetime.now(UTC)):
            pass
        ids = ctx.store.ticket_ids_between(0, now.timestamp() + 86400)
        for n, t in enumerate(ctx.store.tickets(ids)):  # answered, as nine in ten are: the fields it adds
            at = t.created_at + timedelta(minutes=5 + n * 37 % 600)
            ctx.store.save(replace(t, state=State.ANSWERED, first_response_at=at, answered_at=at))
        used = int(r.info("memory")["used_memory"]) - before
        own = _own_keys(r)
        ticket_bytes = _usage(r, own)
        payload = sum(len(k.encode()) + len(v.encode()) for i in ids
                      for k, v in r.hgetall("esc:t:" + i).items())
        later = now + ctx.routing.retention + timedelta(days=1)
        purged = retention.purge(ctx, later)
        left = _own_keys(r)
        left_bytes = _usage(r, [k for k in left if not k.startswith(("esc:once:", "esc:event:"))])
        figures = [k for k in r.scan_iter("esc:agg:2*")]
        per_dept_day = _usage(r, figures) / max(1, sum(r.hlen(k) for k in figures))
        return MemoryResult(count, used / count, ticket_bytes / count, payload / count, purged,
                            left_bytes / count, per_dept_day, ctx.routing.retention.days)
    finally:
        slack.stop()
        x.stop()
        server.stop()


def footprint(result: MemoryResult, per_day: int, departments: int = 10) -> tuple[float, float]:
    """Steady state for a daily volume: (bytes of tickets kept, bytes of day figures added per year)."""
    return (result.retention_days * per_day * result.ticket_per_mention,
            365 * departments * result.figures_per_department_day)
