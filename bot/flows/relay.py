"""A staff thread reply becomes a reply tweet: checks, the undo window, the send, the confirmation.

Every change of a relay goes through `domain/relays.transition` and is written compare-and-set together with its
ticket (store.change_relay), so a stale copy on another worker changes nothing. "Sent" means X shows the tweet:
a 403 duplicate answer is "already sent" only for a retry that may have reached X, and only once the bot found
its own reply; a fresh reply whose words X already has (sent to someone else) goes out in a visibly distinct
form, and the thread shows exactly what went out.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from bot.adapters.jobqueue import current_worker_name
from bot.adapters.slack import tweet_url
from bot.adapters.store.relays import CLAIM_TTL_S
from bot.adapters.x import DuplicateContent, XError, XRateLimited, XUnavailable
from bot.context import Context
from bot.domain.relays import Relay, RelayEvent, RelayState, distinct_form, sources
from bot.domain.relays import transition as relay_transition
from bot.domain.text import escape_slack, is_internal_note, slack_to_plain, tweet_length
from bot.domain.tickets import Event, State, Ticket, transition
from bot.flows import approval, buttons, timers
from bot.messages import t
from bot.metrics import RELAY_BUCKETS

log = logging.getLogger(__name__)

MEASURABLE_CHARS = 2000
BACKOFF_S = (5, 15, 60, 120, 300, 600)  # X 5xx and timeouts: then the reply is reported as failed
LOST_TIMER_S = 30  # a pending relay this far past its send time lost its timer (a dead worker)
RENEW_S = CLAIM_TTL_S / 3  # how often a sending worker renews its claim while X answers


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
    reopened = ticket.state is State.CLOSED
    if approval.needs_approval(ctx, ticket):
        outcome = approval.ask(ctx, ticket, channel, thread_ts, ts, user, plain, now)
    else:
        outcome = _queue(ctx, ticket, channel, thread_ts, ts, user, plain, now)
    if reopened and outcome != "duplicate":
        # "Resolve without reply", then a reply: the staff member clearly means to answer. Re-opened and sent.
        ctx.slack.post(channel, t(ctx.locale, "reply_reopens"), thread_ts=thread_ts)
    return outcome


def _queue(ctx: Context, ticket: Ticket, channel: str, thread_ts: str, ts: str, user: str, plain: str,
           now: datetime) -> str:
    hold = ctx.routing.relay.hold.total_seconds()
    relay = Relay(channel=channel, ts=ts, ticket=ticket.tweet_id, user=user, text=plain,
                  send_at=now.timestamp() + hold)
    if not ctx.store.add_relay(relay, ticket=lambda tk: transition(tk, Event.REPLY_QUEUED, now)):
        return "duplicate"
    if hold <= 0:
        return send(ctx, channel, ts, now)
    buttons.show(ctx, ctx.store.ticket(ticket.tweet_id) or ticket)
    notice = ctx.slack.post(channel, t(ctx.locale, "pending", seconds=int(hold)), thread_ts=thread_ts)
    ctx.store.change_relay(channel, ts, {s.value for s in RelayState}, lambda r: {"notice_ts": notice})
    from bot import jobs  # jobs imports flows; the scheduler needs the function object

    jobs.schedule_send(ctx, channel, ts, hold)
    return "pending"


def on_edit(ctx: Context, channel: str, thread_ts: str, ts: str, user: str, text: str, now: datetime) -> str:
    relay = ctx.store.relay(channel, ts)
    if relay is None:
        return on_reply(ctx, channel, thread_ts, ts, user, text, now)  # e.g. a too-long reply, shortened
    plain, problem = _refusal(ctx, text)
    if plain == relay.text:
        return "unchanged"  # Slack also sends message_changed for unfurls
    status = relay.status
    if status is RelayState.SENT:
        if ctx.store.once(f"edit-after-send:{relay.key}", ttl=86400):
            ctx.slack.post(channel, t(ctx.locale, "edit_after_send", url=_tweet_link(ctx, relay.tweet_id)),
                           thread_ts=thread_ts)
        return "ignored"
    if status not in (RelayState.PENDING, RelayState.AWAITING, RelayState.SENDING):
        return "ignored"
    if problem:
        ctx.slack.post(channel, problem, thread_ts=thread_ts)
        return "refused"
    if status is RelayState.AWAITING:
        changed = ctx.store.change_relay(channel, ts, {RelayState.AWAITING.value}, lambda r: {"text": plain})
        if changed is not None:
            return approval.edited(ctx, changed)
        return on_edit(ctx, channel, thread_ts, ts, user, text, now)  # decided meanwhile: judge it as it is now
    elif status is RelayState.PENDING and relay.frozen == "approved" and relay.attempts == 0:
        return _back_to_lead(ctx, relay, plain, now)
    elif status is RelayState.PENDING and not relay.frozen:
        changed = ctx.store.change_relay(channel, ts, {RelayState.PENDING.value},
                                         lambda r: None if r.frozen else {"text": plain})
        if changed is not None:
            if changed.notice_ts:
                hold = max(0, int(changed.send_at - now.timestamp()))
                ctx.slack.update(channel, changed.notice_ts,
                                 t(ctx.locale, "pending", seconds=hold) + "\n" + t(ctx.locale, "pending_edited"))
            return "edited"
        return on_edit(ctx, channel, thread_ts, ts, user, text, now)  # claimed meanwhile: judge it as it is now
    # Frozen: an attempt was made (X may have the words), or it is being sent right now.
    if ctx.store.once(f"edit-frozen:{relay.key}:{zlib.crc32(plain.encode())}", ttl=86400):
        ctx.slack.post(channel, t(ctx.locale, "edit_while_sending"), thread_ts=thread_ts)
    return "frozen"


def _back_to_lead(ctx: Context, relay: Relay, plain: str, now: datetime) -> str:
    """An approved reply edited before its first attempt: what a lead approved is not what would go out."""
    changed = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.RETURNED),
        lambda r: None if r.attempts or r.frozen != "approved" else {
            "state": relay_transition(r.status, RelayEvent.RETURNED).value, "text": plain, "frozen": "",
            "approved_by": ""},
        ticket=lambda tk: transition(tk, Event.APPROVAL_ASKED, now))
    if changed is None:
        if ctx.store.once(f"edit-frozen:{relay.key}:{zlib.crc32(plain.encode())}", ttl=86400):
            ctx.slack.post(relay.channel, t(ctx.locale, "edit_while_sending"), thread_ts=_thread(ctx, relay))
        return "frozen"
    ctx.slack.post(relay.channel, t(ctx.locale, "edit_after_approval"), thread_ts=_thread(ctx, relay))
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is not None:
        buttons.show(ctx, ticket)
        approval.ask_again(ctx, changed, ticket)
    return "back-to-lead"


def _thread(ctx: Context, relay: Relay) -> str:
    ticket = ctx.store.ticket(relay.ticket)
    return (ticket.message_ts if ticket else None) or ""


def on_delete(ctx: Context, channel: str, thread_ts: str, ts: str, now: datetime) -> str:
    relay = ctx.store.relay(channel, ts)
    if relay is None:
        return "not-a-reply"
    if relay.status is RelayState.AWAITING:
        return approval.cancelled(ctx, relay, now)
    if relay.status is RelayState.PENDING and relay.maybe_sent:
        found = _find_on_x(ctx, relay, quiet=True)  # an earlier attempt may have reached X: the tweet stands
        if found:
            return _record_sent(ctx, relay, found, relay.out_text or relay.text, now, deleted=True)
    if relay.status is RelayState.PENDING:
        cancelled = ctx.store.change_relay(
            channel, ts, sources(RelayEvent.CANCELLED),
            lambda r: {"state": relay_transition(r.status, RelayEvent.CANCELLED).value},
            ticket=lambda tk: transition(tk, Event.REPLY_CANCELLED, now))
        if cancelled is not None:
            ticket = ctx.store.ticket(relay.ticket)
            if ticket:
                buttons.show(ctx, ticket)
            if cancelled.notice_ts:
                ctx.slack.update(channel, cancelled.notice_ts, t(ctx.locale, "cancelled"))
            return "cancelled"
        relay = ctx.store.relay(channel, ts) or relay  # a worker claimed it meanwhile
    if relay.status is RelayState.SENDING:
        if ctx.store.once(f"delete-while-sending:{relay.key}", ttl=86400):
            ctx.slack.post(channel, t(ctx.locale, "delete_while_sending"), thread_ts=thread_ts)
        return "sending"
    if relay.status is RelayState.SENT and ctx.store.once(f"delete-after-send:{relay.key}", ttl=86400):
        ctx.slack.post(channel, t(ctx.locale, "delete_after_send", url=_tweet_link(ctx, relay.tweet_id)),
                       thread_ts=thread_ts)
    return "ignored"


def _tweet_link(ctx: Context, tweet_id: str) -> str:
    return tweet_url(ctx.account()[1], tweet_id) if tweet_id else ""


@contextmanager
def _holding(ctx: Context, key: str, worker: str) -> Iterator[None]:
    """Renew this worker's claim on a send while X answers: a live worker's slow call is never taken over,
    and a dead worker's claim lapses within CLAIM_TTL_S."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(RENEW_S):
            try:
                if not ctx.store.renew_claim(key, worker):
                    return
            except Exception as exc:  # noqa: BLE001 - Redis gone for a moment: the next round tries again
                log.warning("could not renew the claim on %s: %s", key, exc)

    thread = threading.Thread(target=renew, name=f"claim {key}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(1)


def _find_on_x(ctx: Context, relay: Relay, quiet: bool = False) -> str | None:
    """Our own reply to the ticket's tweet with this relay's text, when X shows one.

    X failing to answer raises XUnavailable (the caller retries: not knowing is not "not there"), unless quiet."""
    try:
        user_id, _ = ctx.account()
        return ctx.x.own_reply(user_id, relay.ticket, relay.out_text or relay.text)
    except XUnavailable as exc:
        if not quiet:
            raise
        log.warning("could not look for reply %s on X: %s", relay.key, exc)
        return None
    except XError as exc:
        log.warning("could not look for reply %s on X: %s", relay.key, exc)
        return None


def send(ctx: Context, channel: str, ts: str, now: datetime) -> str:
    """Send a pending relay to X, once; X outages and rate limits reschedule it with back-off."""
    worker = current_worker_name()
    relay = ctx.store.change_relay(
        channel, ts, sources(RelayEvent.CLAIMED),
        lambda r: {"state": relay_transition(r.status, RelayEvent.CLAIMED).value, "attempts": r.attempts + 1,
                   "frozen": r.frozen or "attempted", "claimed_by": worker},
        claim_by=worker)
    if relay is None:
        return "not-pending"
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is None:
        ctx.store.change_relay(channel, ts, sources(RelayEvent.FAILED), lambda r: {
            "state": RelayState.FAILED.value, "detail": "ticket gone"})
        return "gone"
    with _holding(ctx, relay.key, worker):
        return _attempt(ctx, relay, ticket, now)


def _attempt(ctx: Context, relay: Relay, ticket: Ticket, now: datetime) -> str:
    thread_ts = ticket.message_ts or ""
    text = relay.out_text or relay.text
    try:
        try:
            return _record_sent(ctx, relay, ctx.x.reply(text, in_reply_to=ticket.tweet_id), text, now)
        except DuplicateContent:
            if relay.maybe_sent:
                found = _find_on_x(ctx, relay)  # this relay's earlier attempt reached X: sent, with its link
                if found:
                    return _record_sent(ctx, relay, found, text, now, found=True)
            if text != relay.text:
                raise  # even the distinct form: nothing more the bot can do
            # The words went to someone else before: the same answer, told apart by the ticket's reference.
            distinct = distinct_form(relay.text, ticket.tweet_id)
            if not tweet_length(distinct).valid:
                raise
            ctx.store.change_relay(relay.channel, relay.ts, {RelayState.SENDING.value},
                                   lambda r: {"out_text": distinct})
            relay = replace(relay, out_text=distinct)
            return _record_sent(ctx, relay, ctx.x.reply(distinct, in_reply_to=ticket.tweet_id), distinct, now)
    except DuplicateContent:
        ctx.store.count("failures", "x_reply_duplicate")
        return _fail(ctx, relay, "duplicate content", t(ctx.locale, "x_duplicate_failed"), thread_ts, now)
    except XRateLimited as exc:
        wait = max(1.0, (exc.reset_at or now.timestamp() + 60) - now.timestamp() + 1)
        log.warning("X rate limit: reply %s waits %.0f s for the reset", relay.key, wait)
        ctx.store.count("failures", "x_reply_rate_limited")
        return _retry_later(ctx, relay, wait, now, maybe_sent=False)
    except XUnavailable as exc:
        ctx.store.count("failures", "x_reply_unavailable")
        if relay.attempts > len(BACKOFF_S):
            found = _find_on_x(ctx, relay, quiet=True)
            if found:
                return _record_sent(ctx, relay, found, text, now, found=True)
            return _fail(ctx, relay, str(exc), t(ctx.locale, "x_failed", detail=escape_slack(str(exc))),
                         thread_ts, now)
        log.warning("X unavailable for %s (try %d): %s", relay.key, relay.attempts, exc)
        return _retry_later(ctx, relay, BACKOFF_S[relay.attempts - 1], now, maybe_sent=True)
    except XError as exc:
        ctx.store.count("failures", "x_reply_refused")
        _fail(ctx, relay, str(exc), "", thread_ts, now)
        _report_refusal(ctx, relay, ticket, thread_ts, str(exc))
        return "failed"


def _fail(ctx: Context, relay: Relay, detail: str, note: str, thread_ts: str, now: datetime) -> str:
    """Not sent, and the thread says why; the ticket waits for an answer again."""
    failed = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.FAILED),
        lambda r: {"state": relay_transition(r.status, RelayEvent.FAILED).value, "detail": detail},
        ticket=lambda tk: transition(tk, Event.REPLY_CANCELLED, now))
    if failed is not None:
        ticket = ctx.store.ticket(relay.ticket)
        if ticket is not None:
            buttons.show(ctx, ticket)
        if note:
            ctx.slack.post(relay.channel, note, thread_ts=thread_ts)
    return "failed"


