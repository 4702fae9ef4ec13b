"""A storm's broadcast: one confirmed staff reply to exactly the members listed when it was offered.

Checked like every other button (the author, the department's staff, its leads, the operators: ids or user
groups); paced, each member sent once, resumable after a crash or a 429; a Stop button while it runs. Each reply
starts with the customer's @handle; X's duplicate answer follows the relay's rule (relay_send.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from bot.adapters.slack import storm_progress_blocks
from bot.adapters.x import DuplicateContent, XError, XRateLimited, XUnavailable
from bot.context import Context
from bot.domain.relays import distinct_form
from bot.domain.storms import BroadcastEvent, BroadcastState
from bot.domain.text import escape_slack, tweet_length
from bot.domain.tickets import Event, State, Ticket, transition
from bot.domain.xlimits import allowances
from bot.flows import people, timers
from bot.flows.people import may_answer
from bot.messages import t

log = logging.getLogger(__name__)

PROGRESS_EVERY = 25
BROADCAST_LEASE_S = 120
SLICE_S = 10.0  # a broadcast job sends for this long, then continues in a fresh job

Tell = Callable[[str], None]


def may_control(ctx: Context, dept: str, channel: str, user: str) -> bool:
    """Who may send, cancel, stop or end in a storm: whoever may answer for its department, its leads and the
    operators (ids or user groups, resolved like every other check)."""
    if may_answer(ctx, dept, channel, user):
        return True
    department = ctx.routing.department_or_none(dept)
    leads = department.leads if department else ()
    return people.is_among(ctx, user, [*leads, *(ctx.routing.operators or ())])


def refuse(ctx: Context, channel: str, thread_ts: str, user: str, dept: str,
            tell: Tell | None) -> str:
    text = t(ctx.locale, "storm_not_staff", department=escape_slack(ctx.department_name(dept)))
    if tell is not None:
        tell(text)  # the button's response_url: the clicker may not be in the channel
    else:
        ctx.slack.ephemeral(channel, user, text, thread_ts=thread_ts)
    return "not-staff"


def confirm(ctx: Context, key: str, user: str, now: datetime) -> str:
    bc = ctx.store.broadcast(key)
    if not bc:
        return "gone"
    storm = ctx.store.storm(bc["storm"])
    if user != bc["user"] and not may_answer(ctx, storm["dept"], bc["channel"], user):
        ctx.slack.ephemeral(bc["channel"], user, t(ctx.locale, "storm_not_yours"), thread_ts=bc["thread_ts"])
        return "not-staff"
    if not ctx.store.broadcast_transition(key, BroadcastEvent.SEND):
        return "not-waiting"
    text = t(ctx.locale, "storm_sending", sent=0, total=len(ctx.store.broadcast_members(key)))
    progress = ctx.slack.post(bc["channel"], text, storm_progress_blocks(ctx.locale, key, text, True),
                              thread_ts=bc["thread_ts"])
    ctx.store.set_broadcast(key, progress_ts=progress, confirmed_by=user)
    return broadcast(ctx, key, now)


def cancel(ctx: Context, key: str, user: str, tell: Tell | None = None) -> str:
    bc = ctx.store.broadcast(key)
    if not bc:
        return "gone"
    dept = ctx.store.storm(bc["storm"]).get("dept", "triage")
    if user != bc["user"] and not may_control(ctx, dept, bc["channel"], user):
        return refuse(ctx, bc["channel"], bc["thread_ts"], user, dept, tell)
    if ctx.store.broadcast_transition(key, BroadcastEvent.CANCEL):
        ctx.slack.post(bc["channel"], t(ctx.locale, "storm_cancelled", user=user), thread_ts=bc["thread_ts"])
        return "cancelled"
    return "not-waiting"


def stop(ctx: Context, key: str, user: str, tell: Tell | None = None) -> str:
    """The Stop button of a running broadcast: no member is sent after this (one in flight finishes)."""
    bc = ctx.store.broadcast(key)
    if not bc:
        return "gone"
    dept = ctx.store.storm(bc["storm"]).get("dept", "triage")
    if user != bc["user"] and not may_control(ctx, dept, bc["channel"], user):
        return refuse(ctx, bc["channel"], bc["thread_ts"], user, dept, tell)
    if not ctx.store.broadcast_transition(key, BroadcastEvent.STOP):
        return "not-sending"
    ctx.store.set_broadcast(key, stopped_by=user)
    sent = sum(1 for v in ctx.store.broadcast_sent(key).values() if v.startswith("sent"))
    text = t(ctx.locale, "storm_stopped", user=user, sent=sent, total=len(ctx.store.broadcast_members(key)))
    if bc.get("progress_ts"):
        ctx.slack.update(bc["channel"], bc["progress_ts"], text, storm_progress_blocks(ctx.locale, key, text, False))
    else:
        ctx.slack.post(bc["channel"], text, thread_ts=bc["thread_ts"])
    return "stopped"


def broadcast(ctx: Context, key: str, now: datetime) -> str:
    """Send the confirmed reply to every waiting member, once each; resumable after a crash or a 429."""
    if not ctx.store.lease("bc:" + key, BROADCAST_LEASE_S):
        return "busy"
    try:
        return _send_all(ctx, key, now)
    finally:
        ctx.store.release("bc:" + key)


def broadcast_text(username: str, text: str, nth: int = 1) -> str:
    """One storm member's reply: their @handle first, so no two customers get the same text (X refuses a
    repeat as duplicate content); a customer's second and later tweets get "(2)", "(3)"… at the end."""
    return f"@{username} {text}" + (f" ({nth})" if nth > 1 else "")


