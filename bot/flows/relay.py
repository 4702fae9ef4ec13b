"""A staff thread reply becomes a reply tweet: checks, the undo window, edits and deletions (the send itself and
its confirmation: relay_send.py).

Every change of a relay goes through `domain/relays.transition` and is written compare-and-set together with its
ticket (store.change_relay), so a stale copy on another worker changes nothing. The text is frozen once it counts:
after a lead's approval an edit goes back to a lead; after a send attempt the thread says "already sending".
"""

from __future__ import annotations

import logging
import zlib
from datetime import datetime

from bot.adapters.slack import saved_done_blocks, saved_pending_blocks
from bot.adapters.slack_syntax import quoted
from bot.context import Context
from bot.domain import replies
from bot.domain.relays import Relay, RelayEvent, RelayState, sources
from bot.domain.relays import transition as relay_transition
from bot.domain.text import escape_slack, is_internal_note, slack_to_plain, tweet_length
from bot.domain.threads import ThreadKind
from bot.domain.tickets import Event, State, Ticket, transition
from bot.flows import approval, storm
from bot.flows.people import may_answer
from bot.flows.relay_send import find_on_x, record_sent, recover, send, sent_link
from bot.flows.ticket_message import refuses_reply, saved_replies_for, show
from bot.messages import t

__all__ = ["expand_saved", "may_answer", "on_delete", "on_edit", "on_reply", "recover", "send"]

log = logging.getLogger(__name__)

MEASURABLE_CHARS = 2000


def _refusal(ctx: Context, text: str, saved: str = "") -> tuple[str, str | None]:
    """(plain text for X, or None with the reason the thread should read). A saved reply is plain already."""
    if len(text) > MEASURABLE_CHARS:
        # Far past any tweet, and twitter-text's URL scan is quadratic on long unbroken runs: don't measure.
        return text, t(ctx.locale, "far_too_long", chars=len(text), limit=280)
    plain = text if saved else slack_to_plain(text)
    if not plain.strip():
        return plain, t(ctx.locale, "empty")
    length = tweet_length(plain)
    if not length.valid:
        return plain, t(ctx.locale, "too_long", weighted=length.weighted, limit=length.limit, over=length.over_by)
    return plain, None


def on_reply(ctx: Context, channel: str, thread_ts: str, ts: str, user: str, text: str, now: datetime) -> str:
    """A person wrote in a ticket's thread. Returns what happened, for logs and tests."""
    ref = ctx.store.thread(channel, thread_ts)
    if ref is not None and ref.kind is ThreadKind.STORM:
        return storm.on_reply(ctx, ref.id, channel, thread_ts, ts, user, text, now)
    if ref is not None and ref.kind is ThreadKind.MOVED:
        moved = ctx.store.ticket(ref.id)
        if moved and moved.channel and moved.message_ts:
            link = ctx.slack.permalink(moved.channel, moved.message_ts)
            ctx.slack.ephemeral(channel, user, t(ctx.locale, "ticket_moved", link=link), thread_ts=thread_ts)
        return "moved"
    ticket = ctx.store.ticket(ref.id) if ref is not None else None
    if ticket is None:
        return "not-a-ticket"
    if is_internal_note(text, ctx.routing.relay.note_prefix):
        return "note"
    if ctx.store.relay(channel, ts) is not None:
        return "duplicate"
    if not may_answer(ctx, ticket.department, channel, user):
        dept = ticket.department or t(ctx.locale, "triage")
        ctx.slack.ephemeral(channel, user, t(ctx.locale, "not_staff", department=dept,
                                             prefix=ctx.routing.relay.note_prefix), thread_ts=thread_ts)
        return "not-staff"
    if refuses_reply(ctx, ticket):
        # Said at once, not after X's 403: self-serve access may reply only to a post that summoned the account.
        if ctx.store.once(f"unsummoned:{channel}:{ts}", ttl=86400):
            ctx.slack.post(channel, t(ctx.locale, "x_not_summoned_reply",
                                      username=ticket.author.username), thread_ts=thread_ts)
        return "not-summoned"
    text, saved = _saved_text(ctx, ticket, text, now)
    if saved is None:
        _tell_unknown(ctx, ticket, channel, thread_ts, user, text)
        return "unknown-saved-reply"
    plain, problem = _refusal(ctx, text, saved)
    if problem:
        if ctx.store.once(f"refused:{channel}:{ts}:{zlib.crc32(plain.encode())}", ttl=86400):
            ctx.slack.post(channel, problem, thread_ts=thread_ts)
        return "refused"
    reopened = ticket.state is State.CLOSED
    if approval.needs_approval(ctx, ticket):
        outcome = approval.ask(ctx, ticket, channel, thread_ts, ts, user, plain, now, saved=saved)
    else:
        outcome = _queue(ctx, ticket, channel, thread_ts, ts, user, plain, now, saved=saved)
    if reopened and outcome != "duplicate":
        # "Resolve without reply", then a reply: the staff member clearly means to answer. Re-opened and sent.
        ctx.slack.post(channel, t(ctx.locale, "reply_reopens"), thread_ts=thread_ts)
    return outcome


