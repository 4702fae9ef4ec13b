"""The ticket's Slack message: drawn from the ticket (render) and re-drawn in place when it changes (show)."""

from __future__ import annotations

import logging

from bot.adapters.slack import SlackError, ticket_blocks
from bot.context import Context
from bot.domain.tickets import Ticket
from bot.messages import t

log = logging.getLogger(__name__)


def render(ctx: Context, ticket: Ticket) -> tuple[str, list[dict]]:
    """The message's fallback text and blocks for the ticket's current state."""
    return ticket_blocks(ticket, ctx.department_name(ticket.department), ctx.routing.timezone, ctx.locale,
                         departments=[(d.id, d.name) for d in ctx.routing.departments],
                         warning=t(ctx.locale, "x_not_summoned") if refuses_reply(ctx, ticket) else "",
                         account=ctx.account(ticket.account)[1] if ctx.routing.multi_account else "")


def refuses_reply(ctx: Context, ticket: Ticket) -> bool:
    """X (self-serve access) refuses a public reply to a tweet that neither @mentions nor quotes the account."""
    return ticket.unsummoned and ctx.routing.x.summoned_only


def show(ctx: Context, ticket: Ticket) -> None:
    """Re-draw the ticket's Slack message for its current state. A failure only costs the picture: logged."""
    if not ticket.channel or not ticket.message_ts:
        return
    text, blocks = render(ctx, ticket)
    try:
        ctx.slack.update(ticket.channel, ticket.message_ts, text, blocks)
    except SlackError as exc:
        log.warning("could not update ticket %s's message: %s", ticket.tweet_id, exc)