def nth_tweets(members: list[Ticket]) -> dict[str, int]:
    """Each member's place among its author's tweets in the storm, oldest first: the same in every slice."""
    seen: dict[str, int] = {}
    nth = {}
    for m in sorted(members, key=lambda m: (len(m.tweet_id), m.tweet_id)):
        seen[m.author.username.casefold()] = nth[m.tweet_id] = seen.get(m.author.username.casefold(), 0) + 1
    return nth


def _send_all(ctx: Context, key: str, now: datetime) -> str:
    bc = ctx.store.broadcast(key)
    if bc.get("state") != BroadcastState.SENDING:
        return "not-sending"
    pace = ctx.routing.storm.pace.total_seconds() if ctx.routing.storm else 1.0
    done = ctx.store.broadcast_sent(key)
    finished = {k for k, v in done.items() if v.startswith(("sent", "failed"))}
    # Exactly the members listed when the reply was offered for confirmation; later mentions wait for the next.
    members = ctx.store.tickets(ctx.store.broadcast_members(key))
    nth = nth_tweets(ctx.store.tickets(ctx.store.storm_members(bc["storm"])))
    todo = [m for m in members
            if m.tweet_id not in finished and m.first_response_at is None and m.state is not State.CLOSED]
    sent = sum(1 for v in done.values() if v.startswith("sent"))
    total = sent + len(todo)
    started = time.monotonic()
    for member in todo:
        if ctx.store.broadcast(key).get("state") != BroadcastState.SENDING:
            return "stopped"  # the Stop button; its own note shows the count
        if time.monotonic() - started > SLICE_S:
            # Hand the worker back (replies and polls are waiting behind us) and go on in a new job.
            ctx.queue.schedule_broadcast(key, pace)
            _progress(ctx, bc, key, sent, total)
            return "continuing"
        if pace:  # also across slices and the sweeper's resumptions: the last send is in Redis
            time.sleep(max(0.0, float(bc.get("last_sent") or 0) + pace - time.time()))
        ctx.store.lease_extend("bc:" + key, BROADCAST_LEASE_S)
        token = f"bc:{key}:{member.tweet_id}:{time.time():.3f}"
        free_at = ctx.store.take_post(ctx.account(member.account)[0], _windows(ctx), time.time(), token)
        if free_at:
            # Only what lies above the reserve: ticket replies keep flowing meanwhile. Back by itself when X allows.
            ctx.queue.schedule_broadcast(key, max(1.0, free_at - time.time() + 0.5))
            _progress(ctx, bc, key, sent, total, resume_at=free_at)
            return "budget"
        tried = done.get(member.tweet_id, "").startswith("sending")  # an earlier attempt may have reached X
        ctx.store.broadcast_mark(key, member.tweet_id, "sending")
        text = broadcast_text(member.author.username, bc["text"], nth.get(member.tweet_id, 1))
        try:
            tweet_id = _reply_once(ctx, member, text, tried)
        except XRateLimited as exc:
            ctx.store.give_back_post(ctx.account(member.account)[0], _windows(ctx), token)
            wait = max(1.0, (exc.reset_at or time.time() + 60) - time.time() + 1)
            ctx.queue.schedule_broadcast(key, wait)
            _progress(ctx, bc, key, sent, total, paused=True)
            return "rate-limited"
        except XUnavailable:
            ctx.queue.schedule_broadcast(key, 30)
            return "retrying"
        except (XError, DuplicateContent) as exc:
            ctx.store.give_back_post(ctx.account(member.account)[0], _windows(ctx), token)
            ctx.store.broadcast_mark(key, member.tweet_id, f"failed:{exc}")
            ctx.store.count("failures", "x_broadcast_refused")
            continue
        bc["last_sent"] = f"{time.time():.3f}"
        stamp = datetime.now(now.tzinfo)
        answered = transition(member, Event.REPLY_SENT, stamp)
        ctx.store.broadcast_sent_to(key, answered, tweet_id, bc["last_sent"])
        timers.on_answered(ctx, answered, stamp)
        sent += 1
        if sent % PROGRESS_EVERY == 0:
            _progress(ctx, bc, key, sent, total)
    if not ctx.store.broadcast_transition(key, BroadcastEvent.FINISH):
        return "stopped"
    failed = sum(1 for v in ctx.store.broadcast_sent(key).values() if v.startswith("failed"))
    _progress(ctx, bc, key, sent, total, done=True, failed=failed)
    return "done"


