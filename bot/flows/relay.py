"""A staff thread reply becomes a reply tweet: checks, the undo window, the send, the confirmation."""

from __future__ import annotations

import logging
import zlib
from datetime import datetime

from bot.adapters.slack import tweet_url
from bot.adapters.store import Relay
from bot.adapters.x import DuplicateContent, XError, XRateLimited, XUnavailable
from bot.context import Context
from bot.domain.text import escape_slack, is_internal_note, slack_to_plain, tweet_length
from bot.domain.tickets import Event, Ticket, transition
from bot.flows import approval, buttons, timers
from bot.messages import t
from bot.metrics import RELAY_BUCKETS

log = logging.getLogger(__name__)

STALE_SENDING_S = 90  # a relay 'sending' this long ago belongs to a worker that died
MEASURABLE_CHARS = 2000
BACKOFF_S = (5, 15, 60, 120, 300, 600)  # X 5xx and timeouts: then the reply is reported as failed
LOST_TIMER_S = 30  # a pending relay this far past its send time lost its timer (a dead worker)


def may_answer(ctx: Context, department_id: str | None, channel: str, user: str) -> bool:
    """Who may answer on X for a department: its `staff` list, or without one anyone in the channel."""
    dept = ctx.routing.department(department_id) if department_id and department_id != "triage" else None
    if dept is not None and dept.staff is not None:
        return user in dept.staff
    return ctx.slack.is_member(channel, user)


def _refusal(ctx: Context, text: str) -> tuple[str, str | None]:
    """(plain text for X, or None with the reason the thread should read)."""
    if len(text) > MEASURABLE_CHARS:
        # Far past any tweet, and twitter-text's URL scan is quadratic on long unbroken runs: don't measure.
        return text, t(ctx.locale, "far_too_long", chars=len(text), limit=280)
    plain = slack_to_plain(text)
    if not plain.strip():
        return plain, t(ctx.locale, "empty")
    length = tweet_length(plain)
    if not length.valid:
        return plain, t(ctx.locale, "too_long", weighted=length.weighted, limit=length.limit, over=length.over_by)
    return plain, None


def on_reply(ctx: Context, channel: str, thread_ts: str, ts: str, user: str, text: str, now: datetime) -> str:
    """A person wrote in a ticket's thread. Returns what happened, for logs and tests."""
    ticket_id = ctx.store.ticket_for_thread(channel, thread_ts)
    if ticket_id and ticket_id.startswith("storm:"):
        from bot.flows import storm

        return storm.on_reply(ctx, ticket_id[6:], channel, thread_ts, ts, user, text, now)
    if ticket_id and ticket_id.startswith("moved:"):
        moved = ctx.store.ticket(ticket_id[6:])
        if moved and moved.channel and moved.message_ts:
            link = ctx.slack.permalink(moved.channel, moved.message_ts)
            ctx.slack.ephemeral(channel, user, t(ctx.locale, "ticket_moved", link=link), thread_ts=thread_ts)
        return "moved"
    ticket = ctx.store.ticket(ticket_id) if ticket_id else None
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
    plain, problem = _refusal(ctx, text)
    if problem:
        if ctx.store.once(f"refused:{channel}:{ts}:{zlib.crc32(plain.encode())}", ttl=86400):
            ctx.slack.post(channel, problem, thread_ts=thread_ts)
        return "refused"
    if approval.needs_approval(ctx, ticket):
        return approval.ask(ctx, ticket, channel, thread_ts, ts, user, plain, now)
    hold = ctx.routing.relay.hold.total_seconds()
    relay = Relay(channel=channel, ts=ts, ticket=ticket.tweet_id, user=user, text=plain,
                  send_at=now.timestamp() + hold)
    if not ctx.store.add_relay(relay):
        return "duplicate"
    queued = transition(ticket, Event.REPLY_QUEUED, now)
    ctx.store.save(queued)
    if hold <= 0:
        return send(ctx, channel, ts, now)
    buttons.show(ctx, queued)
    relay.notice_ts = ctx.slack.post(channel, t(ctx.locale, "pending", seconds=int(hold)), thread_ts=thread_ts)
    ctx.store.save_relay(relay)
    from bot import jobs  # jobs imports flows; the scheduler needs the function object

    jobs.schedule_send(ctx, channel, ts, hold)
    return "pending"


