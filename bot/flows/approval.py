"""Reply approval: in a department with `relay: {mode: approve}`, a staff reply waits for a lead.

- The reply is checked as any reply (staff, length), then stored as an "awaiting" relay and the thread gets
  an approval request with Approve / Reject buttons, mentioning the approvers.
- Approvers: the department's leads; without leads, the operators; without either, anyone in the channel.
- While it waits its author may edit it (the request shows the new text) or delete it (cancelled).
- Approve sends it at once (the wait for approval was its undo window); the SLA's first response is the send.
- Reject (with a reason, from a modal) returns it: the thread tells its author why; nothing goes to X.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.adapters.slack import SlackError, approval_blocks
from bot.adapters.store import Relay
from bot.context import Context
from bot.domain.text import escape_slack
from bot.domain.tickets import Event, Ticket, transition
from bot.flows import buttons
from bot.messages import t

log = logging.getLogger(__name__)

APPROVE, REJECT = "approve", "reject"
AWAITING = "awaiting"
DECIDED_TTL_S = 30 * 86400

Tell = Callable[[str], None]


def needs_approval(ctx: Context, ticket: Ticket) -> bool:
    dept = ctx.routing.department(ticket.department) if ticket.department else None
    return ctx.routing.relay_mode_for(dept) == "approve"


def approvers(ctx: Context, ticket: Ticket) -> frozenset[str] | None:
    """Who may approve this ticket's replies; None: anyone."""
    dept = ctx.routing.department(ticket.department) if ticket.department else None
    if dept is not None and dept.leads:
        return frozenset(dept.leads)
    return ctx.routing.operators


def _mentions(users: frozenset[str] | None) -> str:
    return "".join(f"<@{u}> " for u in sorted(users or ()))


def _request_text(ctx: Context, relay: Relay, ticket: Ticket) -> str:
    quoted = escape_slack(relay.text).replace("\n", "\n>")
    return t(ctx.locale, "approval_request", approvers=_mentions(approvers(ctx, ticket)), author=relay.user,
             text=quoted)


def ask(ctx: Context, ticket: Ticket, channel: str, thread_ts: str, ts: str, user: str, plain: str,
        now: datetime) -> str:
    """Hold a checked reply for a lead. The request is posted before the relay is stored: a retry after a
    crash may post a second request (both buttons act on the same reply), but never loses the reply."""
    relay = Relay(channel=channel, ts=ts, ticket=ticket.tweet_id, user=user, text=plain, state=AWAITING)
    text = _request_text(ctx, relay, ticket)
    relay.notice_ts = ctx.slack.post(channel, text, approval_blocks(text, relay.key, ctx.locale),
                                     thread_ts=thread_ts)
    if not ctx.store.add_relay(relay):
        return "duplicate"
    asked = transition(ticket, Event.APPROVAL_ASKED, now)
    ctx.store.save(asked)
    buttons.show(ctx, asked)
    return "awaiting-approval"


def edited(ctx: Context, relay: Relay) -> str:
    """The author changed a reply that is still waiting: the request shows what would now be sent."""
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is not None and relay.notice_ts:
        text = _request_text(ctx, relay, ticket) + "\n" + t(ctx.locale, "approval_edited")
        ctx.slack.update(relay.channel, relay.notice_ts, text, approval_blocks(text, relay.key, ctx.locale))
    return "edited"


def cancelled(ctx: Context, relay: Relay, now: datetime) -> str:
    """The author deleted a reply that was waiting: no decision can be made on it any more."""
    if not ctx.store.once(f"decided:{relay.key}", ttl=DECIDED_TTL_S):
        return "already-decided"
    relay.state = "cancelled"
    ctx.store.save_relay(relay)
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is not None:
        back = transition(ticket, Event.REPLY_CANCELLED, now)
        ctx.store.save(back)
        buttons.show(ctx, back)
    _close_request(ctx, relay, ticket, t(ctx.locale, "approval_cancelled"))
    return "cancelled"