def _record_sent(ctx: Context, relay: Relay, tweet_id: str, text: str, now: datetime,
                 deleted: bool = False, found: bool = False) -> str:
    """X shows the tweet: the relay, its ticket and the conversation pointer change in one step; one ✅ note."""
    done = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.SENT),
        lambda r: {"state": relay_transition(r.status, RelayEvent.SENT).value, "tweet_id": tweet_id,
                   "out_text": text},
        ticket=lambda tk: transition(tk, Event.REPLY_SENT, now), link_tweet=tweet_id)
    if done is None:
        log.warning("reply %s was sent as %s but its record had moved on", relay.key, tweet_id)
        return "sent"
    ctx.store.count("events", "replies_sent")
    ctx.store.observe("relay_latency_seconds", max(0.0, now.timestamp() - float(relay.ts)), RELAY_BUCKETS)
    ticket = ctx.store.ticket(relay.ticket)
    if ticket is not None:
        buttons.show(ctx, ticket)
        timers.on_answered(ctx, ticket, now)
    url = _tweet_link(ctx, tweet_id)
    if deleted:
        note = t(ctx.locale, "delete_after_send", url=url)
    elif text != relay.text:
        note = t(ctx.locale, "sent_as", url=url, text=escape_slack(text).replace("\n", "\n>"))
    elif found:
        note = t(ctx.locale, "sent_found", url=url)
    else:
        note = t(ctx.locale, "sent", url=url)
    if ctx.store.once(f"sent-note:{relay.key}", ttl=86400):
        thread_ts = (ticket.message_ts if ticket else None) or ""
        if done.notice_ts:
            ctx.slack.update(relay.channel, done.notice_ts, note)  # the pending notice becomes the ✅ note
        else:
            ctx.slack.post(relay.channel, note, thread_ts=thread_ts)
    log.info("relayed reply %s to X as %s", relay.key, tweet_id)
    return "sent"


