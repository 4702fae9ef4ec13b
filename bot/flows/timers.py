"""SLA timers: reminders, the breach and the escalation chain, as jobs on RQ's scheduler.

Rules, in one place:
- A ticket's running clock (first response from the tweet or the escalation; next response from a customer's
  follow-up) has timers: each reminder, the deadline (the breach), each escalation step. Only the next one
  waits in RQ's scheduler: the first is written with the ticket's "posted" record, and each timer job, when it
  runs, schedules the one after it (before acting, once). One job per open ticket keeps ingest cheap. Each
  job carries the due_at it was planned for and does nothing (and schedules nothing) unless the ticket is
  still waiting on that same clock: open, same due_at, not answered since the clock started. Removing the job
  on an answer is a courtesy; this re-check is what makes an answered, re-opened or re-assigned ticket stay
  quiet.
- Every Slack post is behind a SET NX guard keyed by ticket, kind and due_at, so a retried or duplicated job
  posts once. A failed post releases its guard, so RQ's retry posts it.
- Late timers (the poll or a worker came back late): the reminders already due collapse into one, sent at once
  (or at the next opening, with business hours). A reminder is never sent once the deadline has passed: the
  breach message says more, and a "time left" after the deadline would be wrong. The breach and every
  escalation step still fire, late and once each: each one tells different people.
- A reminder job that comes due outside business hours (a worker was down) waits for the next opening.
- No reminder while a reply sits in its undo window (it is on its way); the breach still fires, since the
  customer has no answer yet. A reply waiting for a lead's approval is reminded: the lead is the one to act.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.adapters.jobqueue import TIMER_JOBS, Transaction, cancel_waiting, job_id, retry
from bot.adapters.slack import local_time
from bot.adapters.slack_syntax import mention_each, tweet_url
from bot.context import Context
from bot.domain.calendar import next_open_instant
from bot.domain.durations import format_duration
from bot.domain.sla import Clock, Policy
from bot.domain.tickets import Event, State, Ticket, transition
from bot.flows.ticket_message import render
from bot.messages import t

log = logging.getLogger(__name__)

REMIND, BREACH, ESCALATE = "remind", "breach", "escalate"
GUARD_TTL_S = 30 * 86400  # outlives any job that could still run for the same clock
CHAIN_TTL_S = 86400  # outlives every retry of the job that set the next timer (minutes), then frees the key
RETRY = retry(10, 30, 60)


@dataclass(frozen=True)
class Timer:
    kind: str  # REMIND, BREACH or ESCALATE: also the name of the job function
    index: int  # which reminder or escalation step (0 for the breach)
    at: datetime


def due_key(due: datetime) -> str:
    """The due_at a job carries, in UTC so every process spells the same instant the same way."""
    return due.astimezone(UTC).isoformat()


def timer_job_id(kind: str, tweet_id: str, index: int, due: datetime, *extra: str) -> str:
    return job_id(kind, tweet_id, str(index), due_key(due), *extra)


def clock_policy(policy: Policy, next_response: bool) -> Policy:
    """The policy as the running clock sees it: the next_response clock runs on next_response."""
    if next_response and policy.next_response is not None:
        return replace(policy, first_response=policy.next_response)
    return policy


def plan(clock: Clock, policy: Policy, start: datetime, due: datetime, now: datetime) -> list[Timer]:
    """Every timer of a clock that started at `start` and ends at `due`, as seen at `now`."""
    reminders = [at for at in clock.reminder_times(policy, start) if at < due]
    timers = [Timer(REMIND, i, at) for i, at in enumerate(reminders) if at > now]
    missed = [i for i, at in enumerate(reminders) if at <= now]
    if missed and now < due:
        at = now if policy.business_hours is None else next_open_instant(policy.business_hours, clock.tz, now)
        if at < due:
            timers.insert(0, Timer(REMIND, missed[-1], at))
    timers.append(Timer(BREACH, 0, due))
    timers += [Timer(ESCALATE, i, at) for i, (at, _) in enumerate(clock.escalation_times(policy, due))]
    return timers


def _ceil_second(moment: datetime) -> datetime:
    # RQ's scheduler keeps whole seconds and truncates: rounding up keeps a breach from firing early.
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


_ORDER = {REMIND: 0, BREACH: 1, ESCALATE: 2}


def _after(timers: list[Timer], kind: str, index: int) -> Timer | None:
    """The first timer of a plan that comes after (kind, index) in the clock's order."""
    return next((x for x in timers if (_ORDER[x.kind], x.index) > (_ORDER[kind], index)), None)


def _enqueue(ctx: Context, tweet_id: str, due: datetime, timer: Timer, pipeline: Transaction | None = None) -> None:
    ctx.queue.enqueue_at(_ceil_second(timer.at), f"{TIMER_JOBS}.{timer.kind}", tweet_id, due_key(due),
                         timer.index, retry=RETRY, pipeline=pipeline,
                         job_id=timer_job_id(timer.kind, tweet_id, timer.index, due))