def may_decide(ctx: Context, key: str, user: str) -> bool:
    """Quick check for the web process (before opening the Reject modal): is this user an approver?"""
    channel, _, ts = key.partition(":")
    relay = ctx.store.relay(channel, ts)
    ticket = ctx.store.ticket(relay.ticket) if relay else None
    if ticket is None:
        return False
    allowed = approvers(ctx, ticket)
    return allowed is None or user in allowed


def decide(ctx: Context, decision: str, key: str, user: str, reason: str, now: datetime, tell: Tell) -> str:
    """A lead's Approve or Reject. Exactly one decision (or the author's delete) wins."""
    channel, _, ts = key.partition(":")
    relay = ctx.store.relay(channel, ts)
    ticket = ctx.store.ticket(relay.ticket) if relay else None
    if relay is None or ticket is None:
        tell(t(ctx.locale, "ticket_gone"))
        return "gone"
    allowed = approvers(ctx, ticket)
    if allowed is not None and user not in allowed:
        tell(t(ctx.locale, "approval_not_lead", who=_mentions(allowed).strip()))
        return "not-approver"
    if relay.state != AWAITING or not ctx.store.once(f"decided:{relay.key}", ttl=DECIDED_TTL_S):
        tell(t(ctx.locale, "approval_done", state=relay.state))
        return "already-decided"
    try:
        if decision == APPROVE:
            return _approve(ctx, relay, ticket, user, now)
        return _reject(ctx, relay, ticket, user, reason, now)
    except Exception:
        still = ctx.store.relay(channel, ts)
        if still is not None and still.state == AWAITING:
            ctx.store.forget(f"decided:{relay.key}")  # nothing was decided: the lead can click again
        raise


def _close_request(ctx: Context, relay: Relay, ticket: Ticket | None, decided: str,
                   notice_ts: str = "") -> None:
    """The request loses its buttons and says who decided."""
    notice_ts = notice_ts or relay.notice_ts
    if not notice_ts or ticket is None:
        return
    text = _request_text(ctx, relay, ticket)
    try:
        blocks = approval_blocks(text, relay.key, ctx.locale, decided)
        ctx.slack.update(relay.channel, notice_ts, text, blocks)
    except SlackError as exc:
        log.warning("could not close the approval request of %s: %s", relay.key, exc)


def _approve(ctx: Context, relay: Relay, ticket: Ticket, user: str, now: datetime) -> str:
    from bot.flows import relay as relay_flow  # relay imports this module

    notice, relay.notice_ts = relay.notice_ts, ""  # the request keeps "approved by"; send adds its own note
    relay.state, relay.send_at, relay.detail = "pending", now.timestamp(), f"approved by {user}"
    ctx.store.save_relay(relay)  # pending: the sweeper sends it even if this worker dies right here
    queued = transition(ticket, Event.REPLY_QUEUED, now)
    ctx.store.save(queued)
    buttons.show(ctx, queued)
    _close_request(ctx, relay, ticket, t(ctx.locale, "approval_approved", user=user), notice_ts=notice)
    return relay_flow.send(ctx, relay.channel, relay.ts, now)


def _reject(ctx: Context, relay: Relay, ticket: Ticket, user: str, reason: str, now: datetime) -> str:
    relay.state, relay.detail = "rejected", reason
    ctx.store.save_relay(relay)
    back = transition(ticket, Event.REPLY_REJECTED, now)
    ctx.store.save(back)
    buttons.show(ctx, back)
    _close_request(ctx, relay, ticket, t(ctx.locale, "approval_rejected_note", user=user))
    quoted = escape_slack(reason.strip()).replace("\n", "\n>")
    ctx.slack.post(relay.channel, t(ctx.locale, "approval_rejected", author=relay.user, user=user,
                                    reason=f"\n>{quoted}"), thread_ts=ticket.message_ts)
    return "rejected"
