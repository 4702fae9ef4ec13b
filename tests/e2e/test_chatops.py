"""Chatops end to end: /escalate, the ticket buttons, reply approval, /sla and the App Home.

Signed slash commands, block_actions and view_submission payloads go through /slack/events of the real
Procfile processes; what people see is read back from the Slack and X stand-ins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.messages import t
from sandbox.slack_events import VERIFICATION_TOKEN
from sandbox.slack_workspace import APP_ID, TEAM_ID
from tests.e2e.test_spine import ACCOUNT, replies_on_x, ticket_in
from tests.harness import ROOT, wait_for

pytestmark = pytest.mark.slow

ROUTING = """
timezone: Asia/Seoul
triage: {channel: C0TRIAGE}
managers: {channel: C0MANAGERS}
relay: {hold: 0s, note_prefix: "//"}
sla:
  standard: {first_response: 24h, remind: ["50%", "90%"]}
  fast_track: {first_response: 3h, remind: ["1h", "2h"]}
  quick: {first_response: 1h, remind: ["5s"]}
fast_track: {keywords: [개통, 장애], sla: fast_track}
operators: [U0OPS1]
departments:
  - {id: iphone, name: 아이폰 고객센터, channel: C0IPHONE, keywords: [아이폰], sla: quick, leads: [U0LEAD],
     staff: [U0STAFF1, U0STAFF2]}
  - {id: wibro, name: WiBro 고객센터, channel: C0WIBRO, keywords: [와이브로], sla: standard, leads: [U0LEAD]}
  - {id: care, name: 해지 방어팀, channel: C0CARE, keywords: [해지], sla: standard, leads: [U0LEAD],
     relay: {mode: approve}}
"""
ACK_S = 3.0


def flat(msg: dict) -> str:
    """Everything a person reads in a message: its text, and the text in its blocks and buttons."""
    def texts(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["text"]] if isinstance(node.get("text"), str) else []
            rest = [v for k, v in node.items() if k != "text" or not isinstance(v, str)]
            return own + texts(rest)
        if isinstance(node, list):
            return [s for item in node for s in texts(item)]
        return []
    return "\n".join([msg.get("text", ""), *texts(msg.get("blocks") or [])])


def customer_tweet(x, text: str, username: str) -> str:
    """A tweet that does not mention the account (so only /escalate makes it a ticket); its id."""
    with x._lock:
        user = x.timeline.add_user(username)
        return x.timeline.add_tweet(text, user.id).id


def answers(slack, delivery) -> list[str]:
    """What the app later said through this request's response_url."""
    url = delivery.payload()["response_url"]
    number = int(url.rsplit("/", 1)[1])
    return [r["body"].get("text", "") for r in list(slack.responses) if r["n"] == number]


def answer(slack, delivery, timeout: float = 15) -> str:
    return wait_for(lambda: answers(slack, delivery), timeout, message="the answer via response_url")[-1]


def acked(delivery) -> dict[str, Any] | None:
    assert delivery.status == 200, delivery.response
    assert delivery.elapsed < ACK_S, f"Slack needs the ack within 3 s; took {delivery.elapsed:.2f}s"
    return delivery.json()


def link(channel: str, ts: str) -> str:
    return f"https://sandbox.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def current(slack, channel: str, ts: str) -> dict:
    """A message as it is now (top level or in a thread)."""
    return next(m for top in slack.messages(channel) for m in [top, *top["replies"]] if m["ts"] == ts)


def action_ids(msg: dict) -> list[str]:
    rows = [b for b in msg.get("blocks") or [] if b["type"] == "actions"]
    return [e.get("action_id") for b in rows for e in b["elements"]]


def thread_has(slack, channel: str, ts: str, *needles: str, timeout: float = 10) -> dict:
    return wait_for(lambda: next((m for m in slack.thread(channel, ts)[1:]
                                  if all(n in flat(m) for n in needles)), None), timeout,
                    message=f"a thread message with {needles}")


