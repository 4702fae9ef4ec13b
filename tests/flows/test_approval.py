"""Reply approval, in-process: in a department with `relay: {mode: approve}` a staff reply waits for a lead.

Driven as the jobs drive it: the author's message, edit and deletion (the message job: relay.on_reply, on_edit,
on_delete), a lead's Approve or Reject (the approval_decision job: approval.decide, with the key read from the
button the bot posted and a teller that answers the clicker privately), the web's check before it opens the
Reject modal (approval.may_decide). What people see is read back from the Slack and X stand-ins. Through the
real processes and the modal: tests/e2e/test_chatops.py::test_approval_department_holds_replies_for_a_lead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.flows import approval, ingest, relay
from tests.e2e.test_chatops import flat
from tests.harness import ROOT, make_context

ACCOUNT = "escalator_kr"
BASE = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")
ROUTING = BASE.replace("departments:", "operators: [U0OPS1]\ndepartments:") + """
  - id: care
    name: 해지 방어팀
    channel: C0CARE
    keywords: [해지]
    sla: standard
    leads: [U0LEAD]
    relay: {mode: approve}
  - id: refund
    name: 환불팀
    channel: C0REFUND
    keywords: [환불]
    sla: standard
    relay: {mode: approve}
"""


@pytest.fixture
def ctx(redis_url, slack, x):
    slack.events_url = None  # people's messages stay in the stand-in; the test runs the job itself
    for user in ("U0STAFF2", "U0LEAD", "U0OPS1"):
        slack.add_user(user, user.lower())
    return make_context(redis_url, slack, x, ROUTING)


def now() -> datetime:
    return datetime.now(UTC)


def ticket_message(ctx, slack, x, text: str = "해지하고 싶어요", username: str = "leaving",
                   channel: str = "C0CARE") -> dict:
    x.add_mention(f"@{ACCOUNT} {text}", username=username)
    ingest.poll(ctx, now())
    ingest.flush_outbox(ctx, now())
    return next(m for m in slack.messages(channel) if f"@{username}" in m.get("text", ""))


def write(ctx, slack, ticket: dict, text: str, user: str = "U0STAFF1", at: datetime | None = None,
          channel: str = "C0CARE") -> tuple[str, str]:
    """The author replies in the ticket's thread; the message job handles it."""
    ts = slack.user_message(channel, text, user=user, thread_ts=ticket["ts"]).ts
    return relay.on_reply(ctx, channel, ticket["ts"], ts, user, text, at or now()), ts


def request(slack, ticket: dict, channel: str = "C0CARE") -> dict:
    """The latest approval request in the ticket's thread, as it is now."""
    return [m for m in slack.thread(channel, ticket["ts"]) if "🛂" in m.get("text", "")][-1]


def buttons(msg: dict) -> dict[str, str]:
    return {e["action_id"]: e.get("value", "") for b in msg.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]}


def decide(ctx, slack, ticket: dict, decision: str, user: str, reason: str = "", at: datetime | None = None,
           channel: str = "C0CARE") -> str:
    """A lead clicks Approve (or submits the Reject modal): the approval_decision job."""
    key = buttons(request(slack, ticket, channel))["reply_approve"]

    def tell(text: str) -> None:  # the clicker, privately (jobs._teller without a response_url)
        ctx.slack.ephemeral(channel, user, text)

    return approval.decide(ctx, decision, key, user, reason, at or now(), tell)


def thread(slack, ticket: dict, channel: str = "C0CARE") -> list[str]:
    return [flat(m) for m in slack.thread(channel, ticket["ts"])[1:]]


def state(slack, ticket: dict, channel: str = "C0CARE") -> str:
    return flat(next(m for m in slack.messages(channel) if m["ts"] == ticket["ts"]))


def private_to(slack, user: str) -> list[str]:
    return [e.get("text", "") for e in slack.ephemerals if e.get("user") == user]


def on_x(x) -> list[str]:
    return [p["text"] for p in x.posted() if not p["deleted"]]


# -- asking ----------------------------------------------------------------------------------------------------

