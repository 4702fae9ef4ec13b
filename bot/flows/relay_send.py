"""A relay's send: claim it, talk to X, record what X shows, with the relay and its ticket in one step.

"Sent" means X shows the tweet: X's 403 duplicate answer is "already sent" only for a retry that may have
reached X, and only once the bot found its own reply there; a fresh reply whose words X already has (sent to
someone else) goes out in a visibly distinct form, and the thread shows exactly what went out. While X answers,
the sending worker renews its claim; the sweeper resumes a send only when that claim lapsed (a dead worker).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from bot.adapters.jobqueue import current_worker_name
from bot.adapters.slack import saved_done_blocks
from bot.adapters.slack_syntax import mention, quoted, tweet_url
from bot.adapters.store.relays import CLAIM_TTL_S
from bot.adapters.x import DuplicateContent, XError, XRateLimited, XUnavailable
from bot.context import Context
from bot.domain.relays import Relay, RelayEvent, RelayState, distinct_form, sources
from bot.domain.relays import transition as relay_transition
from bot.domain.text import escape_slack, tweet_length
from bot.domain.tickets import Event, Ticket, transition
from bot.domain.xlimits import allowances
from bot.flows import timers
from bot.flows.ticket_message import show
from bot.messages import t
from bot.metrics import RELAY_BUCKETS

log = logging.getLogger(__name__)

BACKOFF_S = (5, 15, 60, 120, 300, 600)  # X 5xx and timeouts: then the reply is reported as failed
LOST_TIMER_S = 30  # a pending relay this far past its send time lost its timer (a dead worker)
RENEW_S = CLAIM_TTL_S / 3  # how often a sending worker renews its claim while X answers


def tweet_link(ctx: Context, tweet_id: str, account: str | None = None) -> str:
    """The link to a tweet the bot posted, under the account it posted from (a ticket's `account`)."""
    return tweet_url(ctx.account(account)[1], tweet_id) if tweet_id else ""


def sent_link(ctx: Context, relay: Relay) -> str:
    """The link to a relay's tweet, under its ticket's account."""
    return tweet_link(ctx, relay.tweet_id, _account_of(ctx, relay))


def _account_of(ctx: Context, relay: Relay) -> str | None:
    ticket = ctx.store.ticket(relay.ticket)
    return ticket.account if ticket else None


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


def find_on_x(ctx: Context, relay: Relay, quiet: bool = False, account: str | None = None) -> str | None:
    """Our own reply to the ticket's tweet with this relay's text, when X shows one.

    X failing to answer raises XUnavailable (the caller retries: not knowing is not "not there"), unless quiet."""
    try:
        account = account or _account_of(ctx, relay)
        user_id, _ = ctx.account(account)
        return ctx.x_for(account).own_reply(user_id, relay.ticket, relay.out_text or relay.text)
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
            "state": relay_transition(r.status, RelayEvent.FAILED).value, "detail": "ticket gone"})
        return "gone"
    held = _hold_for_budget(ctx, relay, ticket, now)
    if held:
        return held
    with _holding(ctx, relay.key, worker):
        return _attempt(ctx, relay, ticket, now)


def _budget_token(relay: Relay) -> str:
    return f"{relay.key}:{relay.attempts}"


def _windows(ctx: Context) -> list[tuple[float, int]]:
    return allowances(ctx.routing.x.windows(), ctx.routing.x.reserve, tickets=True)


def _hold_for_budget(ctx: Context, relay: Relay, ticket: Ticket, now: datetime) -> str | None:
    """Take one post from the account's budget (the whole of it: ticket replies come first), or wait: behind an
    earlier reply of this ticket that waits, or until the fullest window frees a slot. The thread hears once
    when it will go; nothing is dropped."""
    behind = ctx.store.held_before(ticket.tweet_id, relay.ts, now.timestamp())
    free_at = behind + 0.5 if behind else \
        ctx.store.take_post(ctx.account(ticket.account)[0], _windows(ctx), now.timestamp(), _budget_token(relay))
    if not free_at:
        ctx.store.unhold_reply(ticket.tweet_id, relay.ts)
        return None
    ctx.store.hold_reply(ticket.tweet_id, relay.ts, free_at)
    ctx.store.count("events", "x_reply_budget_held")
    if ctx.store.once(f"budget-held:{relay.key}", ttl=86400):
        at = datetime.fromtimestamp(free_at, ctx.routing.timezone).strftime("%H:%M:%S")
        ctx.slack.post(relay.channel, t(ctx.locale, "x_budget_held", at=at), thread_ts=ticket.message_ts or "")
    _retry_later(ctx, relay, max(0.5, free_at - now.timestamp() + 0.2), now, maybe_sent=False)
    return "held"


def _give_back(ctx: Context, relay: Relay, account: str | None = None) -> None:
    """X did not take the post: its slot in the account's budget is free again."""
    ctx.store.give_back_post(ctx.account(account)[0], _windows(ctx), _budget_token(relay))