def shows(slack, channel: str, ts: str, *needles: str, timeout: float = 10) -> dict:
    """Wait until the message (updated in place) shows every needle."""
    def showing() -> dict | None:
        msg = current(slack, channel, ts)
        return msg if all(n in flat(msg) for n in needles) else None
    return wait_for(showing, timeout, message=f"the message showing {needles}")


def ephemeral_to(slack, user: str, needle: str, timeout: float = 10) -> dict:
    return wait_for(lambda: next((e for e in list(slack.ephemerals)
                                  if e.get("user") == user and needle in e.get("text", "")), None),
                    timeout, message=f"a private answer to {user} with {needle!r}")


# -- /escalate --------------------------------------------------------------------------------------------

def test_escalate_acks_at_once_and_posts_the_ticket_with_its_note_once(start_bot, slack, x):
    start_bot(ROUTING)
    tweet_id = customer_tweet(x, "요금이 두 번 나갔어요 & 환불 부탁", "billing")
    sent = slack.slash_command("/escalate", f"<https://x.com/billing/status/{tweet_id}> wibro fast VIP 고객",
                               user="U0OPS1", channel="C0OPS")
    assert acked(sent) == {"response_type": "ephemeral",
                           "text": t("ko", "escalate_accepted", tweet_id=tweet_id)}
    done = answer(slack, sent)
    msg = ticket_in(slack, "C0WIBRO", "billing")
    assert done == t("ko", "escalate_done", department="WiBro 고객센터", link=link("C0WIBRO", msg["ts"]))
    for expected in ("요금이 두 번 나갔어요 &amp; 환불 부탁", "fast_track", "VIP 고객", "🟡 open"):
        assert expected in flat(msg), expected
    assert action_ids(msg) == ["ticket_claim", "ticket_reassign", "ticket_resolve"]
    note = thread_has(slack, "C0WIBRO", msg["ts"], "🚩", "<@U0OPS1>")
    assert "VIP 고객" in note["text"]

    again = slack.slash_command("/escalate", tweet_id, user="U0OPS1", channel="C0OPS")
    acked(again)
    assert answer(slack, again) == t("ko", "escalate_exists", link=link("C0WIBRO", msg["ts"]))
    assert len(slack.messages("C0WIBRO")) == 1 and slack.messages("C0TRIAGE") == []


def test_operators_given_as_a_user_group_are_asked_of_slack(start_bot, slack, x):
    start_bot(ROUTING.replace("operators: [U0OPS1]", "operators: [U0OPS1, S0OPSTEAM]"))
    slack.set_usergroup("S0OPSTEAM", ["U0NIGHT"])
    tweet_id = customer_tweet(x, "와이브로 야간 장애", "night")

    member = slack.slash_command("/escalate", f"{tweet_id} wibro", user="U0NIGHT")
    acked(member)
    assert answer(slack, member).startswith("✅")
    ticket_in(slack, "C0WIBRO", "night")
    assert ("usergroups.users.list", {"usergroup": "S0OPSTEAM"}) in slack.calls

    other = slack.slash_command("/escalate", tweet_id, user="U0STAFF1")
    acked(other)
    assert answer(slack, other) == t("ko", "escalate_operators_only", who="<!subteam^S0OPSTEAM>, <@U0OPS1>")
    assert len(slack.messages("C0WIBRO")) == 1