def on_edit(ctx: Context, channel: str, thread_ts: str, ts: str, user: str, text: str, now: datetime) -> str:
    relay = ctx.store.relay(channel, ts)
    if relay is None:
        return on_reply(ctx, channel, thread_ts, ts, user, text, now)  # e.g. a too-long reply, shortened
    if relay.state in ("pending", approval.AWAITING):
        plain, problem = _refusal(ctx, text)
        if plain == relay.text:
            return "unchanged"  # Slack also sends message_changed for unfurls
        if problem:
            ctx.slack.post(channel, problem, thread_ts=thread_ts)
            return "refused"
        relay.text = plain
        ctx.store.save_relay(relay)
        if relay.state == approval.AWAITING:
            return approval.edited(ctx, relay)
        if relay.notice_ts:
            hold = max(0, int(relay.send_at - now.timestamp()))
            ctx.slack.update(channel, relay.notice_ts,
                             t(ctx.locale, "pending", seconds=hold) + "\n" + t(ctx.locale, "pending_edited"))
        return "edited"
    if relay.state == "sent" and ctx.store.once(f"edit-after-send:{relay.key}", ttl=86400):
        ctx.slack.post(channel, t(ctx.locale, "edit_after_send", url=_tweet_link(ctx, relay.tweet_id)),
                       thread_ts=thread_ts)
    return "ignored"


def on_delete(ctx: Context, channel: str, thread_ts: str, ts: str, now: datetime) -> str:
    relay = ctx.store.relay(channel, ts)
    if relay is None:
        return "not-a-reply"
    if relay.state == approval.AWAITING:
        return approval.cancelled(ctx, relay, now)
    if relay.state == "pending":
        relay.state = "cancelled"
        ctx.store.save_relay(relay)
        ticket = ctx.store.ticket(relay.ticket)
        if ticket:
            back = transition(ticket, Event.REPLY_CANCELLED, now)
            ctx.store.save(back)
            buttons.show(ctx, back)
        if relay.notice_ts:
            ctx.slack.update(channel, relay.notice_ts, t(ctx.locale, "cancelled"))
        return "cancelled"
    if relay.state == "sent" and ctx.store.once(f"delete-after-send:{relay.key}", ttl=86400):
        ctx.slack.post(channel, t(ctx.locale, "delete_after_send", url=_tweet_link(ctx, relay.tweet_id)),
                       thread_ts=thread_ts)
    return "ignored"


def _tweet_link(ctx: Context, tweet_id: str) -> str:
    return tweet_url(ctx.account()[1], tweet_id) if tweet_id else ""


