"""Report figures: a window's `Figures` (computed once, read by every view) and a department's figures for one
day, small enough to keep after its tickets leave Redis (`DayFigures`).

When tickets pass the retention they are folded into these: counts add up across days and departments, and
first-response times are kept as a histogram of ~11% wide buckets (at most a few dozen are used), so the
p50/p90 of any window is still known to within a bucket. A few hundred bytes per department per day.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.tickets import State, Ticket

_GROWTH = 1.25  # each bucket is this much wider than the last: values within ±11% of its middle


def bucket(seconds: float) -> int:
    """The histogram bucket of a first-response time (0 holds everything under 1.25 s)."""
    return max(0, math.floor(math.log(max(seconds, 1.0), _GROWTH)))


def middle(index: int) -> float:
    """The value a bucket stands for: its geometric middle, to a tenth of a second."""
    return round(_GROWTH ** (index + 0.5), 1)


@dataclass
class DayFigures:
    """Counts as report.summarize() defines them; `decided` = answered or past due, `met` = decided in time."""

    received: int = 0
    answered: int = 0
    open: int = 0
    closed: int = 0
    breached: int = 0
    decided: int = 0
    met: int = 0
    first_response: dict[int, int] = field(default_factory=dict)  # bucket -> tickets

    _KEYS = (("r", "received"), ("a", "answered"), ("o", "open"), ("c", "closed"), ("b", "breached"),
             ("d", "decided"), ("m", "met"))

    def add(self, other: DayFigures) -> DayFigures:
        for _, name in self._KEYS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for index, count in other.first_response.items():
            self.first_response[index] = self.first_response.get(index, 0) + count
        return self

    def count(self, *, answered_in: float | None, is_open: bool, closed: bool, breached: bool) -> None:
        """One ticket's part in the figures."""
        self.received += 1
        self.open += is_open
        self.closed += closed
        self.breached += breached
        decided = answered_in is not None or breached
        self.decided += decided
        self.met += decided and not breached
        if answered_in is not None:
            self.answered += 1
            index = bucket(answered_in)
            self.first_response[index] = self.first_response.get(index, 0) + 1

    def dumps(self) -> str:
        """Compact JSON, e.g. {"r":12,"a":10,…,"h":{"31":4}}: what Redis keeps per department and day."""
        data: dict[str, object] = {short: getattr(self, name) for short, name in self._KEYS if getattr(self, name)}
        if self.first_response:
            data["h"] = {str(k): v for k, v in sorted(self.first_response.items())}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> DayFigures:
        data = json.loads(text)
        figures = cls()
        for short, name in cls._KEYS:
            setattr(figures, name, int(data.get(short, 0)))
        figures.first_response = {int(k): int(v) for k, v in (data.get("h") or {}).items()}
        return figures


def percentile_of(exact: Iterable[float], histogram: Mapping[int, int], p: float) -> float | None:
    """The p-th percentile of exact values together with a histogram's (each bucket at its middle), with
    linear interpolation between closest ranks like report.percentile."""
    points = sorted([(v, 1) for v in exact] + [(middle(k), n) for k, n in histogram.items() if n > 0])
    total = sum(n for _, n in points)
    if not total:
        return None
    rank = (total - 1) * p / 100
    lo, hi = math.floor(rank), math.ceil(rank)

    def at(index: int) -> float:
        seen = 0
        for value, n in points:
            seen += n
            if index < seen:
                return value
        return points[-1][0]

    low = at(lo)
    return round(low + (at(hi) - low) * (rank - lo), 1)


# -- the report's figures: computed once, read by the CLI, /sla, App Home, the daily summary and its charts ------

TRIAGE = "triage"
NOTE = ("tickets older than the {days}-day retention have left Redis: for {first}..{last} the department figures "
        "come from per-day aggregates (first-response percentiles to within about 11%) and those tickets are not "
        "listed")
FIRST_ACCOUNT = "main"  # the label of Ticket.account None without a routing naming the first (its default id)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), so p50 of [1, 2] is 1.5."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 1)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


@dataclass(frozen=True)
class DepartmentFigures:
    """One department's (or account's) counts; `closed` = resolved without an answer."""

    id: str
    received: int
    answered: int
    open: int
    closed: int
    breached: int
    first_response_p50_s: float | None
    first_response_p90_s: float | None
    sla_met_pct: float | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "received": self.received, "answered": self.answered, "open": self.open,
                "closed": self.closed, "breached": self.breached,
                "first_response_p50_s": self.first_response_p50_s,
                "first_response_p90_s": self.first_response_p90_s, "sla_met_pct": self.sla_met_pct}


AccountFigures = DepartmentFigures  # the same counts, per X account


