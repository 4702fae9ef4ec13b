"""Helpers for the in-process fault tests of the flows: a mention polled and posted, a reply written."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.flows import ingest, relay

ACCOUNT = "escalator_kr"


def now() -> datetime:
    return datetime.now(UTC)


def poll_and_post(ctx, at: datetime) -> int:
    stored = ingest.poll(ctx, at)
    ingest.flush_outbox(ctx, at)
    return stored


def ticket_for(ctx, slack, x, text: str = "아이폰 문의", at: datetime | None = None):
    tweet_id = x.add_mention(f"@{ACCOUNT} {text}", username="minsu")
    poll_and_post(ctx, at or now())
    ticket = ctx.store.ticket(tweet_id)
    assert ticket is not None and ticket.message_ts
    return ticket


def reply(ctx, ticket, text: str = "답변드립니다", at: datetime | None = None) -> tuple[str, str]:
    ts = f"{int((at or now()).timestamp())}.{len(ctx.redis.keys('esc:relay:*')) + 1:06d}"
    return relay.on_reply(ctx, ticket.channel, ticket.message_ts, ts, "U0STAFF1", text, at or now()), ts
