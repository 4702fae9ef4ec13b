"""X at its real limits (issue 13), in-process: the real flows, a real Redis, the stand-ins.

The summoned rule: with self-serve access X takes a reply only to a post that @mentions or quotes the account.
A ticket whose tweet does not says so when it is made, and a staff reply there is refused at once, not after a
403; enterprise access turns the check off.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from bot.flows import escalate, relay
from bot.messages import t
from tests.harness import make_context

ROUTING = open("tests/data/routing.yaml", encoding="utf-8").read()
ENTERPRISE = ROUTING + "\nx: {access: enterprise}\n"
ANSWER = "전화로 안내해 드리겠습니다"


@pytest.fixture
def ctx(redis_url, slack, x):
    return make_context(redis_url, slack, x)


def now() -> datetime:
    return datetime.now(UTC)


def escalated(ctx, tweet_id: str):
    said = escalate.run(ctx, escalate.Request(tweet_id, "iphone", False, ""), "U0OPS1", now())
    ticket = ctx.store.ticket(tweet_id)
    assert ticket is not None and ticket.message_ts, said
    return ticket


def message_text(slack, ticket) -> str:
    msg = slack.thread(ticket.channel, ticket.message_ts)[0]
    return str(msg.get("text", "")) + str(msg.get("blocks", ""))


def thread_texts(slack, ticket) -> list[str]:
    return [m.get("text", "") for m in slack.thread(ticket.channel, ticket.message_ts)[1:]]


_seq = iter(range(101, 10**6))


def reply(ctx, ticket, text: str = ANSWER) -> str:
    ts = f"{int(now().timestamp())}.{next(_seq):06d}"
    return relay.on_reply(ctx, ticket.channel, ticket.message_ts, ts, "U0STAFF1", text, now())


def tweets_sent(x) -> list[dict]:
    return [r for r in x.requests if (r["method"], r["path"]) == ("POST", "/2/tweets")]


def test_an_escalated_tweet_without_a_mention_is_flagged_and_its_reply_refused_up_front(ctx, slack, x):
    tweet_id = x.add_post("아이폰 화면이 깨졌어요", username="quiet")
    ticket = escalated(ctx, tweet_id)
    assert t("ko", "x_not_summoned") in message_text(slack, ticket), "the ticket says so when it is made"

    assert reply(ctx, ticket) == "not-summoned"
    assert thread_texts(slack, ticket)[-1] == t("ko", "x_not_summoned_reply", username="quiet")
    assert tweets_sent(x) == [], "refused up front: X never saw the reply (no 403 to learn from)"
    assert x.posted() == []
    assert ctx.store.ticket(tweet_id).state.value == "open"


def test_a_tweet_quoting_the_accounts_post_summons_it_and_the_reply_goes(ctx, slack, x):
    with x._lock:
        own = x.timeline.add_tweet("오늘 점검 안내입니다", x.account_id).id
    tweet_id = x.add_post("아이폰 점검 언제 끝나요?", username="quoter", quote_of=own)
    ticket = escalated(ctx, tweet_id)
    assert t("ko", "x_not_summoned") not in message_text(slack, ticket)
    assert reply(ctx, ticket) == "sent"
    assert [p["text"] for p in x.posted() if p["in_reply_to_tweet_id"] == tweet_id] == [ANSWER]


def test_enterprise_access_turns_the_check_off(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, routing=ENTERPRISE)
    x.access = "enterprise"
    tweet_id = x.add_post("아이폰 배터리 문의", username="quiet")
    ticket = escalated(ctx, tweet_id)
    assert t("ko", "x_not_summoned") not in message_text(slack, ticket)
    assert reply(ctx, ticket) == "sent"
    assert [p["text"] for p in x.posted() if p["in_reply_to_tweet_id"] == tweet_id] == [ANSWER]


def test_the_x_stand_in_refuses_a_reply_nobody_summoned_as_x_does(x):
    quiet = x.add_post("아이폰 문의", username="quiet")
    mention = x.add_mention("아이폰 문의", username="loud")
    api = x.url

    def post(reply_to: str, text: str) -> requests.Response:
        return requests.post(api + "/2/tweets", json={"text": text, "reply": {"in_reply_to_tweet_id": reply_to}},
                             headers={"authorization": "OAuth oauth_consumer_key=\"k\""}, timeout=5)

    refused = post(quiet, "답변")
    assert refused.status_code == 403
    body = refused.json()
    assert body["status"] == 403 and body["title"] == "Forbidden" and "not been mentioned" in body["detail"]
    assert post(mention, "답변").status_code == 201
    x.access = "enterprise"
    assert post(quiet, "답변 2").status_code == 201


# -- the posting budget ------------------------------------------------------------------------------------

TIGHT = ROUTING + "\nx: {post_limits: [{per: 60s, max: 2}], reserve: 1}\n"


def mention_ticket(ctx, x, username: str):
    from bot.flows import ingest
    tweet_id = x.add_mention(f"아이폰 문의 {username}", username=username)
    ingest.poll(ctx, now())
    ingest.flush_outbox(ctx, now())
    return ctx.store.ticket(tweet_id)


def test_a_ticket_reply_held_by_the_budget_says_when_it_goes_and_keeps_its_order(redis_url, slack, x):
    from datetime import timedelta

    from bot.flows import relay_send

    ctx = make_context(redis_url, slack, x, routing=TIGHT)
    a, b, c = (mention_ticket(ctx, x, u) for u in ("ann", "bob", "cho"))
    assert reply(ctx, a, "첫 답변") == "sent"
    assert reply(ctx, b, "둘째 답변") == "sent"

    t0 = now()
    third_ts, fourth_ts = f"{int(t0.timestamp())}.000201", f"{int(t0.timestamp())}.000202"
    assert relay.on_reply(ctx, c.channel, c.message_ts, third_ts, "U0STAFF1", "셋째 답변", t0) == "held"
    note = thread_texts(slack, c)[-1]
    assert note.startswith("⏳") and ":" in note, "the thread hears when it will go"
    assert relay.on_reply(ctx, c.channel, c.message_ts, fourth_ts, "U0STAFF1", "넷째 답변", t0) == "held"
    assert [p["text"] for p in x.posted() if p["in_reply_to_tweet_id"] == c.tweet_id] == []

    later = t0 + timedelta(seconds=61)  # both windows' posts are past: the budget frees two slots
    # The fourth's timer fires first: it still waits behind the third, written before it.
    assert relay_send.send(ctx, c.channel, fourth_ts, later) == "held"
    assert relay_send.send(ctx, c.channel, third_ts, later) == "sent"
    assert relay_send.send(ctx, c.channel, fourth_ts, later + timedelta(seconds=1)) == "sent"
    assert [p["text"] for p in x.posted() if p["in_reply_to_tweet_id"] == c.tweet_id] == ["셋째 답변", "넷째 답변"]


# -- usage caps, and X usage where people look -------------------------------------------------------------

def test_a_usage_cap_pauses_polling_says_so_once_and_resumes_by_itself(ctx, slack, x):
    from datetime import timedelta

    from bot.flows import ingest

    t0 = now()
    x.cap_usage(True, reset_day=9)
    waiting = x.add_mention("아이폰 문의 중에 한도", username="capped")
    assert ingest.poll(ctx, t0) == 0
    assert ingest.poll(ctx, t0 + timedelta(seconds=901)) == 0  # still capped at the next try
    notices = [m["text"] for m in slack.messages("C0TRIAGE")]
    assert len(notices) == 1 and notices[0].startswith("⛔") and "9일 뒤" in notices[0], notices
    assert ctx.store.ticket(waiting) is None, "nothing read while capped"

    x.cap_usage(False)
    assert ingest.poll(ctx, t0 + timedelta(seconds=1000)) == 0, "paused: the 15-minute retry is not due yet"
    assert ingest.poll(ctx, t0 + timedelta(seconds=1802)) == 1, "resumed by itself"
    ingest.flush_outbox(ctx, t0 + timedelta(seconds=1802))
    assert ctx.store.ticket(waiting).message_ts, "the waiting mention reached Slack"
    texts = [m["text"] for m in slack.messages("C0TRIAGE")]
    assert len(texts) == 2 and texts[1] == t("ko", "x_usage_lifted")


def test_app_home_and_the_daily_summary_show_x_usage_and_the_budget_left(ctx, slack, x):
    from bot.flows import home, ingest, report, summary

    ticket = mention_ticket(ctx, x, "reader")
    assert reply(ctx, ticket) == "sent"
    home.publish_home(ctx, "U0OPS1", now())
    view = str(slack.views[-1]["view"])
    assert "X 읽기: 오늘 1건, 이번 주기 1 / 3,000,000건" in view, view
    assert "X 게시 한도 남음: 99/100 (15m), 299/300 (3h)" in view
    window = report.Window(*report.day_window(now(), ctx.routing.timezone))
    summary.post_summary(ctx, report.load(ctx, window, now()), now())
    posted = str(slack.messages("C0MANAGERS")[-1]["blocks"])
    assert "X 읽기" in posted and "99/100 (15m)" in posted
    assert ingest  # the poll above read one post: that is the day's usage
