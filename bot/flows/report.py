"""The SLA summary for a window: figures per department and per ticket (pure), and loading them."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.figures import DayFigures, percentile_of
from bot.domain.tickets import Ticket
from bot.routing import Routing

if TYPE_CHECKING:
    from bot.context import Context

Aggregates = Mapping[date, Mapping[str, DayFigures]]  # day -> department -> its figures

TRIAGE = "triage"


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), so p50 of [1, 2] is 1.5."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 1)


def day_window(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Today in the routing timezone: local midnight to the next."""
    start = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    return start, datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=tz)


def breached(t: Ticket, now: datetime) -> bool:
    """Breached when the first answer came late, or none came and the deadline has passed."""
    if t.breached:
        return True
    if t.first_response_at is not None:
        return t.first_response_at > t.first_deadline
    return t.is_open and now > t.first_deadline


def report_state(t: Ticket) -> str:
    if t.first_response_at is not None and not t.is_open:
        return "answered"
    return "closed" if t.state.value == "closed" else "open"


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


def figures_of(tickets: Sequence[Ticket], now: datetime) -> DayFigures:
    """The counts summarize() shows for these tickets, in the form kept after they leave Redis."""
    figures = DayFigures()
    for t in tickets:
        figures.count(answered_in=t.first_response_s, is_open=t.is_open, breached=breached(t, now),
                      closed=t.state.value == "closed" and t.first_response_at is None)
    return figures


def summarize(tickets: Sequence[Ticket], routing: Routing, window: Window, now: datetime,
              aggregated: Aggregates | None = None) -> dict[str, Any]:
    """The report. `aggregated`: day figures of tickets past the retention, added to their departments."""
    tz = routing.timezone
    dept_ids = [d.id for d in routing.departments] + [TRIAGE]
    by_dept: dict[str, list[Ticket]] = {d: [] for d in dept_ids}
    for t in tickets:
        by_dept.setdefault(t.department or TRIAGE, []).append(t)
    folded: dict[str, DayFigures] = {}
    for per_dept in (aggregated or {}).values():
        for dept, day in per_dept.items():
            folded.setdefault(dept, DayFigures()).add(day)
            by_dept.setdefault(dept, [])
    departments = []
    for dept, items in by_dept.items():
        if dept == TRIAGE and not items and dept not in folded:
            continue
        mine = figures_of(items, now).add(folded.get(dept, DayFigures()))
        firsts = [t.first_response_s for t in items if t.first_response_s is not None]
        old = folded.get(dept, DayFigures()).first_response
        departments.append({
            "id": dept, "received": mine.received, "answered": mine.answered, "open": mine.open,
            "closed": mine.closed, "breached": mine.breached,
            "first_response_p50_s": percentile_of(firsts, old, 50) if old else percentile(firsts, 50),
            "first_response_p90_s": percentile_of(firsts, old, 90) if old else percentile(firsts, 90),
            "sla_met_pct": round(100 * mine.met / mine.decided, 1) if mine.decided else None,
        })
    rows = [{
        "tweet_id": t.tweet_id, "department": t.department or TRIAGE, "sla": t.policy,
        "state": report_state(t), "created_at": t.clock_origin.astimezone(tz).isoformat(),
        "due_at": t.first_deadline.astimezone(tz).isoformat(),
        "first_response_s": t.first_response_s, "breached": breached(t, now), "fast_track": t.fast_track,
        "author": t.author.username, "keywords": list(t.keywords),
    } for t in sorted(tickets, key=lambda t: (t.clock_origin, t.tweet_id))]
    data = {"window": {"since": window.since.astimezone(tz).isoformat(),
                       "until": window.until.astimezone(tz).isoformat()},
            "as_of": now.astimezone(tz).isoformat(timespec="seconds"),
            "departments": departments, "tickets": rows}
    if aggregated:
        days = sorted(aggregated)
        data["retention"] = {
            "days": routing.retention.days, "aggregated_days": [days[0].isoformat(), days[-1].isoformat()],
            "note": f"tickets older than the {routing.retention.days}-day retention have left Redis: for "
                    f"{days[0].isoformat()}..{days[-1].isoformat()} the department figures come from per-day "
                    "aggregates (first-response percentiles to within about 11%) and those tickets are not listed"}
    return data


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


def load(ctx: Context, window: Window, now: datetime) -> dict[str, Any]:
    """summarize() for a window: its tickets still in Redis, and the day figures of those past the retention."""
    ids = ctx.store.ticket_ids_between(window.since.timestamp(), window.until.timestamp())
    days = aggregated_days(window, ctx.routing.timezone, ctx.store.purged_before())
    return summarize(ctx.store.tickets(ids), ctx.routing, window, now, ctx.store.day_figures(days) if days else None)


# Figures the daily summary adds on top of summarize(); each takes summarize()'s output, so they work on
# JSON read back from `report --format json` too.

def _decided(row: dict[str, Any]) -> bool:
    return row["first_response_s"] is not None or bool(row["breached"])


def _met_pct(rows: Sequence[dict[str, Any]]) -> float | None:
    """The share of decided tickets (answered, or past due) that met their SLA: summarize()'s sla_met_pct."""
    decided = [r for r in rows if _decided(r)]
    if not decided:
        return None
    return round(100 * sum(1 for r in decided if not r["breached"]) / len(decided), 1)


def totals(data: dict[str, Any]) -> dict[str, Any]:
    """All departments together, with the SLA met % over every ticket (not an average of averages)."""
    depts = data["departments"]
    return {key: sum(d[key] for d in depts) for key in ("received", "answered", "open", "breached")} | {
        "sla_met_pct": _met_pct(data["tickets"])}


def fast_track_figures(data: dict[str, Any]) -> dict[str, Any]:
    """How the fast-tracked tickets fared: answered in time, late, still open, and the median answer."""
    rows = [r for r in data["tickets"] if r.get("fast_track")]
    firsts = [r["first_response_s"] for r in rows if r["first_response_s"] is not None]
    return {"count": len(rows), "answered": len(firsts),
            "on_time": sum(1 for r in rows if r["first_response_s"] is not None and not r["breached"]),
            "breached": sum(1 for r in rows if r["breached"]),
            "open": sum(1 for r in rows if r["state"] == "open"),
            "first_response_p50_s": percentile(firsts, 50), "sla_met_pct": _met_pct(rows)}


def top_keywords(data: dict[str, Any], n: int = 5) -> list[tuple[str, int]]:
    """The matched keywords that came up in the most tickets, most first (ties: first seen first)."""
    counts = Counter(k for r in data["tickets"] for k in dict.fromkeys(r.get("keywords") or ()))
    return counts.most_common(n)


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