@dataclass(frozen=True)
class Totals:
    """Every department together; SLA met % over every listed ticket (not an average of averages)."""

    received: int
    answered: int
    open: int
    closed: int
    breached: int
    first_response_p50_s: float | None
    first_response_p90_s: float | None
    sla_met_pct: float | None


@dataclass(frozen=True)
class FastTrackFigures:
    count: int
    answered: int
    on_time: int
    breached: int
    open: int
    first_response_p50_s: float | None
    sla_met_pct: float | None


@dataclass(frozen=True)
class Retention:
    days: int
    first: date
    last: date

    @property
    def note(self) -> str:
        return NOTE.format(days=self.days, first=self.first.isoformat(), last=self.last.isoformat())

    def to_json(self) -> dict[str, Any]:
        return {"days": self.days, "aggregated_days": [self.first.isoformat(), self.last.isoformat()],
                "note": self.note}


@dataclass(frozen=True)
class TicketRow:
    tweet_id: str
    department: str
    sla: str
    state: str  # answered, open or closed
    created_at: datetime  # local
    due_at: datetime  # local
    first_response_s: float | None
    breached: bool
    fast_track: bool
    author: str
    keywords: tuple[str, ...]
    account: str

    @property
    def decided(self) -> bool:
        return self.first_response_s is not None or self.breached

    def to_json(self, with_account: bool = False) -> dict[str, Any]:
        row = {"tweet_id": self.tweet_id, "department": self.department, "sla": self.sla, "state": self.state,
               "created_at": self.created_at.isoformat(), "due_at": self.due_at.isoformat(),
               "first_response_s": self.first_response_s, "breached": self.breached,
               "fast_track": self.fast_track, "author": self.author, "keywords": list(self.keywords)}
        return row | {"account": self.account} if with_account else row


@dataclass(frozen=True)
class SavedReplyUse:
    name: str
    count: int


@dataclass(frozen=True)
class SavedReplies:
    """One department's saved replies ("" = the shared ones), most used first."""

    department: str
    used: tuple[SavedReplyUse, ...]


@dataclass(frozen=True)
class Figures:
    """The SLA report of a window: what `report --format json` prints, and what every view reads."""

    window: Window
    as_of: datetime
    tz: ZoneInfo
    departments: tuple[DepartmentFigures, ...]
    tickets: tuple[TicketRow, ...]
    totals: Totals
    fast_track: FastTrackFigures
    top_keywords: tuple[tuple[str, int], ...]
    retention: Retention | None = None
    accounts: tuple[AccountFigures, ...] = ()  # only when the window's tickets came in on more than one account
    saved_replies: tuple[SavedReplies, ...] = ()  # only departments that used one

    def department(self, dept_id: str) -> DepartmentFigures | None:
        return next((d for d in self.departments if d.id == dept_id), None)

    @property
    def by_account(self) -> bool:
        return len(self.accounts) > 1

    def to_json(self) -> dict[str, Any]:
        """The outside contract's object (keys in this order); "accounts" and "saved_replies" only when shown."""
        tz = self.tz
        data: dict[str, Any] = {
            "window": {"since": self.window.since.astimezone(tz).isoformat(),
                       "until": self.window.until.astimezone(tz).isoformat()},
            "as_of": self.as_of.astimezone(tz).isoformat(timespec="seconds"),
            "departments": [d.to_json() for d in self.departments],
            "tickets": [r.to_json(self.by_account) for r in self.tickets]}
        if self.retention:
            data["retention"] = self.retention.to_json()
        if self.by_account:
            data["accounts"] = [a.to_json() for a in self.accounts]
        if self.saved_replies:
            data["saved_replies"] = [{"department": s.department,
                                      "used": [{"name": u.name, "count": u.count} for u in s.used]}
                                     for s in self.saved_replies]
        return data


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
    return "closed" if t.state is State.CLOSED else "open"


def figures_of(tickets: Iterable[Ticket], now: datetime) -> DayFigures:
    """The counts the report shows for these tickets, in the form kept after they leave Redis."""
    figures = DayFigures()
    for t in tickets:
        figures.count(answered_in=t.first_response_s, is_open=t.is_open, breached=breached(t, now),
                      closed=t.state is State.CLOSED and t.first_response_at is None)
    return figures


def _met_pct(rows: Sequence[TicketRow]) -> float | None:
    decided = [r for r in rows if r.decided]
    if not decided:
        return None
    return round(100 * sum(1 for r in decided if not r.breached) / len(decided), 1)


