"""Reply approval: in a department with `relay: {mode: approve}`, a staff reply waits for a lead.

- The reply is checked as any reply (staff, length), then stored as an "awaiting" relay and the thread gets
  an approval request with Approve / Reject buttons, mentioning the approvers.
- Approvers: the department's leads; without leads, the operators; without either, anyone in the channel.
- While it waits its author may edit it (the request shows the new text) or delete it (cancelled).
- Approve freezes the text and sends it at once (the wait for approval was its undo window); an edit after the
  approval goes back to a lead, never straight to X. The SLA's first response is the send.
- Approvers are ids or user groups, resolved by flows/people.py like every other check.
- Reject (with a reason, from a modal) returns it: the thread tells its author why; nothing goes to X.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.adapters.slack import SlackError, approval_blocks
from bot.adapters.slack_syntax import mention_each, quoted
from bot.context import Context
from bot.domain.relays import Relay, RelayEvent, RelayState, sources
from bot.domain.relays import transition as relay_transition
from bot.domain.tickets import Event, Ticket, transition
from bot.flows import people
from bot.flows.relay_send import send
from bot.flows.ticket_message import show
from bot.messages import t

log = logging.getLogger(__name__)

APPROVE, REJECT = "approve", "reject"
AWAITING = RelayState.AWAITING.value

Tell = Callable[[str], None]


def needs_approval(ctx: Context, ticket: Ticket) -> bool:
    dept = ctx.routing.department_or_none(ticket.department)
    return ctx.routing.relay_mode_for(dept) == "approve"


def approvers(ctx: Context, ticket: Ticket) -> frozenset[str] | None:
    """Who may approve this ticket's replies; None: anyone."""
    dept = ctx.routing.department_or_none(ticket.department)
    if dept is not None and dept.leads:
        return frozenset(dept.leads)
    return ctx.routing.operators


def _mentions(users: frozenset[str] | None) -> str:
    return mention_each(sorted(users or ()))


def _request_text(ctx: Context, relay: Relay, ticket: Ticket) -> str:
    return t(ctx.locale, "approval_request", approvers=_mentions(approvers(ctx, ticket)), author=relay.user,
             text=quoted(relay.text))


def ask(ctx: Context, ticket: Ticket, channel: str, thread_ts: str, ts: str, user: str, plain: str,
        now: datetime, saved: str = "") -> str:
    """Hold a checked reply for a lead. The request is posted before the relay is stored: a retry after a
    crash may post a second request (both buttons act on the same reply), but never loses the reply."""
    relay = Relay(channel=channel, ts=ts, ticket=ticket.tweet_id, user=user, text=plain, state=AWAITING,
                  saved=saved)
    text = _request_text(ctx, relay, ticket)
    relay.notice_ts = ctx.slack.post(channel, text, approval_blocks(text, relay.key, ctx.locale),
                                     thread_ts=thread_ts)
    if not ctx.store.add_relay(relay, ticket=lambda tk: transition(tk, Event.APPROVAL_ASKED, now)):
        return "duplicate"
    show(ctx, ctx.store.ticket(ticket.tweet_id) or ticket)
    return "awaiting-approval"


def ask_again(ctx: Context, relay: Relay, ticket: Ticket) -> None:
    """An approved reply was edited before it went out: a new request, for the text that would now go."""
    text = _request_text(ctx, relay, ticket)
    notice = ctx.slack.post(relay.channel, text, approval_blocks(text, relay.key, ctx.locale),
                            thread_ts=ticket.message_ts)
    ctx.store.change_relay(relay.channel, relay.ts, {AWAITING}, lambda r: {"notice_ts": notice})


def edited(ctx: Context, relay: Relay) -> str:
    """The author changed a reply that is still waiting: the request shows what would now be sent."""
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is not None and relay.notice_ts:
        text = _request_text(ctx, relay, ticket) + "\n" + t(ctx.locale, "approval_edited")
        ctx.slack.update(relay.channel, relay.notice_ts, text, approval_blocks(text, relay.key, ctx.locale))
    return "edited"


