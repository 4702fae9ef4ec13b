"""Business hours: which instants count against an SLA, and adding or measuring business time.

Business days are decided in the routing timezone's wall time (weekday, public holidays, opening and closing
times); the arithmetic is done on UTC instants, so a DST change never stretches or shrinks a day by accident.
Opening hours are the half-open interval [start, end): a moment exactly at closing time is outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: n for names in (DAY_NAMES, _FULL_DAY_NAMES) for n, name in enumerate(names)}
_HORIZON_DAYS = 3660  # give up after ten years without a business day rather than loop forever


@dataclass(frozen=True)
class BusinessHours:
    """Opening days (0 = Monday), local opening and closing times, and an optional holiday country code."""

    days: frozenset[int]
    start: time
    end: time
    holidays: str | None = None

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError("business days must be a non-empty set of weekdays 0 (Monday) to 6 (Sunday)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("business hours are local wall times without a timezone")
        if self.end <= self.start:
            raise ValueError(f"business hours close before they open: {self.start:%H:%M}-{self.end:%H:%M}")
        if self.holidays is not None:
            check_holiday_country(self.holidays)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.days and not (
            self.holidays is not None and day in holiday_dates(self.holidays, day.year)
        )


def parse_day(text: str) -> int:
    """ "mon" or "Monday" -> 0."""
    number = _DAY_NUMBERS.get(text.strip().lower())
    if number is None:
        raise ValueError(f"unknown day {text!r} (use {', '.join(DAY_NAMES)})")
    return number


def parse_time_of_day(text: str) -> time:
    """ "17:30" -> time(17, 30)."""
    found = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        raise ValueError(f"expected a time of day as HH:MM, like \"17:30\", not {text!r}")
    return time(int(found[1]), int(found[2]))


def parse_opening_hours(text: str) -> tuple[time, time]:
    """ "09:00-18:00" -> (opening, closing); hours past midnight are refused."""
    opens, _, closes = text.partition("-")
    try:
        start, end = parse_time_of_day(opens), parse_time_of_day(closes)
    except ValueError:
        raise ValueError(f"expected opening hours like \"09:00-18:00\", not {text!r}") from None
    if end <= start:
        raise ValueError(f"hours {text!r} close before they open (hours past midnight are not supported)")
    return start, end


def check_holiday_country(code: str) -> str:
    """`code` when the holidays library knows the country, else ValueError."""
    # The registry's table of codes: listing supported countries would import every country (~70 ms).
    if code not in _country_codes():
        raise ValueError(f"unknown holiday country {code!r} (use an ISO 3166 code such as KR, US or JP)")
    return code


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    from holidays.registry import COUNTRIES  # a large table: read on first use, not at import

    return frozenset(entry[1] for entry in COUNTRIES.values())


@lru_cache(maxsize=256)
def holiday_dates(country: str, year: int) -> frozenset[date]:
    """Public holidays of one country and year; cached, since every deadline computation asks."""
    import holidays as holidays_lib  # ~20 ms: only business hours with holidays need it, not `report`'s start

    return frozenset(holidays_lib.country_holidays(country, years=year).keys())


def add_business_time(hours: BusinessHours, tz: tzinfo, start: datetime, delta: timedelta) -> datetime:
    """When `delta` of business time has passed since `start`; a zero delta gives the next open instant."""
    remaining = delta
    begin_at = start.astimezone(UTC)
    for opens, closes in _open_intervals(hours, tz, start.astimezone(tz).date()):
        begin = max(opens, begin_at)
        if begin >= closes:
            continue
        if remaining <= closes - begin:
            return (begin + remaining).astimezone(tz)
        remaining -= closes - begin
    raise ValueError(f"no business hours within {_HORIZON_DAYS} days of {start.isoformat()}")


def next_open_instant(hours: BusinessHours, tz: tzinfo, moment: datetime) -> datetime:
    """`moment` itself when it falls in business hours, else the next opening."""
    return add_business_time(hours, tz, moment, timedelta(0))


def business_time_between(hours: BusinessHours, tz: tzinfo, start: datetime, end: datetime) -> timedelta:
    """Business time inside [start, end); zero when end is not after start."""
    total = timedelta(0)
    begin_at, end_at = start.astimezone(UTC), end.astimezone(UTC)
    if end_at <= begin_at:
        return total
    last_day = end.astimezone(tz).date()
    for opens, closes in _open_intervals(hours, tz, start.astimezone(tz).date(), last_day):
        overlap = min(closes, end_at) - max(opens, begin_at)
        if overlap > timedelta(0):
            total += overlap
    return total


def _open_intervals(
    hours: BusinessHours, tz: tzinfo, first: date, last: date | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Each business day's [opening, closing) as UTC instants, from `first` to `last` (or the horizon)."""
    span = _HORIZON_DAYS if last is None else (last - first).days + 1
    for offset in range(span):
        day = first + timedelta(days=offset)
        if hours.is_business_day(day):
            # combine() in local wall time, then to UTC: DST-safe; a nonexistent wall time resolves forward.
            opens = datetime.combine(day, hours.start, tzinfo=tz).astimezone(UTC)
            closes = datetime.combine(day, hours.end, tzinfo=tz).astimezone(UTC)
            if closes > opens:
                yield opens, closes
