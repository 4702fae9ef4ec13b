"""SLA clock: deadlines, reminders, escalations and business time, at explicit instants in Seoul."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import BusinessHours
from bot.domain.durations import notation
from bot.domain.sla import Clock, EscalationStep, Policy, Reminder, parse_duration

SEOUL = ZoneInfo("Asia/Seoul")
CLOCK = Clock(SEOUL)
OFFICE_HOURS = BusinessHours(frozenset(range(5)), time(9), time(18), holidays="KR")
OFFICE = Policy(
    "office", first_response=timedelta(hours=8), business_hours=OFFICE_HOURS, next_response=timedelta(hours=4)
)
FAST = Policy(
    "fast_track",
    first_response=timedelta(hours=3),
    remind=(Reminder.parse("1h"), Reminder.parse("2h")),
    escalate=(
        EscalationStep(timedelta(hours=3), to_managers=True),
        EscalationStep(timedelta(hours=1), to=("U0HEAD",)),
    ),
)
STANDARD = Policy(
    "standard", first_response=timedelta(hours=24), remind=(Reminder.parse("50%"), Reminder.parse("90%"))
)


def kst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL)


def test_fast_track_is_due_three_hours_after_the_tweet() -> None:
    assert CLOCK.due_at(FAST, kst(2026, 3, 4, 23, 30)) == kst(2026, 3, 5, 2, 30)


def test_due_at_accepts_any_timezone_and_answers_in_the_routing_one() -> None:
    due = CLOCK.due_at(FAST, datetime(2026, 3, 4, 14, 30, tzinfo=UTC))
    assert due == kst(2026, 3, 5, 2, 30) and due.tzinfo is SEOUL


def test_friday_evening_on_eight_business_hours_is_due_monday_afternoon() -> None:
    assert CLOCK.due_at(OFFICE, kst(2026, 3, 6, 19, 0)) == kst(2026, 3, 9, 17, 0)


def test_a_start_inside_business_hours_counts_from_the_start() -> None:
    # 14:00 Tuesday: 4h left today, 4h tomorrow from 09:00
    assert CLOCK.due_at(OFFICE, kst(2026, 3, 10, 14, 0)) == kst(2026, 3, 11, 13, 0)
    assert CLOCK.due_at(OFFICE, kst(2026, 3, 10, 9, 0)) == kst(2026, 3, 10, 17, 0)


def test_a_korean_public_holiday_does_not_count() -> None:
    # Children's Day, Tuesday 2026-05-05: a Monday-evening mention is due Wednesday, not Tuesday.
    assert CLOCK.due_at(OFFICE, kst(2026, 5, 4, 19, 0)) == kst(2026, 5, 6, 17, 0)
    without_holidays = Policy(
        "plain", timedelta(hours=8), business_hours=BusinessHours(frozenset(range(5)), time(9), time(18))
    )
    assert CLOCK.due_at(without_holidays, kst(2026, 5, 4, 19, 0)) == kst(2026, 5, 5, 17, 0)


def test_chuseok_and_the_weekend_push_the_deadline_to_monday() -> None:
    # Chuseok 2026: Thu 09-24 to Sat 09-26.
    assert CLOCK.due_at(OFFICE, kst(2026, 9, 23, 19, 0)) == kst(2026, 9, 28, 17, 0)


def test_christmas_friday_is_skipped() -> None:
    assert CLOCK.due_at(OFFICE, kst(2026, 12, 24, 12, 0)) == kst(2026, 12, 28, 11, 0)


def test_wall_clock_durations_are_elapsed_time_across_a_dst_change() -> None:
    new_york = Clock(ZoneInfo("America/New_York"))
    start = datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo("America/New_York"))  # clocks go forward on the 8th
    due = new_york.due_at(STANDARD, start)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)
    assert due.hour == 13


def test_business_hours_follow_local_wall_time_across_a_dst_change() -> None:
    tz = ZoneInfo("America/New_York")
    hours = BusinessHours(frozenset(range(5)), time(9), time(17))
    policy = Policy("us", timedelta(hours=8), business_hours=hours)
    # Friday 2026-03-06 after hours -> Monday 2026-03-09, the first day on daylight time: 09:00-17:00 EDT.
    assert Clock(tz).due_at(policy, datetime(2026, 3, 6, 18, 0, tzinfo=tz)) == datetime(
        2026, 3, 9, 17, 0, tzinfo=tz
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CLOCK.due_at(FAST, datetime(2026, 3, 4, 12, 0))


def test_share_reminders_are_a_share_of_the_sla() -> None:
    assert CLOCK.reminder_times(STANDARD, kst(2026, 3, 4, 10, 0)) == [
        kst(2026, 3, 4, 22, 0),
        kst(2026, 3, 5, 7, 36),
    ]


def test_offset_reminders_count_from_the_tweet() -> None:
    assert CLOCK.reminder_times(FAST, kst(2026, 3, 4, 10, 0)) == [
        kst(2026, 3, 4, 11, 0),
        kst(2026, 3, 4, 12, 0),
    ]


def test_reminders_at_or_after_the_deadline_are_dropped() -> None:
    policy = Policy("p", timedelta(hours=2), remind=(Reminder.parse("1h"), Reminder.parse("2h")))
    assert CLOCK.reminder_times(policy, kst(2026, 3, 4, 10, 0)) == [kst(2026, 3, 4, 11, 0)]


def test_share_reminders_count_business_time() -> None:
    policy = Policy(
        "office", timedelta(hours=8), remind=(Reminder.parse("50%"),), business_hours=OFFICE_HOURS
    )
    # Friday 16:00: 2h on Friday, then 2h on Monday -> Monday 11:00 (due Monday 15:00)
    assert CLOCK.reminder_times(policy, kst(2026, 3, 6, 16, 0)) == [kst(2026, 3, 9, 11, 0)]


def test_offset_reminders_outside_business_hours_move_to_the_next_opening_and_collapse() -> None:
    policy = Policy(
        "office",
        timedelta(hours=8),
        business_hours=OFFICE_HOURS,
        remind=(Reminder.parse("1h"), Reminder.parse("2h"), Reminder.parse("65h")),
    )
    # Friday 19:00: +1h and +2h are Friday night -> both Monday 09:00; +65h is Monday 12:00, inside hours.
    assert CLOCK.reminder_times(policy, kst(2026, 3, 6, 19, 0)) == [
        kst(2026, 3, 9, 9, 0),
        kst(2026, 3, 9, 12, 0),
    ]


def test_escalations_run_on_the_wall_clock_after_the_breach() -> None:
    due = kst(2026, 3, 6, 17, 0)  # a Friday: escalations still come that evening
    times = CLOCK.escalation_times(FAST, due)
    assert [(at, step.to, step.to_managers) for at, step in times] == [
        (kst(2026, 3, 6, 18, 0), ("U0HEAD",), False),
        (kst(2026, 3, 6, 20, 0), (), True),
    ]


def test_next_response_counts_business_time_and_is_none_without_a_policy_clock() -> None:
    assert CLOCK.next_response_due(OFFICE, kst(2026, 3, 6, 16, 0)) == kst(2026, 3, 9, 11, 0)
    assert CLOCK.next_response_due(FAST, kst(2026, 3, 6, 16, 0)) is None


def test_business_elapsed_counts_only_business_hours() -> None:
    elapsed = CLOCK.business_elapsed
    # Friday 17:00 to Monday 10:30: one hour each side of the weekend
    assert elapsed(OFFICE, kst(2026, 3, 6, 17), kst(2026, 3, 9, 10, 30)) == timedelta(hours=2, minutes=30)
    # across Children's Day (Tuesday 2026-05-05)
    assert elapsed(OFFICE, kst(2026, 5, 4, 17), kst(2026, 5, 6, 10)) == timedelta(hours=2)
    # no business hours: plain elapsed time, never negative
    assert elapsed(FAST, kst(2026, 3, 6, 17), kst(2026, 3, 6, 19, 15)) == timedelta(minutes=135)
    assert elapsed(FAST, kst(2026, 3, 6, 17), kst(2026, 3, 6, 16)) == timedelta(0)


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(SEOUL)),
    st.integers(min_value=1, max_value=40 * 3600),
)
def test_business_elapsed_to_the_deadline_is_the_sla(start: datetime, seconds: int) -> None:
    policy = Policy("p", timedelta(seconds=seconds), business_hours=OFFICE_HOURS)
    due = CLOCK.due_at(policy, start)
    assert CLOCK.business_elapsed(policy, start, due) == timedelta(seconds=seconds)
    assert due.weekday() < 5 and time(9) < due.time() <= time(18)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("3h", timedelta(hours=3)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "90", "1.5h", "3 hours", "30m1h", "h", "-5m", "1w", "3H"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


def test_format_duration_round_trips() -> None:
    assert [notation(parse_duration(t)) for t in ("90s", "1h30m", "2d", "0s")] == [
        "1m30s",
        "1h30m",
        "2d",
        "0s",
    ]


@pytest.mark.parametrize(
    ("text", "share", "offset"),
    [("50%", 0.5, None), ("12.5%", 0.125, None), ("1h", None, timedelta(hours=1))],
)
def test_reminder_parse(text: str, share: float | None, offset: timedelta | None) -> None:
    assert Reminder.parse(text) == Reminder(share=share, offset=offset)
    assert str(Reminder.parse(text)) == text


@pytest.mark.parametrize("text", ["0%", "100%", "150%", "abc%", "0s"])
def test_reminder_parse_refuses_bad_values(text: str) -> None:
    with pytest.raises(ValueError):
        Reminder.parse(text)