def _attempt(ctx: Context, relay: Relay, ticket: Ticket, now: datetime) -> str:
    thread_ts = ticket.message_ts or ""
    text = relay.out_text or relay.text
    x = ctx.x_for(ticket.account)  # X allows a reply only from the account the customer summoned
    try:
        try:
            return record_sent(ctx, relay, x.reply(text, in_reply_to=ticket.tweet_id), text, now)
        except DuplicateContent:
            if relay.maybe_sent:
                found = find_on_x(ctx, relay, account=ticket.account)  # an earlier attempt reached X: sent
                if found:
                    return record_sent(ctx, relay, found, text, now, found=True)
            if text != relay.text:
                raise  # even the distinct form: nothing more the bot can do
            # The words went to someone else before: the same answer, told apart by the ticket's reference.
            distinct = distinct_form(relay.text, ticket.tweet_id)
            if not tweet_length(distinct).valid:
                raise
            ctx.store.change_relay(relay.channel, relay.ts, {RelayState.SENDING.value},
                                   lambda r: {"out_text": distinct})
            relay = replace(relay, out_text=distinct)
            return record_sent(ctx, relay, x.reply(distinct, in_reply_to=ticket.tweet_id), distinct, now)
    except DuplicateContent:
        ctx.store.count("failures", "x_reply_duplicate")
        _give_back(ctx, relay, ticket.account)
        return _fail(ctx, relay, "duplicate content", t(ctx.locale, "x_duplicate_failed"), thread_ts, now)
    except XRateLimited as exc:
        wait = max(1.0, (exc.reset_at or now.timestamp() + 60) - now.timestamp() + 1)
        log.warning("X rate limit: reply %s waits %.0f s for the reset", relay.key, wait)
        ctx.store.count("failures", "x_reply_rate_limited")
        _give_back(ctx, relay, ticket.account)
        return _retry_later(ctx, relay, wait, now, maybe_sent=False)
    except XUnavailable as exc:
        ctx.store.count("failures", "x_reply_unavailable")
        if relay.attempts > len(BACKOFF_S):
            found = find_on_x(ctx, relay, quiet=True, account=ticket.account)
            if found:
                return record_sent(ctx, relay, found, text, now, found=True)
            return _fail(ctx, relay, str(exc), t(ctx.locale, "x_failed", detail=escape_slack(str(exc))),
                         thread_ts, now)
        log.warning("X unavailable for %s (try %d): %s", relay.key, relay.attempts, exc)
        return _retry_later(ctx, relay, BACKOFF_S[relay.attempts - 1], now, maybe_sent=True)
    except XError as exc:
        ctx.store.count("failures", "x_reply_refused")
        _give_back(ctx, relay, ticket.account)
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
            show(ctx, ticket)
        if note:
            ctx.slack.post(relay.channel, note, thread_ts=thread_ts)
    return "failed"


def record_sent(ctx: Context, relay: Relay, tweet_id: str, text: str, now: datetime,
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
    if relay.saved:  # X took it: one use of this saved reply, on the day (routing timezone) it went out
        day = now.astimezone(ctx.routing.timezone).date()
        ctx.store.count_saved_reply(day, (ticket.department if ticket else None) or "", relay.saved)
    if ticket is not None:
        show(ctx, ticket)
        timers.on_answered(ctx, ticket, now)
    url = tweet_link(ctx, tweet_id, ticket.account if ticket else None)
    if deleted:
        note = t(ctx.locale, "delete_after_send", url=url)
    elif text != relay.text:
        note = t(ctx.locale, "sent_as", url=url, text=quoted(text))
    elif found:
        note = t(ctx.locale, "sent_found", url=url)
    elif relay.saved:  # the thread shows `;name` or a pick: the note says what went out
        note = t(ctx.locale, "saved_sent", url=url, name=relay.saved, text=quoted(text))
    else:
        note = t(ctx.locale, "sent", url=url)
    if ctx.store.once(f"sent-note:{relay.key}", ttl=86400):
        thread_ts = (ticket.message_ts if ticket else None) or ""
        if done.notice_ts:
            ctx.slack.update(relay.channel, done.notice_ts, note,  # the pending notice becomes the ✅ note
                             saved_done_blocks(note) if relay.saved else None)
        else:
            ctx.slack.post(relay.channel, note, thread_ts=thread_ts)
    log.info("relayed reply %s to X as %s", relay.key, tweet_id)
    return "sent"


def _retry_later(ctx: Context, relay: Relay, delay: float, now: datetime, maybe_sent: bool) -> str:
    send_at = now.timestamp() + delay
    moved = ctx.store.change_relay(
        relay.channel, relay.ts, sources(RelayEvent.RETRY),
        lambda r: {"state": relay_transition(r.status, RelayEvent.RETRY).value, "send_at": send_at,
                   "maybe_sent": "1" if maybe_sent or r.maybe_sent else ""})
    if moved is not None:
        ctx.queue.schedule_send(relay.channel, relay.ts, delay, tag=str(int(send_at)))
    return "retrying"


def _report_refusal(ctx: Context, relay: Relay, ticket: Ticket, thread_ts: str, detail: str) -> None:
    """X said no (401/403): the thread and the operators hear it once; nothing retries blindly."""
    if not ctx.store.once(f"x-refused:{relay.key}", ttl=86400):
        return
    ctx.slack.post(relay.channel, t(ctx.locale, "x_refused", detail=escape_slack(detail)), thread_ts=thread_ts)
    ops = " ".join(mention(u) for u in sorted(ctx.routing.operators or ()))
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