def test_escalate_refusals_each_say_what_to_do_and_make_nothing(start_bot, slack, x):
    bot = start_bot(ROUTING)
    tweet_id = customer_tweet(x, "와이브로 끊겨요", "flaky")

    outsider = acked(slack.slash_command("/escalate", tweet_id, user="U0STAFF1"))
    assert outsider == {"response_type": "ephemeral",
                        "text": t("ko", "escalate_operators_only", who="<@U0OPS1>")}
    empty = acked(slack.slash_command("/escalate", "", user="U0OPS1"))
    assert empty["text"] == t("ko", "escalate_usage")
    not_tweet = acked(slack.slash_command("/escalate", "https://example.com/1 wibro", user="U0OPS1"))
    assert "`https://example.com/1`" in not_tweet["text"] and t("ko", "escalate_usage") in not_tweet["text"]
    unknown = acked(slack.slash_command("/escalate", f"{tweet_id} lte", user="U0OPS1"))
    assert unknown["text"] == t("ko", "unknown_department", name="lte", known="`iphone`, `wibro`, `care`")

    x.fail_next("GET", "/2/tweets/", 503)
    down = slack.slash_command("/escalate", tweet_id, user="U0OPS1")
    acked(down)
    assert answer(slack, down).startswith("❌") and "503" in answers(slack, down)[-1]

    with x._lock:
        gone_id = x.timeline.add_tweet("곧 지울 트윗", x.timeline.add_user("gone").id).id
    x.delete_tweet(gone_id)
    gone = slack.slash_command("/escalate", gone_id, user="U0OPS1")
    acked(gone)
    assert answer(slack, gone) == t("ko", "escalate_not_found", tweet_id=gone_id)

    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert all(slack.messages(c) == [] for c in ("C0WIBRO", "C0TRIAGE", "C0IPHONE"))
    # nothing was half-made: once X is back, the same tweet escalates normally
    retry = slack.slash_command("/escalate", tweet_id, user="U0OPS1")
    assert answer(slack, retry).startswith("✅")
    ticket_in(slack, "C0WIBRO", "flaky")


# -- ticket buttons -----------------------------------------------------------------------------------------

def test_claim_shows_who_and_reminders_mention_them_then_resolve_closes_it(start_bot, slack, x):
    start_bot(ROUTING)
    x.add_mention(f"@{ACCOUNT} 아이폰 배송 문의", username="waiter")  # iphone: policy quick, reminder at 5 s
    msg = ticket_in(slack, "C0IPHONE", "waiter")

    refused = slack.block_action("U0OUTSIDER", "C0IPHONE", msg["ts"], "ticket_claim")
    assert acked(refused) is None
    ephemeral_to(slack, "U0OUTSIDER", "🔒")

    clicked = slack.block_action("U0STAFF1", "C0IPHONE", msg["ts"], "ticket_claim")
    assert acked(clicked) is None
    shows(slack, "C0IPHONE", msg["ts"], "🙋 claimed · <@U0STAFF1>")
    thread_has(slack, "C0IPHONE", msg["ts"], "🙋", "<@U0STAFF1>")
    reminder = thread_has(slack, "C0IPHONE", msg["ts"], "⏰", timeout=15)
    assert reminder["text"].startswith("⏰ <@U0STAFF1> ")

    acked(slack.block_action("U0STAFF2", "C0IPHONE", msg["ts"], "ticket_resolve"))
    closed = shows(slack, "C0IPHONE", msg["ts"], "⚪ closed")
    assert action_ids(closed) == []
    thread_has(slack, "C0IPHONE", msg["ts"], "⚪", "<@U0STAFF2>")

    summary = slack.slash_command("/sla", "iphone", user="U0LEAD")
    assert acked(summary) is None  # an empty ack: the figures follow, only for the asker
    figures = answer(slack, summary)
    assert "`iphone`" in figures and "종료 1" in figures and "답변 0" in figures and "`wibro`" not in figures


