"""/escalate: an operator makes a ticket of any tweet. Parsed and answered at once; built in a job."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.adapters.x import XError, XUnavailable
from bot.context import Context
from bot.flows import ingest

log = logging.getLogger(__name__)

USAGE = "Usage: `/escalate <tweet URL or id> [department id] [fast] [note…]`"
TWEET_REF = re.compile(r"^(?:<)?(?:https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/\s]+/status(?:es)?/)?(\d{1,20})"
                       r"(?:[/?#][^\s>|]*)?(?:\|[^>]*)?(?:>)?$")
DEPT_LIKE = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Request:
    tweet_id: str
    department: str | None
    fast: bool
    note: str


class UsageError(ValueError):
    pass


def parse(text: str, known: list[str]) -> Request:
    """`<tweet> [dept] [fast] [note…]`; a lowercase latin word after the tweet names a department."""
    words = text.split()
    if not words:
        raise UsageError(USAGE)
    m = TWEET_REF.match(words[0])
    if not m:
        raise UsageError(f"`{words[0]}` is not a tweet URL or id. {USAGE}")
    rest, dept, fast = words[1:], None, False
    if rest and rest[0].lower() != "fast" and DEPT_LIKE.match(rest[0]):
        if rest[0] not in known:
            raise UsageError(f"Unknown department `{rest[0]}`. Known: {', '.join(f'`{k}`' for k in known)}")
        dept, rest = rest[0], rest[1:]
    if rest and rest[0].lower() == "fast":
        fast, rest = True, rest[1:]
    return Request(m.group(1), dept, fast, " ".join(rest))


def accept(ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
    """The immediate answer to the slash command (the ack); enqueues the work when the input is good."""
    user = command.get("user_id", "")
    operators = ctx.routing.operators
    if operators is not None and user not in operators:
        return {"response_type": "ephemeral", "text": "🔒 Only operators can /escalate. Ask one of: "
                + ", ".join(f"<@{u}>" for u in sorted(operators))}
    try:
        req = parse(command.get("text", ""), [d.id for d in ctx.routing.departments])
    except UsageError as exc:
        return {"response_type": "ephemeral", "text": str(exc)}
    from bot import jobs

    ctx.queue.enqueue(jobs.escalate_tweet, req.tweet_id, req.department, req.fast, req.note, user,
                      command.get("response_url", ""))
    return {"response_type": "ephemeral", "text": f"⏳ Escalating tweet {req.tweet_id}…"}


def run(ctx: Context, req: Request, user: str, now: datetime) -> str:
    """Make the ticket and post it; returns the sentence for the person who asked."""
    existing = ctx.store.ticket(req.tweet_id)
    if existing is not None:
        if existing.channel and existing.message_ts:
            link = ctx.slack.permalink(existing.channel, existing.message_ts)
            return f"That tweet is already a ticket: {link}"
        return "That tweet is already a ticket; its Slack post is on the way."
    try:
        mention = ctx.x.get_tweet(req.tweet_id)
    except XUnavailable as exc:
        return f"❌ X is unreachable right now ({exc}); nothing was created. Try again in a minute."
    except XError as exc:
        return f"❌ X refused to show tweet {req.tweet_id} ({exc}); nothing was created."
    if mention is None:
        return f"❌ Tweet {req.tweet_id} was not found on X (deleted or private); nothing was created."
    ticket = ingest.make_ticket(ctx, mention, now)
    route_dept = ctx.routing.department(req.department) if req.department else None
    policy = ctx.routing.policy(ctx.routing.fast_track.policy) if req.fast and ctx.routing.fast_track \
        else ctx.routing.policy(route_dept.sla) if route_dept else ctx.routing.policy(ticket.policy)
    ticket = replace(ticket, department=req.department or ticket.department, policy=policy.name,
                     fast_track=req.fast or ticket.fast_track, source="escalate", escalated_by=user,
                     note=req.note, clock_start=now, due_at=ctx.clock.due_at(policy, now))
    ctx.store.create_tickets([ticket], now.timestamp())
    ingest.flush_outbox(ctx, now)
    posted = ctx.store.ticket(req.tweet_id)
    if posted and posted.channel and posted.message_ts:
        return f"✅ Ticket made: {ctx.slack.permalink(posted.channel, posted.message_ts)}"
    return "✅ Ticket made; its Slack post will follow shortly."