def _retry_later(ctx: Context, relay: Relay, delay: float, now: datetime, maybe_sent: bool) -> str:
    from bot import jobs  # jobs imports this module

    send_at = now.timestamp() + delay
    moved = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.RETRY),
        lambda r: {"state": relay_transition(r.status, RelayEvent.RETRY).value, "send_at": send_at,
                   "maybe_sent": "1" if maybe_sent or r.maybe_sent else ""})
    if moved is not None:
        jobs.schedule_send(ctx, relay.channel, relay.ts, delay, tag=str(int(send_at)))
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
    """Send relays whose timer was lost, and resume those whose worker died mid-send (its claim lapsed: a live
    worker renews it while X answers, so a slow X is never taken over). A resumed send may have reached X."""
    count = 0
    for channel, ts in ctx.store.due_relays(now.timestamp()):
        relay = ctx.store.relay(channel, ts)
        if relay is None:
            continue
        if relay.status is RelayState.SENDING and ctx.store.claim_holder(relay.key) is None:
            log.warning("reply %s: worker %s died mid-send; resuming", relay.key, relay.claimed_by or "?")
            resumed = ctx.store.change_relay(
                channel, ts, sources(RelayEvent.RESUMED),
                lambda r: None if ctx.store.claim_holder(r.key) else {
                    "state": relay_transition(r.status, RelayEvent.RESUMED).value, "maybe_sent": "1"})
            if resumed is not None:
                count += send(ctx, channel, ts, now) == "sent"
        elif relay.status is RelayState.PENDING and relay.send_at <= now.timestamp() - LOST_TIMER_S:
            count += send(ctx, channel, ts, now) == "sent"
    return count
