"""The ticket message's buttons: Claim, Reassign, Resolve without reply. Each runs in a job.

Who may press them: anyone in the channel, unless the department lists `staff`; then its staff, its leads and
the operators. The ticket message is re-drawn in place (chat.update) after every change, so its state line
is always the ticket's state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.adapters import slack_blocks
from bot.adapters.slack import (
    CLAIM,
    REASSIGN,
    RESOLVE,
    TICKET_EVENT,
    TRIAGE_OPTION,
    SlackError,
    ticket_blocks,
)
from bot.context import Context
from bot.domain.text import escape_slack, slack_to_plain, truncate_for_slack
from bot.domain.threads import ThreadRef
from bot.domain.tickets import REPLY_IN_FLIGHT, Event, InvalidTransition, Ticket, transition
from bot.errors import BotError, UnknownDepartment
from bot.flows import people, timers
from bot.flows.ticket_message import render, show
from bot.messages import t

log = logging.getLogger(__name__)

LEASE_S = 60
HISTORY_LINES = 10

Tell = Callable[[str], None]


class TicketBusy(BotError):
    """Another button on the same ticket is being handled; RQ retries this one in a moment."""


def may_act(ctx: Context, ticket: Ticket, user: str) -> bool:
    """Its department's staff, leads and operators (ids or user groups); anyone when it lists no staff."""
    dept = ctx.routing.department_or_none(ticket.department)
    if dept is None or dept.staff is None:
        return True
    return people.is_among(ctx, user, [*dept.staff, *dept.leads, *(ctx.routing.operators or ())])


def handle(ctx: Context, action: str, channel: str, message_ts: str, user: str, value: str, now: datetime,
           tell: Tell) -> str:
    """A click on a ticket message. Returns what happened; `tell` answers the clicker privately."""
    ref = ctx.store.thread(channel, message_ts)
    tweet_id = ref.ticket_id if ref is not None else None
    ticket = ctx.store.ticket(tweet_id) if tweet_id else None
    if ticket is None or ticket.message_ts != message_ts:
        tell(t(ctx.locale, "ticket_gone"))
        return "gone"
    if not may_act(ctx, ticket, user):
        name = escape_slack(ctx.department_name(ticket.department))
        tell(t(ctx.locale, "ticket_not_staff", department=name))
        return "not-staff"
    if not ctx.store.lease("ticket:" + ticket.tweet_id, LEASE_S):
        raise TicketBusy(f"ticket {ticket.tweet_id} is busy")
    try:
        ticket = ctx.store.ticket(ticket.tweet_id) or ticket  # as it is now that we hold the lease
        if action == CLAIM:
            return claim(ctx, ticket, user, now)
        if action == RESOLVE:
            return resolve(ctx, ticket, user, now)
        if action == REASSIGN:
            return reassign(ctx, ticket, user, value, now, tell)
        return "unknown-action"
    except InvalidTransition:
        key = "ticket_reply_in_flight" if ticket.state in REPLY_IN_FLIGHT else "ticket_not_open"
        tell(t(ctx.locale, key, state=ticket.state.value))
        return "refused"
    finally:
        ctx.store.release("ticket:" + ticket.tweet_id)


def claim(ctx: Context, ticket: Ticket, user: str, now: datetime) -> str:
    """The clicker is on it: the message shows who, and SLA reminders mention them from now on."""
    if ticket.claimed_by == user and ticket.is_open:
        show(ctx, ticket)
        return "already-claimed"
    claimed = transition(ticket, Event.CLAIMED, now, user=user)
    ctx.store.save(claimed)
    show(ctx, claimed)
    ctx.slack.post(claimed.channel or "", t(ctx.locale, "ticket_claimed", user=user),
                   thread_ts=claimed.message_ts)
    return "claimed"


def resolve(ctx: Context, ticket: Ticket, user: str, now: datetime) -> str:
    """Closed with no reply on X: the clock stops and reports count it apart, as closed."""
    closed = transition(ticket, Event.RESOLVED, now)
    if closed is ticket:
        return "already-closed"
    ctx.store.save(closed)
    timers.on_answered(ctx, closed, now)
    show(ctx, closed)
    ctx.slack.post(closed.channel or "", t(ctx.locale, "ticket_resolved", user=user),
                   thread_ts=closed.message_ts)
    return "resolved"


