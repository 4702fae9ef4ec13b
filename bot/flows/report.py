"""The SLA report of a window: loading its Figures (bot.domain.figures computes them), and its windows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.figures import TRIAGE, DayFigures, Figures, Window, compute
from bot.domain.tickets import Ticket
from bot.routing import Routing

if TYPE_CHECKING:
    from bot.context import Context

__all__ = ["TRIAGE", "Window", "aggregated_days", "comparison_windows", "day_window", "first_response_sla", "load",
           "summarize"]

Aggregates = Mapping[date, Mapping[str, DayFigures]]  # day -> department -> its figures
Replies = Mapping[str, Mapping[str, int]]  # department id ("triage" for triage tickets) -> saved reply -> times used


def day_window(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Today in the routing timezone: local midnight to the next."""
    start = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    return start, datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=tz)


def first_response_sla(routing: Routing, dept_id: str) -> timedelta | None:
    """The first-response time a department's report row is held to; None for a department since removed."""
    if dept_id == TRIAGE:
        return routing.policy(routing.triage_policy).first_response
    found = {d.id: d for d in routing.departments}.get(dept_id)
    return routing.policy(found.sla).first_response if found else None


def summarize(tickets: Sequence[Ticket], routing: Routing, window: Window, now: datetime,
              aggregated: Aggregates | None = None, replies: Replies | None = None) -> Figures:
    """The report of these tickets under this routing. `aggregated`: day figures of tickets past the
    retention, added to their departments; `replies`: saved replies used in the window."""
    return compute(tickets, departments=[d.id for d in routing.departments], tz=routing.timezone, window=window,
                   now=now, aggregated=aggregated, retention_days=routing.retention.days, replies=replies,
                   first_account=routing.accounts[0].id)


def aggregated_days(window: Window, tz: ZoneInfo, purged_before: float) -> list[date]:
    """The days of a window that may have day figures: whole local days starting in it, before the purge."""
    if purged_before <= window.since.timestamp():
        return []
    day, days = window.since.astimezone(tz).date(), list[date]()
    while True:
        start = datetime.combine(day, time(0), tzinfo=tz)
        if start >= window.until or start.timestamp() >= purged_before:
            return days
        if start >= window.since:
            days.append(day)
        day += timedelta(days=1)


def local_days(window: Window, now: datetime, tz: ZoneInfo) -> list[date]:
    """The local dates a window touches, up to `now` (per-day counters are kept by local date)."""
    first = window.since.astimezone(tz).date()
    last = (min(window.until, max(now, window.since)) - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range(max(0, (last - first).days) + 1)]


def saved_replies_used(ctx: Context, window: Window, now: datetime) -> Replies:
    """Saved replies X took in the window's days, by the department of their ticket (triage as "triage")."""
    counts = ctx.store.saved_reply_counts(local_days(window, now, ctx.routing.timezone))
    return {department or TRIAGE: names for department, names in counts.items()}


def load(ctx: Context, window: Window, now: datetime, replies: Replies | None = None,
         aggregate: bool = True) -> Figures:
    """The one loader of report figures: the window's tickets still in Redis and, with `aggregate`, the day
    figures of those past the retention; the saved replies used on the window's days unless `replies` is given."""
    if replies is None:
        replies = saved_replies_used(ctx, window, now)
    ids = ctx.store.ticket_ids_between(window.since.timestamp(), window.until.timestamp())
    days = aggregated_days(window, ctx.routing.timezone, ctx.store.purged_before()) if aggregate else []
    return summarize(ctx.store.tickets(ids), ctx.routing, window, now, ctx.store.day_figures(days) if days else None,
                     replies)


def _shift(moment: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same local wall-clock time `days` earlier, so a DST day still compares 17:30 with 17:30."""
    local = moment.astimezone(tz).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=tz)


def comparison_windows(window: Window, now: datetime, tz: ZoneInfo) -> tuple[Window, Window | None]:
    """The windows a report is compared with: the previous period and, for a day, the same weekday last week.

    Both are cut where the report is cut (`now`, if the window has not ended), so a summary at 17:30
    compares with yesterday up to 17:30, not with yesterday's whole day. The previous period is as long as
    the window, in whole days; the weekly comparison only means something for a window of a day or less.
    """
    until = min(window.until, max(now, window.since))
    days = max(1, round((window.until - window.since) / timedelta(days=1)))  # a 23 h or 25 h day is a day
    previous = Window(_shift(window.since, days, tz), _shift(until, days, tz))
    if days > 1:
        return previous, None
    return previous, Window(_shift(window.since, 7, tz), _shift(until, 7, tz))
