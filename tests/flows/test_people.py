"""Who someone is, in routing's terms: staff, leads, operators; user ids and Slack user groups alike.

One function (flows/people.py) answers for every check: a reply to X, a ticket button, an approval, a storm's
buttons, `/escalate`. These tests drive those entry points (the message job's relay.on_reply, buttons.handle,
approval.decide, storm.declare_by, escalate.run) and read what people see from the Slack and X stand-ins.
Channel members answering where no staff is listed:
test_relay_send.py::test_without_a_staff_list_only_channel_members_can_answer.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.flows import approval, buttons, escalate, ingest, relay, storm
from tests.harness import ROOT, make_context

ACCOUNT = "escalator_kr"
BASE = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")
CARE = """
  - id: care
    name: 해지 방어팀
    channel: C0CARE
    keywords: [해지]
    sla: standard
    relay: {mode: approve}
"""
STORM = "storm: {threshold: 50, window: 10m, quiet: 10m, pace: 0s}\n"


def routing(operators: str | None) -> str:
    text = BASE if operators is None else BASE.replace("departments:", f"operators: {operators}\ndepartments:")
    return text + CARE + STORM


@pytest.fixture(autouse=True)
def _quiet_slack(slack):
    slack.events_url = None  # people's messages stay in the stand-in; the test runs the job itself
    for user in ("U0STAFF2", "U0LEAD", "U0OPS1"):
        slack.add_user(user, user.lower())


def now() -> datetime:
    return datetime.now(UTC)


def ticket(ctx, slack, x, text: str, username: str, channel: str) -> dict:
    x.add_mention(f"@{ACCOUNT} {text}", username=username)
    ingest.poll(ctx, now())
    ingest.flush_outbox(ctx, now())
    return next(m for m in slack.messages(channel) if f"@{username}" in m.get("text", ""))


def write(ctx, slack, channel: str, msg: dict, text: str, user: str) -> str:
    ts = slack.user_message(channel, text, user=user, thread_ts=msg["ts"]).ts
    return relay.on_reply(ctx, channel, msg["ts"], ts, user, text, now())


def private_to(slack, user: str) -> list[str]:
    """What only this person was shown: ephemerals, or a DM when they are not in the channel."""
    dm = [m.get("text", "") for m in slack.messages("D" + user[1:])]
    return [e.get("text", "") for e in slack.ephemerals if e.get("user") == user] + dm


def escalate_as(ctx, x, user: str) -> str:
    tweet_id = x.add_post("와이브로 야간 장애", username="night")
    return escalate.run(ctx, escalate.Request(tweet_id, "wibro", False, ""), user, now())


# -- answering on X ----------------------------------------------------------------------------------------

def test_a_departments_staff_list_decides_who_answers_on_x_not_the_channel(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing(None))
    msg = ticket(ctx, slack, x, "아이폰 배송 문의", "waiter", "C0IPHONE")  # iphone: staff [U0STAFF1, U0STAFF2]
    assert write(ctx, slack, "C0IPHONE", msg, "리드가 답합니다", "U0LEAD") == "not-staff", "in the channel, not staff"
    assert any("🔒" in m for m in private_to(slack, "U0LEAD"))
    assert write(ctx, slack, "C0IPHONE", msg, "곧 보내 드립니다", "U0STAFF2") == "sent"
    assert [p["text"] for p in x.posted()] == ["곧 보내 드립니다"]


def test_someone_outside_the_channel_is_told_by_direct_message(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing(None))
    slack.set_members("C0WIBRO", ["U0STAFF1"])  # wibro lists no staff: its channel's members answer
    slack.add_user("U0GUEST", "guest")
    msg = ticket(ctx, slack, x, "와이브로 신호 문의", "signal", "C0WIBRO")
    assert write(ctx, slack, "C0WIBRO", msg, "제가 답할게요", "U0GUEST") == "not-staff"
    dm = [m.get("text", "") for m in slack.messages("D0GUEST")]
    assert dm and "🔒" in dm[0], "no ephemeral can reach a non-member: a DM says why the reply was not sent"
    assert x.posted() == []


# -- operators -------------------------------------------------------------------------------------------

def test_without_operators_anyone_may_escalate_and_open_a_storm(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing(None))
    assert escalate_as(ctx, x, "U0ANYONE").startswith("✅")
    assert storm.declare_by(ctx, "wibro", "장애", "U0ANYONE", now())


def test_operators_as_a_user_group_are_checked_for_storms_buttons_and_approvals(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing("[S0OPS]"))
    slack.set_usergroup("S0OPS", ["U0GROUPOP"])
    slack.add_user("U0NOTOP", "notop")
    assert storm.declare_by(ctx, "wibro", "장애", "U0NOTOP", now()) is None
    assert ctx.store.active_storm("wibro") is None
    # The ticket buttons of a department with a staff list: an operator by group membership may press them.
    iphone = ticket(ctx, slack, x, "아이폰 문의", "minsu", "C0IPHONE")
    outcome = buttons.handle(ctx, "ticket_claim", "C0IPHONE", iphone["ts"], "U0NOTOP", "", now(), lambda _: None)
    assert outcome == "not-staff"
    outcome = buttons.handle(ctx, "ticket_claim", "C0IPHONE", iphone["ts"], "U0GROUPOP", "", now(), lambda _: None)
    assert outcome == "claimed"
    # Approvers without leads are the operators: a group member approves.
    care = ticket(ctx, slack, x, "해지 문의", "leaving", "C0CARE")
    assert write(ctx, slack, "C0CARE", care, "해지 답변", "U0STAFF1") == "awaiting-approval"
    asked = next(m for m in slack.thread("C0CARE", care["ts"]) if "🛂" in m.get("text", ""))
    key = next(e["value"] for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"])
    told: list[str] = []
    assert approval.decide(ctx, "approve", key, "U0NOTOP", "", now(), told.append) == "not-approver"
    assert approval.decide(ctx, "approve", key, "U0GROUPOP", "", now(), told.append) == "sent"
    assert storm.declare_by(ctx, "wibro", "장애", "U0GROUPOP", now())


def test_an_approval_request_calls_approvers_given_as_a_user_group(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing("[S0OPS]"))  # care has no leads: the operators approve
    slack.set_usergroup("S0OPS", ["U0GROUPOP"])
    care = ticket(ctx, slack, x, "해지 문의", "leaving", "C0CARE")
    write(ctx, slack, "C0CARE", care, "해지 답변", "U0STAFF1")
    asked = next(m for m in slack.thread("C0CARE", care["ts"]) if "🛂" in m.get("text", ""))
    assert "<!subteam^S0OPS>" in asked["text"], asked["text"]


def test_a_refusal_names_the_operators_as_slack_shows_people_and_groups(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing("[U0OPS1, S0OPSTEAM]"))
    slack.set_usergroup("S0OPSTEAM", ["U0NIGHT"])
    refused = escalate_as(ctx, x, "U0STAFF1")
    assert "🔒" in refused and "<@U0OPS1>" in refused and "<!subteam^S0OPSTEAM>" in refused
    assert escalate_as(ctx, x, "U0NIGHT").startswith("✅"), "a member of the group is an operator"


def test_someone_added_to_the_group_in_slack_may_act_at_once(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing("[S0OPSTEAM]"))
    slack.set_usergroup("S0OPSTEAM", ["U0OPS1"])
    assert "🔒" in escalate_as(ctx, x, "U0NEWBIE")
    slack.set_usergroup("S0OPSTEAM", ["U0OPS1", "U0NEWBIE"])
    assert escalate_as(ctx, x, "U0NEWBIE").startswith("✅"), "group membership is asked of Slack, not remembered"


def test_a_user_group_slack_will_not_list_counts_as_nobody_and_breaks_nothing(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing("[U0OPS1, S0GONE]"))  # S0GONE: Slack says no_such_subteam
    assert "🔒" in escalate_as(ctx, x, "U0STAFF1")
    assert escalate_as(ctx, x, "U0OPS1").startswith("✅"), "the operators listed by id still may"