def _reply_once(ctx: Context, member: Ticket, text: str, tried: bool) -> str:
    """One member's reply, by the relay's rule: X's duplicate answer is "sent" only for a retry whose tweet the
    bot finds; otherwise the same words go out told apart by the ticket's reference."""
    try:
        return ctx.x_for(member.account).reply(text, in_reply_to=member.tweet_id)
    except DuplicateContent:
        if tried:
            found = ctx.x_for(member.account).own_reply(ctx.account(member.account)[0], member.tweet_id, text)
            if found:
                return found
        distinct = distinct_form(text, member.tweet_id)
        if not tweet_length(distinct).valid:
            raise
        return ctx.x_for(member.account).reply(distinct, in_reply_to=member.tweet_id)


def _windows(ctx: Context) -> list[tuple[float, int]]:
    """The posting budget a broadcast may use: what lies above the reserve kept for ticket replies."""
    return allowances(ctx.routing.x.windows(), ctx.routing.x.reserve, tickets=False)


def _progress(ctx: Context, bc: dict[str, str], key: str, sent: int, total: int, paused: bool = False,
              done: bool = False, failed: int = 0, resume_at: float | None = None) -> None:
    name = "storm_done" if done else "storm_paused" if paused else "storm_sending"
    at = datetime.fromtimestamp(resume_at, ctx.routing.timezone).strftime("%H:%M") if resume_at else ""
    text = t(ctx.locale, "storm_budget" if resume_at else name, sent=sent, total=total, failed=failed, at=at,
             reserve=ctx.routing.x.reserve)
    if bc.get("progress_ts"):
        ctx.slack.update(bc["channel"], bc["progress_ts"], text,
                         storm_progress_blocks(ctx.locale, key, text, not done))
    else:
        ctx.slack.post(bc["channel"], text, thread_ts=bc["thread_ts"])