def cancelled(ctx: Context, relay: Relay, now: datetime, note: str = "") -> str:
    """The author deleted a reply that was waiting (or, a saved reply, cancelled it: `note` says so): no decision
    can be made on it any more."""
    done = ctx.store.change_relay(
        relay.channel, relay.ts, {AWAITING},
        lambda r: {"state": relay_transition(r.status, RelayEvent.CANCELLED).value},
        ticket=lambda tk: transition(tk, Event.REPLY_CANCELLED, now))
    if done is None:
        return "already-decided"
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is not None:
        show(ctx, ticket)
    _close_request(ctx, done, ticket, note or t(ctx.locale, "approval_cancelled"))
    return "cancelled"


def may_decide(ctx: Context, key: str, user: str) -> bool:
    """Quick check for the web process (before opening the Reject modal): is this user an approver?"""
    channel, _, ts = key.partition(":")
    relay = ctx.store.relay(channel, ts)
    ticket = ctx.store.ticket(relay.ticket) if relay else None
    if ticket is None:
        return False
    allowed = approvers(ctx, ticket)
    return allowed is None or people.is_among(ctx, user, allowed)


def decide(ctx: Context, decision: str, key: str, user: str, reason: str, now: datetime, tell: Tell) -> str:
    """A lead's Approve or Reject. Exactly one decision (or the author's delete) wins."""
    channel, _, ts = key.partition(":")
    relay = ctx.store.relay(channel, ts)
    ticket = ctx.store.ticket(relay.ticket) if relay else None
    if relay is None or ticket is None:
        tell(t(ctx.locale, "ticket_gone"))
        return "gone"
    allowed = approvers(ctx, ticket)
    if allowed is not None and not people.is_among(ctx, user, allowed):
        tell(t(ctx.locale, "approval_not_lead", who=_mentions(allowed).strip()))
        return "not-approver"
    if decision == APPROVE:
        return _approve(ctx, relay, ticket, user, now, tell)
    return _reject(ctx, relay, ticket, user, reason, now, tell)


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


def _approve(ctx: Context, relay: Relay, ticket: Ticket, user: str, now: datetime, tell: Tell) -> str:
    """Approved: the text is frozen (an edit now goes back to a lead) and sent at once. Only one decision wins:
    the compare-and-set from awaiting."""
    approved = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.APPROVED),
        lambda r: {"state": relay_transition(r.status, RelayEvent.APPROVED).value, "send_at": now.timestamp(),
                   "frozen": "approved", "approved_by": user, "detail": f"approved by {user}", "notice_ts": ""},
        ticket=lambda tk: transition(tk, Event.REPLY_QUEUED, now))  # pending: the sweeper sends it if we die here
    if approved is None:
        current = ctx.store.relay(relay.channel, relay.ts)
        tell(t(ctx.locale, "approval_done", state=current.state if current else "gone"))
        return "already-decided"
    show(ctx, ctx.store.ticket(ticket.tweet_id) or ticket)
    # The request keeps "approved by"; the send adds its own ✅ note.
    _close_request(ctx, approved, ticket, t(ctx.locale, "approval_approved", user=user), notice_ts=relay.notice_ts)
    return send(ctx, relay.channel, relay.ts, now)


def _reject(ctx: Context, relay: Relay, ticket: Ticket, user: str, reason: str, now: datetime,
            tell: Tell) -> str:
    rejected = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.REJECTED),
        lambda r: {"state": relay_transition(r.status, RelayEvent.REJECTED).value, "detail": reason},
        ticket=lambda tk: transition(tk, Event.REPLY_REJECTED, now))
    if rejected is None:
        current = ctx.store.relay(relay.channel, relay.ts)
        tell(t(ctx.locale, "approval_done", state=current.state if current else "gone"))
        return "already-decided"
    show(ctx, ctx.store.ticket(ticket.tweet_id) or ticket)
    _close_request(ctx, relay, ticket, t(ctx.locale, "approval_rejected_note", user=user))
    reason_quoted = quoted(reason.strip())
    ctx.slack.post(relay.channel, t(ctx.locale, "approval_rejected", author=relay.user, user=user,
                                    reason=f"\n>{reason_quoted}"), thread_ts=ticket.message_ts)
    return "rejected"