def reassign(ctx: Context, ticket: Ticket, user: str, value: str, now: datetime, tell: Tell) -> str:
    """Move the ticket to another department: a new post in its channel, the old message points there.

    The ticket keeps its tweet id, so its due_at, policy, SLA timers (they read the ticket when they fire),
    conversation and report row all follow; the new thread gets a digest of the old one and its link."""
    try:
        target = None if value == TRIAGE_OPTION else ctx.routing.department(value)
    except UnknownDepartment:
        tell(t(ctx.locale, "unknown_department", name=escape_slack(value),
               known=", ".join(f"`{d.id}`" for d in ctx.routing.departments)))
        return "unknown-department"
    target_id = target.id if target else None
    if target_id == ticket.department:
        name = escape_slack(ctx.department_name(target_id))
        tell(t(ctx.locale, "ticket_same_department", department=name))
        return "same-department"
    old_channel, old_ts = ticket.channel or "", ticket.message_ts or ""
    channel = ctx.routing.channel_for(target, ticket.account)  # triage: the account's own, when it has one
    if channel == old_channel:  # two departments sharing a channel: the same message changes hands
        moved = transition(ticket, Event.REASSIGNED, now, department=target_id, channel=channel, ts=old_ts)
        ctx.store.save(moved)
        show(ctx, moved)
        _post_history(ctx, ticket, moved, user, ctx.slack.permalink(old_channel, old_ts), [])
        return "reassigned"
    preview = transition(ticket, Event.REASSIGNED, now, department=target_id, channel=channel, ts="")
    ts = _post_moved(ctx, preview, old_ts, now)
    moved = replace(preview, message_ts=ts)
    ctx.store.save(moved)
    ctx.store.link_thread(channel, ts, ThreadRef.ticket(ticket.tweet_id))
    ctx.store.link_thread(old_channel, old_ts, ThreadRef.moved(ticket.tweet_id))  # replies there are not relayed
    old_link, new_link = ctx.slack.permalink(old_channel, old_ts), ctx.slack.permalink(channel, ts)
    _post_history(ctx, ticket, moved, user, old_link, ctx.slack.thread_messages(old_channel, old_ts)[1:])
    note = t(ctx.locale, "ticket_moved_away", department=escape_slack(ctx.department_name(target_id)),
             user=user, link=new_link)
    text, blocks = ticket_blocks(ticket, ctx.department_name(ticket.department), ctx.routing.timezone,
                                 ctx.locale, moved_to=note)
    ctx.slack.update(old_channel, old_ts, text, blocks)
    log.info("ticket %s moved from %s to %s by %s", ticket.tweet_id, ticket.department or "triage",
             target_id or "triage", user)
    return "reassigned"


def _post_moved(ctx: Context, moved: Ticket, old_ts: str, now: datetime) -> str:
    """Post the moved ticket in its new channel once: a retried job finds the post it made before."""
    channel = moved.channel or ""
    guard = f"reassign:{moved.tweet_id}:{old_ts}"
    if not ctx.store.once(guard, ttl=86400):
        found = ctx.slack.find_ticket_message(channel, moved.tweet_id, now.timestamp() - 600)
        if found and found != old_ts:
            return found
    text, blocks = render(ctx, moved)
    meta = {"event_type": TICKET_EVENT, "event_payload": {"tweet_id": moved.tweet_id}}
    try:
        return ctx.slack.post(channel, text, blocks, metadata=meta)
    except SlackError:
        ctx.store.forget(guard)
        raise


def _post_history(ctx: Context, before: Ticket, moved: Ticket, user: str, old_link: str,
                  earlier: list[dict]) -> None:
    """The new thread learns where the ticket came from and what was said (names, never pings)."""
    lines = [t(ctx.locale, "ticket_moved_here", user=user, link=old_link,
               department=escape_slack(ctx.department_name(before.department)))]
    people = [m for m in earlier if m.get("user") and not m.get("bot_id") and m.get("text")]
    if people:
        lines.append(t(ctx.locale, "ticket_moved_history", n=len(people)))
        names: dict[str, str] = {}
        for m in people[-HISTORY_LINES:]:
            name = names.setdefault(m["user"], ctx.slack.user_name(m["user"]))
            said = truncate_for_slack(escape_slack(slack_to_plain(m["text"])), 300)
            lines.append(f"• {slack_blocks.bold(escape_slack(name))}: {said}")
    ctx.slack.post(moved.channel or "", "\n".join(lines), thread_ts=moved.message_ts)