def _schedule(ctx: Context, ticket: Ticket, start: datetime, next_response: bool, now: datetime,
              pipeline: Transaction | None) -> None:
    """Start a clock: its first timer only. Each timer job schedules the next one when it runs (see _chain)."""
    policy = clock_policy(ctx.routing.policy(ticket.policy), next_response)
    first = plan(ctx.clock, policy, start, ticket.due_at, now)[0]  # the breach, at least
    _enqueue(ctx, ticket.tweet_id, ticket.due_at, first, pipeline)  # without one, RQ writes it in one round trip
    log.debug("SLA clock started for ticket %s (%s, due %s)", ticket.tweet_id, policy.name, ticket.due_at)


def _chain(ctx: Context, ticket: Ticket, kind: str, index: int, now: datetime) -> None:
    """Schedule the timer after this one on the ticket's running clock, once (a retried job comes back here).

    Called before the job acts, so a job that fails for good still leaves the breach and the escalation
    steps after it in place."""
    next_response = ticket.first_response_at is not None
    start = (ticket.clock_start or ticket.clock_origin) if next_response else ticket.clock_origin
    after = _after(plan(ctx.clock, _policy(ctx, ticket), start, ticket.due_at, now), kind, index)
    if after is None:
        return
    guard = "timer:" + timer_job_id(after.kind, ticket.tweet_id, after.index, ticket.due_at)
    if not ctx.store.once(guard, CHAIN_TTL_S):
        return
    try:
        _enqueue(ctx, ticket.tweet_id, ticket.due_at, after)
    except Exception:
        ctx.store.forget(guard)
        raise


def on_posted(ctx: Context, ticket: Ticket, now: datetime, pipeline: Transaction | None = None) -> None:
    """The ticket is in Slack: start its first-response clock (from the tweet, or from the escalation).

    With `pipeline`, the timer is written with the caller's other commands (one round trip, one MULTI)."""
    _schedule(ctx, ticket, ticket.clock_origin, next_response=False, now=now, pipeline=pipeline)


def on_reopened(ctx: Context, ticket: Ticket, now: datetime) -> None:
    """A customer follow-up re-opened an answered ticket: start its next_response clock, if any."""
    if ctx.routing.policy(ticket.policy).next_response is None or ticket.clock_start is None:
        return  # re-opened without a deadline: nothing to remind or breach
    _schedule(ctx, ticket, ticket.clock_start, next_response=True, now=now, pipeline=None)


def _job_ids(ctx: Context, ticket: Ticket) -> Iterator[str]:
    policy = ctx.routing.policy(ticket.policy)
    for i in range(len(policy.remind)):
        yield timer_job_id(REMIND, ticket.tweet_id, i, ticket.due_at)
        yield timer_job_id(REMIND, ticket.tweet_id, i, ticket.due_at, "deferred")
    yield timer_job_id(BREACH, ticket.tweet_id, 0, ticket.due_at)
    for i in range(len(policy.escalate)):
        yield timer_job_id(ESCALATE, ticket.tweet_id, i, ticket.due_at)


def on_answered(ctx: Context, ticket: Ticket, now: datetime) -> None:
    """A reply reached X: the clock stops, and its jobs that have not started are removed."""
    removed = cancel_waiting(ctx.queue, _job_ids(ctx, ticket))
    log.info("SLA clock stopped for ticket %s; %d timer(s) removed", ticket.tweet_id, removed)


# -- the jobs ---------------------------------------------------------------------------------------------

def _waiting(ctx: Context, tweet_id: str, due: datetime) -> Ticket | None:
    """The ticket, if it is still waiting on the clock that ends at `due`; else None (the job is stale)."""
    ticket = ctx.store.ticket(tweet_id)
    if ticket is None or not ticket.is_open or ticket.due_at != due or not ticket.message_ts:
        return None
    started = ticket.clock_start or ticket.created_at
    if ticket.answered_at is not None and ticket.answered_at >= started:
        return None  # answered on this clock, then re-opened with no new deadline
    return ticket


def _on_clock(ctx: Context, tweet_id: str, due_at: str, kind: str, index: int, now: datetime,
              chain: bool = True) -> tuple[datetime, Ticket | None]:
    """A timer job's start: its ticket if still waiting on the clock ending at due_at (else None), with the
    clock's next timer set first (unless `chain` is off: a deferred reminder's first run already set it)."""
    due = datetime.fromisoformat(due_at)
    ticket = _waiting(ctx, tweet_id, due)
    if ticket is not None and chain:
        _chain(ctx, ticket, kind, index, now)
    return due, ticket


def _post_once(ctx: Context, guard: str, channel: str, text: str, thread_ts: str | None = None) -> bool:
    if not ctx.store.once(guard, GUARD_TTL_S):
        return False
    try:
        ctx.slack.post(channel, text, thread_ts=thread_ts)
    except Exception:
        ctx.store.forget(guard)  # not posted: let RQ's retry try again
        raise
    return True