def _group(group_id: str, items: Sequence[Ticket], old: DayFigures | None, now: datetime) -> DepartmentFigures:
    mine = figures_of(items, now).add(old or DayFigures())
    firsts = [t.first_response_s for t in items if t.first_response_s is not None]
    kept = old.first_response if old else {}
    p50 = percentile_of(firsts, kept, 50) if kept else percentile(firsts, 50)
    p90 = percentile_of(firsts, kept, 90) if kept else percentile(firsts, 90)
    return DepartmentFigures(group_id, mine.received, mine.answered, mine.open, mine.closed, mine.breached,
                             p50, p90, round(100 * mine.met / mine.decided, 1) if mine.decided else None)


def _row(t: Ticket, tz: ZoneInfo, now: datetime, first_account: str) -> TicketRow:
    return TicketRow(t.tweet_id, t.department or TRIAGE, t.policy, report_state(t), t.clock_origin.astimezone(tz),
                     t.first_deadline.astimezone(tz), t.first_response_s, breached(t, now), t.fast_track,
                     t.author.username, tuple(t.keywords), t.account or first_account)


def _fast_track(rows: Sequence[TicketRow]) -> FastTrackFigures:
    fast = [r for r in rows if r.fast_track]
    firsts = [r.first_response_s for r in fast if r.first_response_s is not None]
    return FastTrackFigures(len(fast), len(firsts),
                            sum(1 for r in fast if r.first_response_s is not None and not r.breached),
                            sum(1 for r in fast if r.breached), sum(1 for r in fast if r.state == "open"),
                            percentile(firsts, 50), _met_pct(fast))


def _top_keywords(rows: Sequence[TicketRow], n: int = 5) -> tuple[tuple[str, int], ...]:
    """The matched keywords that came up in the most tickets, most first (ties: first seen first)."""
    return tuple(Counter(k for r in rows for k in dict.fromkeys(r.keywords)).most_common(n))


def _saved_replies(replies: Mapping[str, Mapping[str, int]] | None,
                   order: Sequence[str]) -> tuple[SavedReplies, ...]:
    """Per department in routing order (shared "" first, unknown ones last), each most used first."""
    rank = {dept: i for i, dept in enumerate(["", *order])}
    tables = []
    for dept in sorted(replies or {}, key=lambda d: (rank.get(d, len(rank)), d)):
        used = sorted(((name, n) for name, n in (replies or {})[dept].items() if n > 0), key=lambda u: (-u[1], u[0]))
        if used:
            tables.append(SavedReplies(dept, tuple(SavedReplyUse(name, n) for name, n in used)))
    return tuple(tables)


def compute(tickets: Sequence[Ticket], *, departments: Sequence[str], tz: ZoneInfo, window: Window,
            now: datetime, aggregated: Mapping[date, Mapping[str, DayFigures]] | None = None,
            retention_days: int = 0, replies: Mapping[str, Mapping[str, int]] | None = None,
            first_account: str = FIRST_ACCOUNT) -> Figures:
    """The report of a window from its tickets (routing's department ids, in order) and, for days past the
    retention, their day figures; `replies`: department ("" shared) -> saved reply -> times used."""
    by_dept: dict[str, list[Ticket]] = {d: [] for d in [*departments, TRIAGE]}
    for t in tickets:
        by_dept.setdefault(t.department or TRIAGE, []).append(t)
    folded: dict[str, DayFigures] = {}
    for per_dept in (aggregated or {}).values():
        for dept, day in per_dept.items():
            folded.setdefault(dept, DayFigures()).add(day)
            by_dept.setdefault(dept, [])
    depts = tuple(_group(dept, items, folded.get(dept), now) for dept, items in by_dept.items()
                  if dept != TRIAGE or items or dept in folded)
    ordered = sorted(tickets, key=lambda t: (t.clock_origin, t.tweet_id))
    rows = tuple(_row(t, tz, now, first_account) for t in ordered)
    firsts = [r.first_response_s for r in rows if r.first_response_s is not None]
    received, answered, opened, closed, late = (sum(getattr(d, k) for d in depts) for k in (
        "received", "answered", "open", "closed", "breached"))
    totals = Totals(received, answered, opened, closed, late, percentile(firsts, 50), percentile(firsts, 90),
                    _met_pct(rows))
    by_account: dict[str, list[Ticket]] = {}
    for t in ordered:
        by_account.setdefault(t.account or first_account, []).append(t)
    accounts = tuple(_group(a, by_account[a], None, now) for a in sorted(by_account, key=lambda a: (
        a != first_account, a))) if len(by_account) > 1 else ()
    retention = None
    if aggregated:
        days = sorted(aggregated)
        retention = Retention(retention_days, days[0], days[-1])
    return Figures(window, now, tz, depts, rows, totals, _fast_track(rows), _top_keywords(rows), retention,
                   accounts, _saved_replies(replies, departments))
