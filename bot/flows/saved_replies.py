"""A saved reply picked from the ticket message's menu, and the Cancel button of a chosen saved reply.

Typed as `;name`, a saved reply is a staff member's own thread message, expanded by flows/relay.py. Picked from
the menu, the bot posts it into the thread as the chooser's choice, and that message carries the relay exactly
as a typed reply's message does: the same staff check, undo window, approval, length check and ✅ note,
credited to the chooser. The bot's message cannot be deleted by the chooser, so the undo window's notice (and,
while a lead decides, the posted choice) has a Cancel button that only the chooser may use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.adapters.slack import SAVED_CANCEL, SAVED_PICK, SlackError, saved_pick_blocks
from bot.adapters.slack_syntax import quoted
from bot.context import Context
from bot.domain.relays import Relay, RelayState
from bot.domain.replies import TYPED_PREFIX
from bot.domain.text import escape_slack
from bot.flows import relay
from bot.flows.people import may_answer
from bot.flows.ticket_message import saved_replies_for
from bot.messages import t

log = logging.getLogger(__name__)

Tell = Callable[[str], None]


def handle(ctx: Context, action: str, channel: str, message_ts: str, user: str, value: str, token: str,
           now: datetime, tell: Tell) -> str:
    """A click on a saved reply's menu (the ticket message) or on its Cancel button."""
    if action == SAVED_PICK:
        return pick(ctx, channel, message_ts, user, value, token, now, tell)
    if action == SAVED_CANCEL:
        return cancel(ctx, channel, message_ts, user, value, now, tell)
    return "unknown-action"


def pick(ctx: Context, channel: str, message_ts: str, user: str, name: str, token: str, now: datetime,
         tell: Tell) -> str:
    """Post the chosen reply into the ticket's thread and relay it as the chooser's reply."""
    ref = ctx.store.thread(channel, message_ts)
    ticket = ctx.store.ticket(ref.ticket_id) if ref is not None and ref.ticket_id else None
    if ticket is None or ticket.message_ts != message_ts:
        tell(t(ctx.locale, "ticket_gone"))
        return "gone"
    if not may_answer(ctx, ticket.department, channel, user):
        dept = ticket.department or t(ctx.locale, "triage")
        tell(t(ctx.locale, "not_staff", department=dept, prefix=ctx.routing.relay.note_prefix))
        return "not-staff"
    found = saved_replies_for(ctx, ticket.department)
    if name not in found:  # routing.yaml changed since the menu was drawn
        tell(t(ctx.locale, "saved_gone", name=escape_slack(name)))
        return "unknown-saved-reply"
    guard = f"saved-pick:{channel}:{message_ts}:{user}:{token}"
    if not ctx.store.once(guard, ttl=86400):
        return "duplicate"  # a retried job: the pick was posted (at most once; they can pick again)
    text = relay.expand_saved(ctx, ticket, found[name], now)
    shown = _picked_text(ctx, user, name, text)
    try:
        ts = ctx.slack.post(channel, shown, saved_pick_blocks(shown, "", ctx.locale, cancel=False),
                            thread_ts=message_ts)
    except SlackError:
        ctx.store.forget(guard)
        raise
    outcome = relay.on_reply(ctx, channel, message_ts, ts, user, TYPED_PREFIX + name, now)
    if outcome == "awaiting-approval":  # no undo-window notice while a lead decides: Cancel is here
        _redraw(ctx, channel, ts, shown, f"{channel}:{ts}", cancel=True)
    log.info("saved reply %r picked by %s on ticket %s: %s", name, user, ticket.tweet_id, outcome)
    return outcome


def cancel(ctx: Context, channel: str, message_ts: str, user: str, key: str, now: datetime, tell: Tell) -> str:
    """The chooser's Cancel: the reply is cancelled as if its message were deleted; anyone else is told no."""
    relay_channel, _, relay_ts = key.partition(":")
    found = ctx.store.relay(relay_channel, relay_ts) if relay_ts else None
    if found is None or not found.saved:
        tell(t(ctx.locale, "ticket_gone"))
        return "gone"
    if user != found.user:
        tell(t(ctx.locale, "saved_cancel_not_yours", user=found.user))
        return "not-chooser"
    note = t(ctx.locale, "saved_cancelled", user=user, name=found.saved)
    if found.status not in (RelayState.AWAITING, RelayState.PENDING):
        tell(t(ctx.locale, "saved_cancel_too_late", state=found.status.value))
        _drop_cancel(ctx, found, message_ts, "")
        return "too-late"
    ticket = ctx.store.ticket(found.ticket)
    outcome = relay.on_delete(ctx, relay_channel, (ticket.message_ts if ticket else None) or "", relay_ts, now,
                              note=note)
    if outcome == "cancelled":
        _drop_cancel(ctx, found, message_ts, note)
    else:
        current = ctx.store.relay(relay_channel, relay_ts)
        tell(t(ctx.locale, "saved_cancel_too_late", state=current.state if current else outcome))
    return outcome


def _picked_text(ctx: Context, user: str, name: str, text: str) -> str:
    return t(ctx.locale, "saved_picked", user=user, name=name, text=quoted(text))


def _drop_cancel(ctx: Context, found: Relay, clicked_ts: str, note: str) -> None:
    """The posted choice loses its Cancel button (the undo window's notice is redrawn by the relay itself)."""
    if clicked_ts != found.ts:
        return
    shown = _picked_text(ctx, found.user, found.saved, found.text)
    _redraw(ctx, found.channel, found.ts, shown + ("\n" + note if note else ""), found.key, cancel=False)


def _redraw(ctx: Context, channel: str, ts: str, text: str, key: str, cancel: bool) -> None:
    try:
        ctx.slack.update(channel, ts, text, saved_pick_blocks(text, key, ctx.locale, cancel=cancel))
    except SlackError as exc:  # only the picture is lost: the relay itself is stored
        log.warning("could not redraw saved reply %s: %s", key, exc)