def _policy(ctx: Context, ticket: Ticket) -> Policy:
    return clock_policy(ctx.routing.policy(ticket.policy), next_response=ticket.first_response_at is not None)


def _late(ctx: Context, ticket: Ticket, now: datetime) -> str:
    return format_duration(int(ticket.late_by(now)), ctx.locale)


def _mentions(users: tuple[str, ...] | list[str]) -> str:
    return mention_each(users)


def remind(ctx: Context, tweet_id: str, due_at: str, index: int, now: datetime, deferred: bool = False) -> str:
    """Tell the thread how much time is left."""
    due, ticket = _on_clock(ctx, tweet_id, due_at, REMIND, index, now, chain=not deferred)
    if ticket is None:
        return "stale"
    if ticket.state is State.PENDING:
        return "reply-on-its-way"
    if now >= due:
        return "past-due"  # the breach says it better
    policy = _policy(ctx, ticket)
    hours = policy.business_hours
    if hours is not None and (opens := next_open_instant(hours, ctx.clock.tz, now)) > now:
        if opens >= due:
            return "past-due"
        ctx.queue.enqueue_at(_ceil_second(opens), f"{TIMER_JOBS}.{REMIND}", tweet_id, due_at, index, deferred=True,
                             retry=RETRY, job_id=timer_job_id(REMIND, tweet_id, index, due, "deferred"))
        return "deferred"
    left = format_duration(ctx.clock.business_elapsed(policy, now, due), ctx.locale)
    who = mention_each([ticket.claimed_by] if ticket.claimed_by else [])
    text = t(ctx.locale, "sla_reminder", who=who, left=left, due=local_time(due, ctx.routing.timezone),
             policy=ticket.policy)
    posted = _post_once(ctx, f"sla:remind:{tweet_id}:{index}:{due_at}", ticket.channel or "", text,
                        thread_ts=ticket.message_ts)
    return "reminded" if posted else "duplicate"


def breach(ctx: Context, tweet_id: str, due_at: str, index: int, now: datetime) -> str:
    """The deadline passed unanswered: flag the ticket, call its leads and the managers, show it."""
    due, ticket = _on_clock(ctx, tweet_id, due_at, BREACH, index, now)
    if ticket is None:
        return "stale"
    flagged = transition(ticket, Event.BREACHED, now)
    if flagged != ticket:
        ctx.store.mark_breached(tweet_id)
        ctx.store.count("breaches", ticket.department or "")
    dept = ctx.routing.department_or_none(ticket.department)
    tz, late = ctx.routing.timezone, _late(ctx, ticket, now)
    guard = f"sla:breach:{tweet_id}:{due_at}"
    posts = [
        _post_once(ctx, guard + ":thread", ticket.channel or "",
                   t(ctx.locale, "sla_breach_thread", leads=_mentions(dept.leads if dept else ()),
                     due=local_time(due, tz), late=late), thread_ts=ticket.message_ts),
        _post_once(ctx, guard + ":managers", ctx.routing.managers_channel,
                   t(ctx.locale, "sla_breach_managers", department=ctx.department_name(ticket.department), late=late,
                     due=local_time(due, tz), policy=ticket.policy, username=ticket.author.username,
                     url=tweet_url(ticket.author.username, tweet_id))),
    ]
    text, blocks = render(ctx, flagged)
    ctx.slack.update(ticket.channel or "", ticket.message_ts or "", text, blocks)
    log.warning("SLA breached: ticket %s (%s, due %s)", tweet_id, ticket.department or "triage", due_at)
    return "breached" if any(posts) else "duplicate"


def escalate(ctx: Context, tweet_id: str, due_at: str, index: int, now: datetime) -> str:
    """One step of the escalation chain: named people in the thread, or the managers channel."""
    due, ticket = _on_clock(ctx, tweet_id, due_at, ESCALATE, index, now)
    if ticket is None:
        return "stale"
    steps = ctx.clock.escalation_times(_policy(ctx, ticket), due)
    if index >= len(steps):
        return "stale"  # the routing changed since the job was planned
    _, step = steps[index]
    guard, late = f"sla:escalate:{tweet_id}:{index}:{due_at}", _late(ctx, ticket, now)
    if step.to_managers:
        posted = _post_once(ctx, guard, ctx.routing.managers_channel,
                            t(ctx.locale, "sla_escalation_managers", department=ctx.department_name(ticket.department),
                              late=late, username=ticket.author.username,
                              url=tweet_url(ticket.author.username, tweet_id)))
    else:
        posted = _post_once(ctx, guard, ticket.channel or "",
                            t(ctx.locale, "sla_escalation_thread", users=_mentions(step.to), late=late),
                            thread_ts=ticket.message_ts)
    return "escalated" if posted else "duplicate"