def test_reassign_moves_the_ticket_with_its_deadline_and_history(start_bot, slack, x):
    bot = start_bot(ROUTING)
    tweet_id = x.add_mention(f"@{ACCOUNT} 인터넷이 느려요", username="mover")
    old = ticket_in(slack, "C0TRIAGE", "mover")
    slack.user_message("C0TRIAGE", "// 와이브로 쪽 같아요 <@U0LEAD>", user="U0STAFF1", thread_ts=old["ts"])

    moved = slack.block_action("U0OPS1", "C0TRIAGE", old["ts"], "ticket_reassign",
                               selected_option={"text": {"type": "plain_text", "text": "WiBro 고객센터"},
                                                "value": "wibro"})
    assert acked(moved) is None
    new = ticket_in(slack, "C0WIBRO", "mover")
    due = next(f for f in flat(old).split("\n") if f.startswith(f"*{t('ko', 'due')}:*"))
    assert due in flat(new), "the deadline did not follow the ticket"
    pointer = shows(slack, "C0TRIAGE", old["ts"], "➡️", link("C0WIBRO", new["ts"]))
    assert action_ids(pointer) == []
    history = thread_has(slack, "C0WIBRO", new["ts"], "↪️", link("C0TRIAGE", old["ts"]))
    assert "staff1" in history["text"] and "와이브로 쪽 같아요" in history["text"]
    assert "<@U0LEAD>" not in history["text"], "copying the history must not ping anyone again"

    slack.user_message("C0TRIAGE", "옛 스레드에 단 답글", user="U0STAFF1", thread_ts=old["ts"])
    wait_for(lambda: [e for e in slack.ephemerals if e.get("user") == "U0STAFF1" and "↪️" in e.get("text", "")],
             10, message="the person answering in the old thread being pointed to the new one")
    slack.user_message("C0WIBRO", "와이브로 팀입니다. 확인해 드릴게요", user="U0STAFF2", thread_ts=new["ts"])
    sent = wait_for(lambda: replies_on_x(x, tweet_id), 15, message="the reply from the new thread on X")
    shows(slack, "C0WIBRO", new["ts"], "✅ answered")
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert [s["text"] for s in replies_on_x(x, tweet_id)] == [sent[0]["text"]]
    assert sent[0]["text"] == "와이브로 팀입니다. 확인해 드릴게요"


# -- reply approval -----------------------------------------------------------------------------------------

def view_submission(slack, user: str, view: dict, reason: str):
    """The signed view_submission Slack sends when a person submits a modal."""
    typed = {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}
    submitted = {**view, "state": {"values": typed}}
    payload = {"type": "view_submission", "team": {"id": TEAM_ID, "domain": "sandbox"},
               "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
               "api_app_id": APP_ID, "token": VERIFICATION_TOKEN, "trigger_id": "1.2.3", "view": submitted,
               "response_urls": [], "is_enterprise_install": False, "enterprise": None}
    body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
    return slack.deliver_raw(body, content_type="application/x-www-form-urlencoded")


