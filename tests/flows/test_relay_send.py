"""Sending a staff reply to X (relay_send) and who may answer: X failing, workers dying mid-send.

In-process on the real flows (real slack_sdk and tweepy clients, the stand-ins, a real Redis) with an explicit
`now`, so back-off and retry timing are checked without sleeping; crashes are simulated at their worst moment.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.store import Relay
from bot.flows import relay
from tests.flows.faults import ACCOUNT, now, poll_and_post, reply, ticket_for
from tests.harness import make_context


@pytest.fixture
def ctx(redis_url, slack, x):
    return make_context(redis_url, slack, x)


def test_x_5xx_on_a_reply_retries_with_back_off_and_tweets_once(ctx, slack, x):
    ticket = ticket_for(ctx, slack, x)
    x.fail_next("POST", "/2/tweets", 503, count=1)
    t0 = now()
    outcome, ts = reply(ctx, ticket, at=t0)
    assert outcome == "retrying"
    pending = ctx.store.relay(ticket.channel, ts)
    assert pending.state == "pending" and pending.send_at == pytest.approx(t0.timestamp() + 5)
    assert relay.send(ctx, ticket.channel, ts, t0 + timedelta(seconds=5)) == "sent"
    assert [t["text"] for t in x.posted()] == ["답변드립니다"]


def test_x_taking_a_reply_but_answering_5xx_counts_the_duplicate_as_sent(ctx, slack, x):
    ticket = ticket_for(ctx, slack, x)
    x.fail_next("POST", "/2/tweets", 503, count=1, after=True)  # X posted it, the answer was lost
    t0 = now()
    assert reply(ctx, ticket, at=t0)[0] == "retrying"
    _, ts = ctx.store.due_relays(t0.timestamp() + 10)[0]
    assert relay.send(ctx, ticket.channel, ts, t0 + timedelta(seconds=5)) == "sent"
    assert len(x.posted()) == 1, "a second tweet"
    thread = slack.thread(ticket.channel, ticket.message_ts)
    assert any("✅" in m["text"] for m in thread)
    assert ctx.store.ticket(ticket.tweet_id).state.value == "answered"


def test_x_rate_limit_on_a_reply_waits_for_the_reset(ctx, slack, x):
    ticket = ticket_for(ctx, slack, x)
    t0 = now()
    reset = int(t0.timestamp()) + 300
    x.fail_next("POST", "/2/tweets", 429, count=1, headers={"x-rate-limit-reset": str(reset)})
    outcome, ts = reply(ctx, ticket, at=t0)
    assert outcome == "retrying"
    assert ctx.store.relay(ticket.channel, ts).send_at >= reset
    assert x.posted() == []


def test_x_forbidding_a_reply_tells_the_thread_and_the_operators_once(ctx, slack, x):
    ticket = ticket_for(ctx, slack, x)
    x.fail_next("POST", "/2/tweets", 403, count=1,
                body={"title": "Forbidden", "detail": "You are not permitted to perform this action.",
                      "type": "about:blank", "status": 403})
    outcome, ts = reply(ctx, ticket)
    assert outcome == "failed"
    assert any("❌" in m["text"] for m in slack.thread(ticket.channel, ticket.message_ts))
    assert len([m for m in slack.messages("C0TRIAGE") if "❌" in m["text"]]) == 1
    assert relay.send(ctx, ticket.channel, ts, now()) == "not-pending"
    assert x.posted() == []


def test_a_worker_dying_after_x_took_the_reply_sends_nothing_twice(ctx, slack, x):
    ticket = ticket_for(ctx, slack, x)
    t0 = now()
    x_reply = ctx.x.reply("답변드립니다", in_reply_to=ticket.tweet_id)  # X took it; then the worker died
    stale = Relay(ticket.channel, "1700000000.000001", ticket.tweet_id, "U0STAFF1", "답변드립니다",
                  state="sending", send_at=t0.timestamp() - 300)
    ctx.store.add_relay(stale)
    assert relay.recover(ctx, t0) == 1
    assert [t["id"] for t in x.posted()] == [x_reply]
    assert ctx.store.relay(ticket.channel, stale.ts).state == "sent"


def test_a_worker_dying_before_x_took_the_reply_sends_it_after_restart(ctx, slack, x):
    ticket = ticket_for(ctx, slack, x)
    t0 = now()
    lost = Relay(ticket.channel, "1700000000.000002", ticket.tweet_id, "U0STAFF1", "늦은 답변",
                 state="pending", send_at=t0.timestamp() - 120)
    ctx.store.add_relay(lost)
    assert relay.recover(ctx, t0) == 1
    assert [t["text"] for t in x.posted()] == ["늦은 답변"]
    assert relay.recover(ctx, t0 + timedelta(minutes=5)) == 0


def test_only_ticket_threads_reach_x(ctx, slack, x):
    ticket = ticket_for(ctx, slack, x)
    t0 = now()
    other = ctx.slack.post("C0IPHONE", "그냥 대화")  # a thread that is not a ticket's
    assert relay.on_reply(ctx, "C0IPHONE", other, "1700000001.000001", "U0STAFF1", "트윗해줘", t0) == "not-a-ticket"
    assert relay.on_reply(ctx, "C0WIBRO", ticket.message_ts, "1700000001.000002", "U0STAFF1", "채널이 다름",
                          t0) == "not-a-ticket"
    from bot import jobs

    top_level = {"type": "message", "channel": "C0IPHONE", "user": "U0STAFF1", "text": "top", "ts": "1.5"}
    assert jobs.handle_message(top_level) == "ignored"
    assert x.posted() == []


def test_without_a_staff_list_only_channel_members_can_answer(ctx, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 와이브로 문의", username="minsu")  # wibro has no staff list
    poll_and_post(ctx, now())
    ticket = ctx.store.ticket(tweet_id)
    slack.set_members("C0WIBRO", ["U0MEMBER"])
    t0 = now()
    assert relay.on_reply(ctx, "C0WIBRO", ticket.message_ts, "1700000002.000001", "U0STRANGER", "답", t0) \
        == "not-staff"
    assert relay.on_reply(ctx, "C0WIBRO", ticket.message_ts, "1700000002.000002", "U0MEMBER", "답변입니다", t0) \
        == "sent"
    assert [t["text"] for t in x.posted()] == ["답변입니다"]