def _queue(ctx: Context, ticket: Ticket, channel: str, thread_ts: str, ts: str, user: str, plain: str,
           now: datetime, saved: str = "") -> str:
    hold = ctx.routing.relay.hold.total_seconds()
    relay = Relay(channel=channel, ts=ts, ticket=ticket.tweet_id, user=user, text=plain,
                  send_at=now.timestamp() + hold, saved=saved)
    if not ctx.store.add_relay(relay, ticket=lambda tk: transition(tk, Event.REPLY_QUEUED, now)):
        return "duplicate"
    if hold <= 0:
        return send(ctx, channel, ts, now)
    show(ctx, ctx.store.ticket(ticket.tweet_id) or ticket)
    notice = ctx.slack.post(channel, *_pending(ctx, relay, int(hold)), thread_ts=thread_ts)
    noted = ctx.store.change_relay(channel, ts, {s.value for s in RelayState}, lambda r: {"notice_ts": notice})
    if noted is not None and noted.status is RelayState.CANCELLED:
        # Deleted while the notice was being posted: on_delete found no notice to update, so this does it.
        ctx.slack.update(channel, notice, t(ctx.locale, "cancelled"))
        return "cancelled"
    ctx.queue.schedule_send(channel, ts, hold)
    return "pending"


def on_edit(ctx: Context, channel: str, thread_ts: str, ts: str, user: str, text: str, now: datetime) -> str:
    relay = ctx.store.relay(channel, ts)
    if relay is None:
        return on_reply(ctx, channel, thread_ts, ts, user, text, now)  # e.g. a too-long reply, shortened
    ticket = ctx.store.ticket(relay.ticket)
    text, saved = _saved_text(ctx, ticket, text, now) if ticket else (text, "")
    if saved is None:
        _tell_unknown(ctx, ticket, channel, thread_ts, user, text)
        return "refused"
    plain, problem = _refusal(ctx, text, saved)
    if plain == relay.text or (saved and saved == relay.saved):
        return "unchanged"  # Slack also sends message_changed for unfurls; `;name` kept is the words kept
    status = relay.status
    if status is RelayState.SENT:
        if ctx.store.once(f"edit-after-send:{relay.key}", ttl=86400):
            ctx.slack.post(channel, t(ctx.locale, "edit_after_send", url=sent_link(ctx, relay)),
                           thread_ts=thread_ts)
        return "ignored"
    if status not in (RelayState.PENDING, RelayState.AWAITING, RelayState.SENDING):
        return "ignored"
    if problem:
        ctx.slack.post(channel, problem, thread_ts=thread_ts)
        return "refused"
    if status is RelayState.AWAITING:
        changed = ctx.store.change_relay(channel, ts, {RelayState.AWAITING.value},
                                         lambda r: {"text": plain, "saved": saved})
        if changed is not None:
            return approval.edited(ctx, changed)
        return on_edit(ctx, channel, thread_ts, ts, user, text, now)  # decided meanwhile: judge it as it is now
    elif status is RelayState.PENDING and relay.frozen == "approved" and relay.attempts == 0:
        return _back_to_lead(ctx, relay, plain, now, saved)
    elif status is RelayState.PENDING and not relay.frozen:
        changed = ctx.store.change_relay(channel, ts, {RelayState.PENDING.value},
                                         lambda r: None if r.frozen else {"text": plain, "saved": saved})
        if changed is not None:
            if changed.notice_ts:
                hold = max(0, int(changed.send_at - now.timestamp()))
                ctx.slack.update(channel, changed.notice_ts, *_pending(ctx, changed, hold, edited=True))
            return "edited"
        return on_edit(ctx, channel, thread_ts, ts, user, text, now)  # claimed meanwhile: judge it as it is now
    # Frozen: an attempt was made (X may have the words), or it is being sent right now.
    if ctx.store.once(f"edit-frozen:{relay.key}:{zlib.crc32(plain.encode())}", ttl=86400):
        ctx.slack.post(channel, t(ctx.locale, "edit_while_sending"), thread_ts=thread_ts)
    return "frozen"


