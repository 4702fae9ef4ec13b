"""The ticket's Slack message: drawn from the ticket (render) and re-drawn in place when it changes (show)."""

from __future__ import annotations

import logging

from bot.adapters.slack import SlackError, ticket_blocks
from bot.context import Context
from bot.domain.replies import SavedReply
from bot.domain.tickets import Ticket
from bot.errors import UnknownDepartment
from bot.messages import t

log = logging.getLogger(__name__)


def render(ctx: Context, ticket: Ticket) -> tuple[str, list[dict]]:
    """The message's fallback text and blocks for the ticket's current state."""
    return ticket_blocks(ticket, ctx.department_name(ticket.department), ctx.routing.timezone, ctx.locale,
                         departments=[(d.id, d.name) for d in ctx.routing.departments],
                         warning=t(ctx.locale, "x_not_summoned") if refuses_reply(ctx, ticket) else "",
                         saved_replies=_saved_menu(ctx, ticket),
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


def saved_replies_for(ctx: Context, department: str | None) -> dict[str, SavedReply]:
    """The saved replies a ticket of this department may use (shared, then its own), by name."""
    try:
        return ctx.routing.replies_for(ctx.routing.department_or_none(department))
    except UnknownDepartment:  # a department since removed from routing.yaml: the shared ones
        return ctx.routing.replies_for(None)


def _saved_menu(ctx: Context, ticket: Ticket) -> list[tuple[str, str]]:
    """The ticket's "Saved reply…" menu: (name, text) of what its department may use (none where X refuses)."""
    if refuses_reply(ctx, ticket):
        return []
    return [(name, reply.text) for name, reply in saved_replies_for(ctx, ticket.department).items()]