def test_approval_department_holds_replies_for_a_lead(start_bot, slack, x):
    bot = start_bot(ROUTING)
    tweet_id = x.add_mention(f"@{ACCOUNT} 해지하고 싶어요", username="leaving")
    msg = ticket_in(slack, "C0CARE", "leaving")

    slack.user_message("C0CARE", "혜택을 안내해 드릴게요", user="U0STAFF1", thread_ts=msg["ts"])
    request = thread_has(slack, "C0CARE", msg["ts"], "🛂", "<@U0LEAD>", "혜택을 안내해 드릴게요")
    assert action_ids(request) == ["reply_approve", "reply_reject"]
    shows(slack, "C0CARE", msg["ts"], "🛂 awaiting_approval")

    acked(slack.block_action("U0STAFF2", "C0CARE", request["ts"], "reply_approve"))
    ephemeral_to(slack, "U0STAFF2", "🔒")
    assert replies_on_x(x, tweet_id) == []

    acked(slack.block_action("U0LEAD", "C0CARE", request["ts"], "reply_approve"))
    sent = wait_for(lambda: replies_on_x(x, tweet_id), 15, message="the approved reply on X")
    assert sent[0]["text"] == "혜택을 안내해 드릴게요"
    decided = shows(slack, "C0CARE", request["ts"], t("ko", "approval_approved", user="U0LEAD"))
    assert action_ids(decided) == []
    shows(slack, "C0CARE", msg["ts"], "✅ answered")

    second = slack.user_message("C0CARE", "위약금은 없습니다", user="U0STAFF1", thread_ts=msg["ts"])
    request2 = thread_has(slack, "C0CARE", msg["ts"], "🛂", "위약금은 없습니다")
    slack.edit_message("C0CARE", second.ts, "위약금은 면제해 드립니다")
    shows(slack, "C0CARE", request2["ts"], "위약금은 면제해 드립니다", "✏️")
    rejected = slack.block_action("U0LEAD", "C0CARE", request2["ts"], "reply_reject")
    acked(rejected)
    modal = wait_for(lambda: [v for v in slack.views if v["method"] == "views.open"], 5)[-1]["view"]
    assert modal["callback_id"] == "reply_reject_reason"
    submitted = view_submission(slack, "U0LEAD", modal, "면제는 팀장 승인이 필요합니다")
    assert submitted.status == 200 and submitted.elapsed < ACK_S and submitted.response in ("", "{}")
    told = thread_has(slack, "C0CARE", msg["ts"], "↩️", "<@U0STAFF1>", "면제는 팀장 승인이 필요합니다")
    assert "<@U0LEAD>" in told["text"]
    shows(slack, "C0CARE", request2["ts"], t("ko", "approval_rejected_note", user="U0LEAD"))
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert [s["text"] for s in replies_on_x(x, tweet_id)] == ["혜택을 안내해 드릴게요"]


# -- /sla and the App Home ----------------------------------------------------------------------------------

def test_sla_command_and_app_home_show_open_tickets_and_todays_figures(start_bot, slack, x):
    start_bot(ROUTING)
    x.add_mention(f"@{ACCOUNT} 와이브로 신호 문의", username="open1")
    x.add_mention(f"@{ACCOUNT} 아이폰 수리 문의", username="open2")
    x.add_mention(f"@{ACCOUNT} 와이브로 해피콜 거부", username="done1")
    done = ticket_in(slack, "C0WIBRO", "done1")
    first = ticket_in(slack, "C0WIBRO", "open1")
    ticket_in(slack, "C0IPHONE", "open2")
    acked(slack.block_action("U0STAFF1", "C0WIBRO", done["ts"], "ticket_resolve"))
    shows(slack, "C0WIBRO", done["ts"], "⚪ closed")

    bad = acked(slack.slash_command("/sla", "wibro month", user="U0LEAD"))
    assert bad["response_type"] == "ephemeral" and "`month`" in bad["text"] and "`wibro`" in bad["text"]
    week = slack.slash_command("/sla", "week", user="U0LEAD")
    assert acked(week) is None
    figures = answer(slack, week)
    assert "`wibro`" in figures and "`iphone`" in figures and "접수 2" in figures and "종료 1" in figures

    home = slack.deliver_event({"type": "app_home_opened", "user": "U0LEAD", "channel": "D0LEAD",
                                "tab": "home", "event_ts": f"{time.time():.6f}"})
    assert home.status == 200 and home.elapsed < ACK_S
    view = wait_for(lambda: [v for v in slack.views if v["method"] == "views.publish"
                             and v["user_id"] == "U0LEAD"], 10, message="the App Home view")[-1]["view"]
    text = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home"
    for expected in ("WiBro 고객센터* (1)", "아이폰 고객센터* (1)", "@open1", "@open2", "종료 1",
                     link("C0WIBRO", first["ts"])):
        assert expected in text, expected
    assert "@done1" not in text


def test_socket_mode_needs_the_app_token_and_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-test", ROUTING_FILE=str(ROOT / "tests" / "data" / "routing.yaml"))
    done = subprocess.run([sys.executable, "-m", "bot", "socket"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["escalator: missing environment variable SLACK_APP_TOKEN"]
