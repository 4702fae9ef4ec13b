"""SLA policies and their clock: deadlines, reminders, escalations, business time. Pure: `now` is a parameter.

Rules, in one place:
- Without business hours a duration is elapsed time (a 24h SLA is 24 real hours, across a DST change too).
- With business hours the first and next response clocks count business time only; a start outside
  business hours starts counting at the next opening.
- A share reminder ("50%") fires when that share of the SLA has been used, in business time when set. An
  offset reminder ("1h") fires that long after the start on the wall clock; with business hours, one landing
  outside them moves to the next opening. Reminders at or after the deadline are dropped; equal times
  collapse into one.
- Escalation steps run on the wall clock after the breach, business hours or not: a breach is already late,
  and the people it calls (heads, managers) are expected to act on it now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.domain.calendar import (
    BusinessHours,
    add_business_time,
    business_time_between,
    next_open_instant,
)
from bot.domain.durations import notation, parse_duration

__all__ = ["BusinessHours", "Clock", "EscalationStep", "Policy", "Reminder", "parse_duration"]


@dataclass(frozen=True)
class Reminder:
    """Either a share of the SLA (0 < share < 1) or an offset from the start; never both."""

    share: float | None = None
    offset: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.share is None) == (self.offset is None):
            raise ValueError("a reminder is either a share of the SLA or an offset, not both or neither")
        if self.share is not None and not 0 < self.share < 1:
            raise ValueError(f"a reminder share must be between 0% and 100%, not {self.share:.0%}")
        if self.offset is not None and self.offset <= timedelta(0):
            raise ValueError("a reminder offset must be positive")

    @classmethod
    def parse(cls, text: str) -> Reminder:
        """ "50%" -> a share, "1h" -> an offset."""
        text = text.strip()
        if not text.endswith("%"):
            return cls(offset=parse_duration(text))
        try:
            percent = float(text[:-1])
        except ValueError:
            raise ValueError(f"bad percentage {text!r}: write it like \"50%\"") from None
        if not 0 < percent < 100:
            raise ValueError(f"bad percentage {text!r}: must be more than 0% and less than 100%")
        return cls(share=percent / 100)

    def __str__(self) -> str:
        if self.share is not None:
            return f"{self.share * 100:g}%"
        return notation(self.offset or timedelta(0))


@dataclass(frozen=True)
class EscalationStep:
    """Who is called `after` this long past the breach: named users, or the managers channel."""

    after: timedelta
    to: tuple[str, ...] = ()
    to_managers: bool = False

    def __post_init__(self) -> None:
        if self.after < timedelta(0):
            raise ValueError("an escalation step cannot come before the breach")
        if bool(self.to) == self.to_managers:
            raise ValueError("an escalation step goes either to users or to the managers")


@dataclass(frozen=True)
class Policy:
    name: str
    first_response: timedelta
    remind: tuple[Reminder, ...] = ()
    next_response: timedelta | None = None
    business_hours: BusinessHours | None = None
    escalate: tuple[EscalationStep, ...] = ()

    def __post_init__(self) -> None:
        if self.first_response <= timedelta(0):
            raise ValueError("first_response must be positive")
        if self.next_response is not None and self.next_response <= timedelta(0):
            raise ValueError("next_response must be positive")


@dataclass(frozen=True)
class Clock:
    """SLA arithmetic in one timezone (the routing's): every result is an aware datetime in `tz`."""

    tz: tzinfo

    def due_at(self, policy: Policy, start: datetime) -> datetime:
        """The first-response deadline of a ticket whose clock starts at `start`."""
        return self._add(policy, start, policy.first_response)

    def next_response_due(self, policy: Policy, followup_at: datetime) -> datetime | None:
        """The deadline for answering a customer's follow-up; None when the policy has no next_response."""
        if policy.next_response is None:
            return None
        return self._add(policy, followup_at, policy.next_response)

    def reminder_times(self, policy: Policy, start: datetime) -> list[datetime]:
        """When to remind the thread, sorted, before the deadline, duplicates collapsed."""
        # Compared and sorted in UTC: datetimes sharing a ZoneInfo compare by wall time, wrong in a DST fold.
        due = _utc(self.due_at(policy, start))
        times = set()
        for reminder in policy.remind:
            if reminder.share is not None:
                at = _utc(self._add(policy, start, policy.first_response * reminder.share))
            else:
                at = _utc(start) + (reminder.offset or timedelta(0))
                if policy.business_hours is not None:
                    at = _utc(next_open_instant(policy.business_hours, self.tz, at))
            if at < due:
                times.add(at)
        return [at.astimezone(self.tz) for at in sorted(times)]

    def escalation_times(self, policy: Policy, due: datetime) -> list[tuple[datetime, EscalationStep]]:
        """Each escalation step with its wall-clock time after the breach at `due`, earliest first."""
        steps = sorted(policy.escalate, key=lambda step: step.after)
        return [((_utc(due) + step.after).astimezone(self.tz), step) for step in steps]

    def business_elapsed(self, policy: Policy, start: datetime, end: datetime) -> timedelta:
        """Time counted against the SLA between two instants (business time when the policy has hours)."""
        if policy.business_hours is not None:
            return business_time_between(policy.business_hours, self.tz, _utc(start), _utc(end))
        return max(_utc(end) - _utc(start), timedelta(0))

    def _add(self, policy: Policy, start: datetime, delta: timedelta) -> datetime:
        if policy.business_hours is not None:
            return add_business_time(policy.business_hours, self.tz, _utc(start), delta)
        return (_utc(start) + delta).astimezone(self.tz)


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC, where adding and subtracting is elapsed time (in a ZoneInfo, wall time)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"SLA times must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)