def test_a_reply_in_an_approval_department_waits_for_a_lead(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    assert write(ctx, slack, ticket, "혜택을 안내해 드릴게요")[0] == "awaiting-approval"
    asked = request(slack, ticket)
    assert "<@U0LEAD>" in asked["text"] and "<@U0STAFF1>" in asked["text"] and "혜택을 안내해 드릴게요" in asked["text"]
    assert set(buttons(asked)) == {"reply_approve", "reply_reject"}
    assert "🛂 awaiting_approval" in state(slack, ticket)
    assert on_x(x) == []


def test_a_reply_that_x_would_refuse_is_not_put_to_a_lead(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    assert write(ctx, slack, ticket, "가" * 141)[0] == "refused"  # 282 weighted: Hangul counts 2
    assert any("⚠️" in m and "280" in m for m in thread(slack, ticket))
    assert not any("🛂" in m for m in thread(slack, ticket))


def test_a_reply_from_outside_the_channel_is_not_put_to_a_lead(ctx, slack, x):
    slack.set_members("C0CARE", ["U0STAFF1", "U0LEAD"])  # care lists no staff: its channel's members answer
    ticket = ticket_message(ctx, slack, x)
    assert write(ctx, slack, ticket, "제가 답할게요", user="U0OUTSIDER")[0] == "not-staff"
    assert not any("🛂" in m for m in thread(slack, ticket))


# -- deciding --------------------------------------------------------------------------------------------------

def test_a_lead_approves_and_the_reply_goes_to_x_at_once(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    write(ctx, slack, ticket, "혜택을 안내해 드릴게요")
    assert decide(ctx, slack, ticket, "approve", "U0LEAD") == "sent"
    assert on_x(x) == ["혜택을 안내해 드릴게요"]
    decided = request(slack, ticket)
    assert buttons(decided) == {} and "<@U0LEAD>" in flat(decided) and "✅" in flat(decided)
    notes = [m for m in thread(slack, ticket) if m.startswith("✅")]
    assert len(notes) == 1 and x.posted()[0]["id"] in notes[0], "one ✅ note linking the tweet"
    assert "✅ answered" in state(slack, ticket)


def test_someone_who_is_not_a_lead_cannot_approve_and_is_told_who_can(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    write(ctx, slack, ticket, "혜택을 안내해 드릴게요")
    assert decide(ctx, slack, ticket, "approve", "U0STAFF2") == "not-approver"
    assert any("🔒" in m and "<@U0LEAD>" in m for m in private_to(slack, "U0STAFF2"))
    assert on_x(x) == [] and set(buttons(request(slack, ticket))) == {"reply_approve", "reply_reject"}
    assert decide(ctx, slack, ticket, "approve", "U0STAFF1") == "not-approver", "nor may its author"


def test_a_lead_rejects_with_a_reason_and_the_author_sees_it(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    write(ctx, slack, ticket, "위약금은 면제해 드립니다")
    assert decide(ctx, slack, ticket, "reject", "U0LEAD", "면제는 팀장 승인이 필요합니다") == "rejected"
    (told,) = [m for m in thread(slack, ticket) if m.startswith("↩️")]
    assert "<@U0STAFF1>" in told and "<@U0LEAD>" in told and "면제는 팀장 승인이 필요합니다" in told
    closed = request(slack, ticket)
    assert buttons(closed) == {} and "↩️" in flat(closed)
    assert on_x(x) == []
    assert "🟡 open" in state(slack, ticket), "waiting for an answer again"


def test_after_a_rejection_a_new_reply_goes_to_the_lead_again(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    write(ctx, slack, ticket, "위약금은 면제해 드립니다")
    decide(ctx, slack, ticket, "reject", "U0LEAD", "면제 불가")
    assert write(ctx, slack, ticket, "위약금 안내를 다시 드립니다")[0] == "awaiting-approval"
    assert decide(ctx, slack, ticket, "approve", "U0LEAD") == "sent"
    assert on_x(x) == ["위약금 안내를 다시 드립니다"]


def test_only_the_first_decision_counts(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    write(ctx, slack, ticket, "혜택을 안내해 드릴게요")
    key = buttons(request(slack, ticket))["reply_approve"]
    assert decide(ctx, slack, ticket, "approve", "U0LEAD") == "sent"
    told: list[str] = []
    assert approval.decide(ctx, "approve", key, "U0LEAD", "", now(), told.append) == "already-decided"
    assert approval.decide(ctx, "reject", key, "U0LEAD", "늦은 반려", now(), told.append) == "already-decided"
    assert len(told) == 2 and all(m.startswith("ℹ️") for m in told)
    assert on_x(x) == ["혜택을 안내해 드릴게요"]
    assert not any(m.startswith("↩️") for m in thread(slack, ticket))


# -- the author changes their mind ------------------------------------------------------------------------

def test_an_edit_while_waiting_shows_on_the_request_and_the_lead_approves_the_new_text(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    _, ts = write(ctx, slack, ticket, "위약금은 없습니다")
    slack.edit_message("C0CARE", ts, "위약금은 면제해 드립니다")
    assert relay.on_edit(ctx, "C0CARE", ticket["ts"], ts, "U0STAFF1", "위약금은 면제해 드립니다", now()) == "edited"
    shown = flat(request(slack, ticket))
    assert "위약금은 면제해 드립니다" in shown and "✏️" in shown
    assert decide(ctx, slack, ticket, "approve", "U0LEAD") == "sent"
    assert on_x(x) == ["위약금은 면제해 드립니다"]


def test_deleting_a_waiting_reply_cancels_its_request(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    _, ts = write(ctx, slack, ticket, "혜택을 안내해 드릴게요")
    key = buttons(request(slack, ticket))["reply_approve"]
    slack.delete_message("C0CARE", ts)
    assert relay.on_delete(ctx, "C0CARE", ticket["ts"], ts, now()) == "cancelled"
    cancelled = request(slack, ticket)
    assert buttons(cancelled) == {} and "🚫" in flat(cancelled)
    assert approval.decide(ctx, "approve", key, "U0LEAD", "", now(), lambda _: None) == "already-decided"
    assert on_x(x) == []
    assert "🟡 open" in state(slack, ticket)


# -- who approves, and when the clock stops ---------------------------------------------------------------

def test_without_leads_the_operators_approve(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x, "환불 요청합니다", "refund_me", "C0REFUND")
    write(ctx, slack, ticket, "환불을 진행하겠습니다", channel="C0REFUND")
    assert "<@U0OPS1>" in request(slack, ticket, "C0REFUND")["text"]
    assert decide(ctx, slack, ticket, "approve", "U0LEAD", channel="C0REFUND") == "not-approver"
    assert decide(ctx, slack, ticket, "approve", "U0OPS1", channel="C0REFUND") == "sent"
    assert on_x(x) == ["환불을 진행하겠습니다"]


def test_the_reject_modal_opens_only_for_someone_who_may_decide(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    write(ctx, slack, ticket, "혜택을 안내해 드릴게요")
    key = buttons(request(slack, ticket))["reply_reject"]
    assert approval.may_decide(ctx, key, "U0LEAD")
    assert not approval.may_decide(ctx, key, "U0STAFF1")
    assert not approval.may_decide(ctx, "C0CARE:1.000000", "U0LEAD"), "no such reply"


def test_the_first_response_is_the_moment_the_approved_reply_reaches_x(ctx, slack, x):
    ticket = ticket_message(ctx, slack, x)
    written = now()
    write(ctx, slack, ticket, "혜택을 안내해 드릴게요", at=written)
    approved = written + timedelta(hours=2)
    decide(ctx, slack, ticket, "approve", "U0LEAD", at=approved)
    tweet_id = x.posted()[0]["in_reply_to_tweet_id"]
    answered = ctx.store.ticket(tweet_id).first_response_at
    assert answered is not None and answered >= approved - timedelta(seconds=1), "not when it was written"


def test_a_routing_wide_approve_mode_holds_every_departments_replies(redis_url, slack, x):
    slack.events_url = None
    ctx = make_context(redis_url, slack, x, BASE.replace('note_prefix: "//"', 'note_prefix: "//"\n  mode: approve'))
    ticket = ticket_message(ctx, slack, x, "와이브로 신호 문의", "signal", "C0WIBRO")
    assert write(ctx, slack, ticket, "기지국을 확인했습니다", channel="C0WIBRO")[0] == "awaiting-approval"
    assert "<@U0LEAD>" in request(slack, ticket, "C0WIBRO")["text"]
    assert on_x(x) == []
