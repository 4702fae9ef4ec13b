"""Report scenarios shared by the figures tests: tickets with every outcome, and aggregated days.

tests/data/report_golden.json holds what `report --format json` (summarize()) and the CSV printed for these
on main before the figures became dataclasses; the tests compare against it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.figures import DayFigures, bucket
from bot.domain.tickets import Author, Event, State, Ticket, transition
from bot.routing import Routing, parse_routing

KST = ZoneInfo("Asia/Seoul")
ROUTING = """
timezone: Asia/Seoul
triage: {channel: C0TRIAGE}
managers: {channel: C0MANAGERS}
sla:
  standard: {first_response: 24h}
  fast_track: {first_response: 3h}
fast_track: {keywords: [개통, 장애], sla: fast_track}
report: {daily_at: "17:30"}
retention: 30d
departments:
  - {id: iphone, name: 아이폰 고객센터, channel: C0IPHONE, keywords: [아이폰], sla: standard}
  - {id: wibro, name: WiBro 고객센터, channel: C0WIBRO, keywords: [와이브로], sla: standard}
"""
NOW = datetime(2026, 11, 27, 17, 30, tzinfo=KST)


def routing() -> Routing:
    return parse_routing(ROUTING, "routing.yaml")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=KST)


def ticket(n: int, dept: str | None, created: datetime, answer_after: timedelta | None = None, *,
           fast: bool = False, closed: bool = False, flagged: bool = False, account: str | None = None,
           keywords: tuple[str, ...] = ()) -> Ticket:
    t = Ticket(tweet_id=str(5_000 + n), text=" ".join(keywords) or "hello", author=Author(f"a{n}", f"user{n}"),
               created_at=created, policy="fast_track" if fast else "standard",
               due_at=created + timedelta(hours=3 if fast else 24), department=dept, fast_track=fast,
               keywords=keywords, state=State.OPEN, channel="C0X", message_ts=f"{n}.0", breached=flagged,
               account=account)
    if answer_after is not None:
        t = transition(t, Event.REPLY_SENT, created + answer_after)
    if closed:
        t = replace(t, state=State.CLOSED)
    return t


def day_tickets(accounts: tuple[str | None, ...] = (None,)) -> list[Ticket]:
    """Friday 27 to 17:30: answered in time and late, fast-tracked, closed unanswered, triage, open and due."""
    def acct(i: int) -> str | None:
        return accounts[i % len(accounts)]

    s = timedelta(seconds=1)
    return [
        ticket(1, "wibro", at(27, 9), 300 * s, keywords=("와이브로",), account=acct(1)),
        ticket(2, "wibro", at(27, 9, 5), 845 * s, keywords=("와이브로", "개통"), fast=True, account=acct(2)),
        ticket(3, "wibro", at(27, 8), 4 * 3600 * s, keywords=("와이브로", "개통"), fast=True, account=acct(3)),
        ticket(4, "wibro", at(27, 16, 59, 30), account=acct(4)),
        ticket(5, "wibro", at(26, 17, 40), keywords=("와이브로",), account=acct(5)),  # yesterday: not in the day
        ticket(6, "wibro", at(27, 10), closed=True, account=acct(6)),
        ticket(7, "iphone", at(27, 11), fast=True, keywords=("아이폰", "장애"), account=acct(7)),
        ticket(8, "iphone", at(27, 12), 5400 * s + 7 * s, keywords=("아이폰",), account=acct(8)),
        ticket(9, None, at(27, 13), account=acct(9)),
        ticket(10, None, at(27, 0, 10), 86400 * s, account=acct(10)),  # answered tomorrow (seeded as stored)
        ticket(11, "iphone", at(27, 14), 600 * s, flagged=True, keywords=("아이폰",), account=acct(11)),
        ticket(12, "gone", at(27, 15), 100 * s, account=acct(12)),  # a department since removed from routing
    ]


def in_day(tickets: list[Ticket]) -> list[Ticket]:
    return [t for t in tickets if at(27, 0) <= t.created_at < at(28, 0)]


def aggregated() -> dict[date, dict[str, DayFigures]]:
    """Two days of figures kept after their tickets left Redis."""
    wibro = DayFigures(received=5, answered=4, open=0, closed=1, breached=1, decided=4, met=3,
                       first_response={bucket(600): 2, bucket(7200): 2})
    triage = DayFigures(received=2, answered=1, open=1, closed=0, breached=1, decided=2, met=1,
                        first_response={bucket(60): 1})
    old = DayFigures(received=1, answered=1, decided=1, met=1, first_response={bucket(30): 1})
    return {date(2026, 10, 20): {"wibro": wibro, "triage": triage}, date(2026, 10, 21): {"retired": old}}
