"""The App Home tab and `/sla`, in-process: the figures a person asks for inside Slack.

Driven as Slack and the worker drive them: app_home_opened's job (home.publish_home), the /sla listener's ack
(home.sla_accept) and its job (home.sla_text, what jobs.sla_summary sends back). The Home tab is read as a
person reads it: the text of the view the Slack stand-in was given with views.publish (which refuses what
Slack refuses). Numbers and durations are matched loosely (a number, then 시간 or h), never a formatter's exact
output. Through the real processes:
tests/e2e/test_chatops.py::test_sla_command_and_app_home_show_open_tickets_and_todays_figures;
X usage and the posting budget on the Home tab: tests/flows/test_x_access.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.flows import buttons, home, ingest, relay
from tests.e2e.test_chatops import flat
from tests.harness import ROOT, make_context

ACCOUNT = "escalator_kr"
BASE = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")


@pytest.fixture
def ctx(redis_url, slack, x):
    slack.events_url = None
    return make_context(redis_url, slack, x)


def now() -> datetime:
    return datetime.now(UTC)


def tweets(ctx, x, *texts: tuple[str, str], at: datetime | None = None, created: datetime | None = None) -> None:
    """Customers tweet (text, username); the poll job posts the tickets."""
    for text, username in texts:
        x.add_mention(f"@{ACCOUNT} {text}", username=username, created_at=created)
    ingest.poll(ctx, at or now())
    ingest.flush_outbox(ctx, at or now())


def ticket_ts(slack, channel: str, username: str) -> str:
    return next(m["ts"] for m in slack.messages(channel) if f"@{username}" in m.get("text", ""))


def opened_home(ctx, slack, user: str = "U0LEAD", at: datetime | None = None) -> str:
    """The person opens the Home tab; the text of the view Slack was asked to show them."""
    home.publish_home(ctx, user, at or now())
    published = [v for v in slack.views if v["method"] == "views.publish" and v["user_id"] == user]
    assert published, "no views.publish for the person who opened the tab"
    view = published[-1]["view"]
    assert view["type"] == "home"
    return flat({"blocks": view["blocks"]})


def link(channel: str, ts: str) -> str:
    return f"https://sandbox.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.split("\n") if needle in line)


def count(label: str, n: int, line: str) -> bool:
    """`label n` in a line of figures ("접수 2"), n a number of its own."""
    return re.search(rf"{label}\s*{n}(?!\d)", line) is not None


# -- App Home --------------------------------------------------------------------------------------------

def test_the_home_tab_is_published_for_the_person_who_opened_it(ctx, slack, x):
    opened_home(ctx, slack, "U0STAFF1")
    assert [v["user_id"] for v in slack.views if v["method"] == "views.publish"] == ["U0STAFF1"]


def test_open_tickets_are_listed_by_department_with_how_many_and_a_link_to_each(ctx, slack, x):
    tweets(ctx, x, ("와이브로 신호 문의", "open1"), ("와이브로 속도 문의", "open2"), ("아이폰 수리 문의", "open3"))
    shown = opened_home(ctx, slack)
    assert re.search(r"WiBro 고객센터\W*\(2\)", shown) and re.search(r"아이폰 고객센터\W*\(1\)", shown)
    for channel, username in (("C0WIBRO", "open1"), ("C0WIBRO", "open2"), ("C0IPHONE", "open3")):
        assert f"@{username}" in shown and link(channel, ticket_ts(slack, channel, username)) in shown


def test_answered_and_closed_tickets_leave_the_list(ctx, slack, x):
    tweets(ctx, x, ("와이브로 신호 문의", "waiting"), ("와이브로 해피콜 거부", "closed1"),
           ("와이브로 요금", "answered1"))
    closed_ts = ticket_ts(slack, "C0WIBRO", "closed1")
    buttons.handle(ctx, "ticket_resolve", "C0WIBRO", closed_ts, "U0STAFF1", "", now(), lambda _: None)
    answered_ts = ticket_ts(slack, "C0WIBRO", "answered1")
    reply = slack.user_message("C0WIBRO", "확인했습니다", thread_ts=answered_ts).ts
    assert relay.on_reply(ctx, "C0WIBRO", answered_ts, reply, "U0STAFF1", "확인했습니다", now()) == "sent"
    shown = opened_home(ctx, slack)
    assert "@waiting" in shown and "@closed1" not in shown and "@answered1" not in shown
    assert re.search(r"WiBro 고객센터\W*\(1\)", shown)


def test_the_soonest_due_comes_first(ctx, slack, x):
    tweets(ctx, x, ("와이브로 오늘 문의", "recent"))
    tweets(ctx, x, ("와이브로 어제 문의", "older"), created=now() - timedelta(hours=20))
    shown = opened_home(ctx, slack)
    assert shown.index("@older") < shown.index("@recent")


def test_an_overdue_ticket_says_how_late_it_is(ctx, slack, x):
    tweets(ctx, x, ("와이브로 신호 문의", "late1"))
    shown = opened_home(ctx, slack, at=now() + timedelta(hours=26))  # 24 h SLA: two hours past due
    assert re.search(r"🚨\D*2\s*(시간|h)", line_with(shown, "@late1")), line_with(shown, "@late1")


def test_with_nothing_open_the_tab_says_so(ctx, slack, x):
    assert "🎉" in opened_home(ctx, slack)


def test_todays_figures_per_department(ctx, slack, x):
    tweets(ctx, x, ("와이브로 신호 문의", "open1"), ("와이브로 해피콜 거부", "closed1"), ("아이폰 수리", "open2"))
    closed_ts = ticket_ts(slack, "C0WIBRO", "closed1")
    buttons.handle(ctx, "ticket_resolve", "C0WIBRO", closed_ts, "U0STAFF1", "", now(), lambda _: None)
    shown = opened_home(ctx, slack)
    wibro = line_with(shown, "`wibro`")
    assert count("접수", 2, wibro) and count("종료", 1, wibro) and count("답변", 0, wibro)
    assert count("접수", 1, line_with(shown, "`iphone`"))


def test_a_claimed_ticket_shows_who_is_on_it(ctx, slack, x):
    tweets(ctx, x, ("와이브로 신호 문의", "claimed1"))
    ts = ticket_ts(slack, "C0WIBRO", "claimed1")
    buttons.handle(ctx, "ticket_claim", "C0WIBRO", ts, "U0STAFF1", "", now(), lambda _: None)
    assert "<@U0STAFF1>" in line_with(opened_home(ctx, slack), "@claimed1")


def test_tweet_text_on_the_home_tab_cannot_ping_anyone(ctx, slack, x):
    tweets(ctx, x, ("와이브로 <!channel> 다 보세요 <@U0LEAD> & 빨리", "shouter"))
    shown = line_with(opened_home(ctx, slack), "@shouter")
    assert "<!channel>" not in shown and "<@U0LEAD>" not in shown and "&lt;!channel&gt;" in shown


def test_a_long_list_stays_within_slacks_limits(ctx, slack, x):
    tweets(ctx, x, *((f"와이브로 장애 {i}", f"many{i:02d}") for i in range(45)))
    shown = opened_home(ctx, slack)  # the stand-in refuses a view over Slack's limits, as Slack does
    assert re.search(r"WiBro 고객센터\W*\(45\)", shown), "the department's count is all of them"
    assert "@many00" in shown, "the soonest due are listed"


def test_every_open_ticket_is_either_listed_or_counted_in_and_n_more(ctx, slack, x):
    tweets(ctx, x, *((f"와이브로 장애 {i}", f"many{i:02d}") for i in range(45)))
    shown = opened_home(ctx, slack)
    listed = set(re.findall(r"@many\d\d", shown))
    more = re.search(r"(?:외|and)\s*(\d+)", shown)
    assert len(listed) + (int(more.group(1)) if more else 0) == 45, f"{len(listed)} listed, more: {more}"


def test_the_home_tab_speaks_english_with_locale_en(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, BASE + "locale: en\n")
    tweets(ctx, x, ("와이브로 신호 문의", "open1"))
    shown = opened_home(ctx, slack)
    assert "Open tickets" in shown and "received 1" in shown and "미결" not in shown


# -- /sla ------------------------------------------------------------------------------------------------

def test_sla_with_a_word_it_does_not_know_answers_privately_with_the_known_departments(ctx, slack, x):
    ack = home.sla_accept(ctx, {"command": "/sla", "text": "wibro month", "user_id": "U0LEAD",
                                "response_url": "https://hooks.slack.com/commands/T0/1/x"})
    assert ack is not None and ack["response_type"] == "ephemeral"
    assert "`month`" in ack["text"] and "`wibro`" in ack["text"] and "`iphone`" in ack["text"]
    assert ctx.queue.jobs == []


def test_sla_acks_empty_and_queues_the_summary_for_the_asker(ctx, slack, x):
    ack = home.sla_accept(ctx, {"command": "/sla", "text": "week wibro", "user_id": "U0LEAD",
                                "response_url": "https://hooks.slack.com/commands/T0/1/x"})
    assert ack is None, "an empty ack: the figures follow through the response_url"
    (job,) = ctx.queue.jobs
    assert job.func_name == "bot.jobs.sla_summary" and tuple(job.args[:3]) == ("wibro", "week", "U0LEAD")


def test_sla_for_one_department_shows_only_it(ctx, slack, x):
    tweets(ctx, x, ("와이브로 신호 문의", "open1"), ("아이폰 수리", "open2"))
    figures = home.sla_text(ctx, "wibro", "today", now())
    assert "`wibro`" in figures and "`iphone`" not in figures and count("접수", 1, figures)


def test_sla_week_counts_the_last_seven_days_and_today_only_today(ctx, slack, x):
    three_days_ago = now() - timedelta(days=3)
    tweets(ctx, x, ("와이브로 지난주 문의", "earlier"), at=three_days_ago, created=three_days_ago)
    tweets(ctx, x, ("와이브로 오늘 문의", "today1"))
    assert count("접수", 1, line_with(home.sla_text(ctx, None, "today", now()), "`wibro`"))
    assert count("접수", 2, line_with(home.sla_text(ctx, None, "week", now()), "`wibro`"))