def _back_to_lead(ctx: Context, relay: Relay, plain: str, now: datetime, saved: str = "") -> str:
    """An approved reply edited before its first attempt: what a lead approved is not what would go out."""
    changed = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.RETURNED),
        lambda r: None if r.attempts or r.frozen != "approved" else {
            "state": relay_transition(r.status, RelayEvent.RETURNED).value, "text": plain, "frozen": "",
            "approved_by": "", "saved": saved},
        ticket=lambda tk: transition(tk, Event.APPROVAL_ASKED, now))
    if changed is None:
        if ctx.store.once(f"edit-frozen:{relay.key}:{zlib.crc32(plain.encode())}", ttl=86400):
            ctx.slack.post(relay.channel, t(ctx.locale, "edit_while_sending"), thread_ts=_thread(ctx, relay))
        return "frozen"
    ctx.slack.post(relay.channel, t(ctx.locale, "edit_after_approval"), thread_ts=_thread(ctx, relay))
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is not None:
        show(ctx, ticket)
        approval.ask_again(ctx, changed, ticket)
    return "back-to-lead"


def _thread(ctx: Context, relay: Relay) -> str:
    ticket = ctx.store.ticket(relay.ticket)
    return (ticket.message_ts if ticket else None) or ""


def on_delete(ctx: Context, channel: str, thread_ts: str, ts: str, now: datetime, note: str = "") -> str:
    """The reply's message was deleted (or, for a saved reply, its chooser pressed Cancel: `note` says so)."""
    relay = ctx.store.relay(channel, ts)
    if relay is None:
        return "not-a-reply"
    if relay.status is RelayState.AWAITING:
        return approval.cancelled(ctx, relay, now, note)
    if relay.status is RelayState.PENDING and relay.maybe_sent:
        found = find_on_x(ctx, relay, quiet=True)  # an earlier attempt may have reached X: the tweet stands
        if found:
            return record_sent(ctx, relay, found, relay.out_text or relay.text, now, deleted=True)
    if relay.status is RelayState.PENDING:
        cancelled = ctx.store.change_relay(
            channel, ts, sources(RelayEvent.CANCELLED),
            lambda r: {"state": relay_transition(r.status, RelayEvent.CANCELLED).value},
            ticket=lambda tk: transition(tk, Event.REPLY_CANCELLED, now))
        if cancelled is not None:
            ticket = ctx.store.ticket(relay.ticket)
            if ticket:
                show(ctx, ticket)
            if cancelled.notice_ts:
                ctx.slack.update(channel, cancelled.notice_ts, note or t(ctx.locale, "cancelled"),
                                 saved_done_blocks(note) if note else None)
            return "cancelled"
        relay = ctx.store.relay(channel, ts) or relay  # a worker claimed it meanwhile
    if relay.status is RelayState.SENDING:
        if ctx.store.once(f"delete-while-sending:{relay.key}", ttl=86400):
            ctx.slack.post(channel, t(ctx.locale, "delete_while_sending"), thread_ts=thread_ts)
        return "sending"
    if relay.status is RelayState.SENT and ctx.store.once(f"delete-after-send:{relay.key}", ttl=86400):
        ctx.slack.post(channel, t(ctx.locale, "delete_after_send", url=sent_link(ctx, relay)),
                       thread_ts=thread_ts)
    return "ignored"


# -- saved replies (issue 16): `;name` as the whole reply is the saved reply, expanded, relayed like typed text --

def _saved_text(ctx: Context, ticket: Ticket, text: str, now: datetime) -> tuple[str, str | None]:
    """(text, saved reply name) for a reply: ("…", "") typed text; (expanded, name) `;name`; (name, None) a
    `;name` this department does not have."""
    name = replies.typed_name(text)
    if name is None:
        return text, ""
    found = saved_replies_for(ctx, ticket.department)
    if name not in found:
        return name, None
    return expand_saved(ctx, ticket, found[name], now), name


def expand_saved(ctx: Context, ticket: Ticket, reply: replies.SavedReply, now: datetime) -> str:
    dept = ctx.routing.department_or_none(ticket.department)
    return replies.expand(reply, ticket.tweet_id, dept.phone if dept else None, now, ctx.routing.timezone)


def _tell_unknown(ctx: Context, ticket: Ticket | None, channel: str, thread_ts: str, user: str, name: str) -> None:
    known = saved_replies_for(ctx, ticket.department if ticket else None)
    ctx.slack.ephemeral(channel, user, t(ctx.locale, "saved_unknown", name=escape_slack(name),
                                         known=replies.known_names(known)), thread_ts=thread_ts)


def _pending(ctx: Context, relay: Relay, seconds: int, edited: bool = False) -> tuple[str, list | None]:
    """The undo window's notice: a saved reply's shows the words that will go (the thread shows only `;name`
    or the pick) and a Cancel button for whoever chose it."""
    if not relay.saved:
        text = t(ctx.locale, "pending", seconds=seconds)
        return (text + "\n" + t(ctx.locale, "pending_edited") if edited else text), None
    text = t(ctx.locale, "saved_pending", name=relay.saved, seconds=seconds, user=relay.user,
             text=quoted(relay.text))
    return text, saved_pending_blocks(text, relay.key, ctx.locale)
