"""The ticket message's buttons, in-process: Claim, Reassign, Resolve without reply.

Driven as the ticket_action job drives them (buttons.handle, with the button's action id and value read from
the message the bot posted, and a teller that answers the clicker privately); what people see is read back
from the Slack and X stand-ins. Through the real processes: tests/e2e/test_chatops.py; the reminder that
mentions whoever claimed: tests/flows/test_timers.py::test_a_reminder_mentions_whoever_claimed_the_ticket.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.flows import buttons, home, ingest, relay
from tests.e2e.test_chatops import flat
from tests.harness import ROOT, make_context

ACCOUNT = "escalator_kr"
BASE = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")


@pytest.fixture
def ctx(redis_url, slack, x):
    slack.events_url = None  # people's messages stay in the stand-in; the test runs the job itself
    for user in ("U0STAFF2", "U0LEAD"):
        slack.add_user(user, user.lower())
    return make_context(redis_url, slack, x)


def now() -> datetime:
    return datetime.now(UTC)


def ticket_message(ctx, slack, x, text: str, username: str, channel: str) -> dict:
    """A customer tweets; the poll job posts the ticket; its message as the channel shows it."""
    x.add_mention(f"@{ACCOUNT} {text}", username=username)
    ingest.poll(ctx, now())
    ingest.flush_outbox(ctx, now())
    return next(m for m in slack.messages(channel) if f"@{username}" in m.get("text", ""))


def current(slack, channel: str, ts: str) -> dict:
    return next(m for m in slack.messages(channel) if m["ts"] == ts)


def actions(msg: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in msg.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]}


def click(ctx, slack, channel: str, ts: str, user: str, action: str, value: str | None = None) -> str:
    """A person clicks a button (or picks a menu option) on the message: the job that handles it."""
    msg = current(slack, channel, ts)
    if action in actions(msg) and value is None:
        value = actions(msg)[action].get("value", "")

    def tell(text: str) -> None:  # the clicker, privately (jobs._teller without a response_url)
        ctx.slack.ephemeral(channel, user, text)

    return buttons.handle(ctx, action, channel, ts, user, value or "", now(), tell)


def thread(slack, channel: str, ts: str) -> list[str]:
    return [m.get("text", "") for m in slack.thread(channel, ts)[1:]]


def private_to(slack, user: str) -> list[str]:
    """What only this person was shown: ephemerals, or a DM when they are not in the channel."""
    dm = [m.get("text", "") for m in slack.messages("D" + user[1:])]
    return [e.get("text", "") for e in slack.ephemerals if e.get("user") == user] + dm


# -- Claim -----------------------------------------------------------------------------------------------------

def test_a_ticket_comes_with_claim_reassign_and_resolve(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")
    assert set(actions(msg)) == {"ticket_claim", "ticket_reassign", "ticket_resolve"}
    options = {o["value"] for o in actions(msg)["ticket_reassign"]["options"]}
    assert options == {"wibro", "triage"}, "every other department and triage, not its own"
    assert "🟡 open" in flat(msg)


def test_claim_shows_who_is_on_it_on_the_message_and_in_the_thread(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF1", "ticket_claim") == "claimed"
    assert "🙋 claimed · <@U0STAFF1>" in flat(current(slack, "C0IPHONE", msg["ts"]))
    notes = [m for m in thread(slack, "C0IPHONE", msg["ts"]) if "🙋" in m]
    assert len(notes) == 1 and "<@U0STAFF1>" in notes[0]


def test_claiming_twice_tells_the_thread_once(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")
    click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF1", "ticket_claim")
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF1", "ticket_claim") == "already-claimed"
    assert len([m for m in thread(slack, "C0IPHONE", msg["ts"]) if "🙋" in m]) == 1


def test_a_colleague_can_take_over_a_claim(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")
    click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF1", "ticket_claim")
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF2", "ticket_claim") == "claimed"
    shown = flat(current(slack, "C0IPHONE", msg["ts"]))
    assert "<@U0STAFF2>" in shown and "<@U0STAFF1>" not in shown


def test_a_click_by_someone_outside_a_staffed_department_is_refused_privately(ctx, slack, x):
    slack.add_user("U0OUTSIDER", "outsider")
    msg = ticket_message(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")  # iphone lists its staff
    before = flat(msg)
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0OUTSIDER", "ticket_claim") == "not-staff"
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0OUTSIDER", "ticket_resolve") == "not-staff"
    told = private_to(slack, "U0OUTSIDER")
    assert len(told) == 2 and all("🔒" in m and "아이폰 고객센터" in m for m in told)
    assert flat(current(slack, "C0IPHONE", msg["ts"])) == before
    assert thread(slack, "C0IPHONE", msg["ts"]) == []


def test_leads_may_press_in_a_staffed_department_and_anyone_where_no_staff_is_listed(ctx, slack, x):
    iphone = ticket_message(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")
    assert click(ctx, slack, "C0IPHONE", iphone["ts"], "U0LEAD", "ticket_claim") == "claimed"
    wibro = ticket_message(ctx, slack, x, "와이브로 신호 문의", "signal", "C0WIBRO")  # no staff list
    assert click(ctx, slack, "C0WIBRO", wibro["ts"], "U0ANYONE", "ticket_claim") == "claimed"


# -- Resolve without reply -----------------------------------------------------------------------------------

def test_resolve_without_reply_closes_the_ticket_with_no_tweet_and_reports_count_it_closed(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "아이폰 해피콜 거부", "done1", "C0IPHONE")
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF2", "ticket_resolve") == "resolved"
    closed = current(slack, "C0IPHONE", msg["ts"])
    assert "⚪ closed" in flat(closed) and actions(closed) == {}, "no buttons on a closed ticket"
    assert any("⚪" in m and "<@U0STAFF2>" in m for m in thread(slack, "C0IPHONE", msg["ts"]))
    assert x.posted() == []
    figures = home.sla_text(ctx, "iphone", "today", now())  # what /sla iphone answers
    assert "종료 1" in figures and "답변 0" in figures


def test_resolving_twice_and_claiming_a_closed_ticket_change_nothing(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "아이폰 해피콜 거부", "done1", "C0IPHONE")
    click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF2", "ticket_resolve")
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF2", "ticket_resolve") == "already-closed"
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF1", "ticket_claim") == "refused"
    assert any("ℹ️" in m and "closed" in m for m in private_to(slack, "U0STAFF1"))
    assert len([m for m in thread(slack, "C0IPHONE", msg["ts"]) if "⚪" in m]) == 1
    assert "⚪ closed" in flat(current(slack, "C0IPHONE", msg["ts"]))


def test_resolve_while_a_reply_is_on_its_way_is_refused_and_says_how_to_cancel(ctx, slack, x):
    ctx = make_context(ctx.settings.redis_url, slack, x, BASE.replace("hold: 0s", "hold: 15s"))
    msg = ticket_message(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")
    ts = slack.user_message("C0IPHONE", "곧 배송됩니다", user="U0STAFF1", thread_ts=msg["ts"]).ts
    assert relay.on_reply(ctx, "C0IPHONE", msg["ts"], ts, "U0STAFF1", "곧 배송됩니다", now()) == "pending"
    assert click(ctx, slack, "C0IPHONE", msg["ts"], "U0STAFF2", "ticket_resolve") == "refused"
    assert any("⚠️" in m and "삭제" in m for m in private_to(slack, "U0STAFF2")), "delete the reply to cancel it"
    assert "⏳ pending_send" in flat(current(slack, "C0IPHONE", msg["ts"]))


# -- Reassign --------------------------------------------------------------------------------------------------

def test_reassign_posts_the_ticket_in_the_new_channel_with_its_deadline_and_history(ctx, slack, x):
    old = ticket_message(ctx, slack, x, "인터넷이 느려요", "mover", "C0TRIAGE")
    note = slack.user_message("C0TRIAGE", "// 와이브로 쪽 같아요 <@U0LEAD>", user="U0STAFF1", thread_ts=old["ts"])
    assert note
    assert click(ctx, slack, "C0TRIAGE", old["ts"], "U0STAFF1", "ticket_reassign", "wibro") == "reassigned"
    (new,) = slack.messages("C0WIBRO")
    assert "@mover" in flat(new) and "ticket_claim" in actions(new)
    due = next(line for line in flat(old).split("\n") if "기한" in line)
    assert due in flat(new), "the deadline follows the ticket"
    pointer = current(slack, "C0TRIAGE", old["ts"])
    assert "➡️" in flat(pointer) and f"p{new['ts'].replace('.', '')}" in flat(pointer)
    assert actions(pointer) == {}, "the old message loses its buttons"
    (history,) = [m for m in thread(slack, "C0WIBRO", new["ts"]) if "↪️" in m]
    assert "와이브로 쪽 같아요" in history and "staff1" in history.lower()
    assert "<@U0LEAD>" not in history, "copying the history must not ping anyone again"


def test_after_a_move_the_old_thread_points_on_and_the_new_thread_answers_the_customer(ctx, slack, x):
    old = ticket_message(ctx, slack, x, "인터넷이 느려요", "mover", "C0TRIAGE")
    click(ctx, slack, "C0TRIAGE", old["ts"], "U0STAFF1", "ticket_reassign", "wibro")
    (new,) = slack.messages("C0WIBRO")
    stale = slack.user_message("C0TRIAGE", "옛 스레드에 단 답글", user="U0STAFF1", thread_ts=old["ts"]).ts
    assert relay.on_reply(ctx, "C0TRIAGE", old["ts"], stale, "U0STAFF1", "옛 스레드에 단 답글", now()) == "moved"
    assert any("↪️" in m for m in private_to(slack, "U0STAFF1"))
    assert x.posted() == []
    fresh = slack.user_message("C0WIBRO", "와이브로 팀입니다", user="U0STAFF2", thread_ts=new["ts"]).ts
    assert relay.on_reply(ctx, "C0WIBRO", new["ts"], fresh, "U0STAFF2", "와이브로 팀입니다", now()) == "sent"
    assert [p["text"] for p in x.posted()] == ["와이브로 팀입니다"]
    assert "✅ answered" in flat(current(slack, "C0WIBRO", new["ts"]))


def test_a_click_on_a_moved_tickets_old_message_is_told_it_moved(ctx, slack, x):
    old = ticket_message(ctx, slack, x, "인터넷이 느려요", "mover", "C0TRIAGE")
    click(ctx, slack, "C0TRIAGE", old["ts"], "U0STAFF1", "ticket_reassign", "wibro")
    assert click(ctx, slack, "C0TRIAGE", old["ts"], "U0STAFF1", "ticket_claim", "x") == "gone"
    assert any("⚠️" in m for m in private_to(slack, "U0STAFF1"))
    assert len(slack.messages("C0WIBRO")) == 1 and "🟡 open" in flat(slack.messages("C0WIBRO")[0])


def test_reassign_to_its_own_department_or_an_unknown_one_is_told_and_changes_nothing(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "와이브로 신호 문의", "signal", "C0WIBRO")
    assert click(ctx, slack, "C0WIBRO", msg["ts"], "U0STAFF1", "ticket_reassign", "wibro") == "same-department"
    assert click(ctx, slack, "C0WIBRO", msg["ts"], "U0STAFF1", "ticket_reassign", "lte") == "unknown-department"
    told = private_to(slack, "U0STAFF1")
    assert any("ℹ️" in m and "WiBro 고객센터" in m for m in told)
    assert any("`lte`" in m and "`iphone`" in m and "`wibro`" in m for m in told)
    assert len(slack.messages("C0WIBRO")) == 1 and slack.messages("C0IPHONE") == []


def test_a_ticket_can_be_sent_back_to_triage(ctx, slack, x):
    msg = ticket_message(ctx, slack, x, "와이브로 요금 문의", "wrongdept", "C0WIBRO")
    assert click(ctx, slack, "C0WIBRO", msg["ts"], "U0STAFF1", "ticket_reassign", "triage") == "reassigned"
    (moved,) = slack.messages("C0TRIAGE")
    assert "@wrongdept" in flat(moved) and "분류 대기" in flat(moved)