def send(ctx: Context, channel: str, ts: str, now: datetime) -> str:
    """Send a pending relay to X, once; X outages and rate limits reschedule it with back-off."""
    if not ctx.store.claim_relay(channel, ts):
        return "not-pending"
    relay = ctx.store.relay(channel, ts)
    ticket = ctx.store.ticket(relay.ticket) if relay else None
    if relay is None or ticket is None:
        return "gone"
    thread_ts = ticket.message_ts or ""
    try:
        tweet_id = ctx.x.reply(relay.text, in_reply_to=ticket.tweet_id)
        note = t(ctx.locale, "sent", url=_tweet_link(ctx, tweet_id))
    except DuplicateContent:
        # X already has this text from us: a retry after X took the first try. Sent, not an error.
        tweet_id = ""
        note = t(ctx.locale, "sent_duplicate")
    except XRateLimited as exc:
        wait = max(1.0, (exc.reset_at or now.timestamp() + 60) - now.timestamp() + 1)
        log.warning("X rate limit: reply %s waits %.0f s for the reset", relay.key, wait)
        ctx.store.count("failures", "x_reply_rate_limited")
        return _retry_later(ctx, relay, wait, now)
    except XUnavailable as exc:
        relay.attempts += 1
        ctx.store.count("failures", "x_reply_unavailable")
        if relay.attempts > len(BACKOFF_S):
            relay.state, relay.detail = "failed", str(exc)
            ctx.store.save_relay(relay)
            ctx.slack.post(channel, t(ctx.locale, "x_failed", detail=escape_slack(str(exc))), thread_ts=thread_ts)
            return "failed"
        log.warning("X unavailable for %s (try %d): %s", relay.key, relay.attempts, exc)
        return _retry_later(ctx, relay, BACKOFF_S[relay.attempts - 1], now)
    except XError as exc:
        relay.state, relay.detail = "failed", str(exc)
        ctx.store.save_relay(relay)
        ctx.store.count("failures", "x_reply_refused")
        _report_refusal(ctx, relay, ticket, thread_ts, str(exc))
        return "failed"
    relay.state, relay.tweet_id = "sent", tweet_id
    ctx.store.save_relay(relay)
    ctx.store.count("events", "replies_sent")
    ctx.store.observe("relay_latency_seconds", max(0.0, now.timestamp() - float(relay.ts)), RELAY_BUCKETS)
    if tweet_id:
        ctx.store.link_conversation(tweet_id, ticket.tweet_id)
    answered = transition(ticket, Event.REPLY_SENT, now)
    ctx.store.save(answered)
    buttons.show(ctx, answered)
    timers.on_answered(ctx, answered, now)
    ctx.slack.post(channel, note, thread_ts=thread_ts)
    if relay.notice_ts:
        ctx.slack.update(channel, relay.notice_ts, note)
    log.info("relayed reply %s to X as %s", relay.key, tweet_id or "(duplicate)")
    return "sent"


def _retry_later(ctx: Context, relay: Relay, delay: float, now: datetime) -> str:
    from bot import jobs  # jobs imports this module

    relay.state, relay.send_at = "pending", now.timestamp() + delay
    ctx.store.save_relay(relay)
    jobs.schedule_send(ctx, relay.channel, relay.ts, delay, tag=str(int(relay.send_at)))
    return "retrying"


def _report_refusal(ctx: Context, relay: Relay, ticket: Ticket, thread_ts: str, detail: str) -> None:
    """X said no (401/403): the thread and the operators hear it once; nothing retries blindly."""
    if not ctx.store.once(f"x-refused:{relay.key}", ttl=86400):
        return
    ctx.slack.post(relay.channel, t(ctx.locale, "x_refused", detail=escape_slack(detail)), thread_ts=thread_ts)
    ops = " ".join(f"<@{u}>" for u in sorted(ctx.routing.operators or ()))
    link = ctx.slack.permalink(relay.channel, thread_ts) if thread_ts else ticket.tweet_id
    ctx.slack.post(ctx.routing.triage_channel, t(ctx.locale, "x_refused_ops", ticket=link,
                                                 detail=escape_slack(detail), ops=ops))


def recover(ctx: Context, now: datetime) -> int:
    """Send relays whose timer was lost or whose worker died mid-send (X's duplicate check covers a repeat)."""
    count = 0
    for channel, ts in ctx.store.due_relays(now.timestamp() - LOST_TIMER_S):
        relay = ctx.store.relay(channel, ts)
        if relay is None:
            continue
        if relay.state == "sending" and now.timestamp() - relay.send_at > STALE_SENDING_S:
            relay.state = "pending"
            ctx.store.save_relay(relay)
        if relay.state == "pending":
            count += send(ctx, channel, ts, now) == "sent"
    return count
