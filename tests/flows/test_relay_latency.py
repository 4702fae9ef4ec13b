"""The relay's first step does not wait behind slow calls (issue 17), and a notice deleted while it was being
posted does not stay "pending". In-process on the real flows, a real Redis and the stand-ins."""

from __future__ import annotations

from bot.adapters.store.members import MEMBER_TTL_S
from bot.flows import relay
from bot.messages import t
from tests.flows.test_relay import now, replies_to, reply, thread_texts, ticket_for
from tests.harness import make_context

ROUTING = open("tests/data/routing.yaml", encoding="utf-8").read()


def _members_asked(slack) -> int:
    return sum(1 for method, _ in slack.calls if method == "conversations.members")


def test_a_staff_members_second_reply_does_not_ask_slack_who_is_in_the_channel_again(redis_url, slack, x):
    """#wibro has no staff list: anyone in the channel may answer, which Slack is asked once a minute at most."""
    ctx = make_context(redis_url, slack, x)
    slack.set_members("C0WIBRO", ["U0WIBRO1"])
    first, second = ticket_for(ctx, x, "와이브로 문의", "a"), ticket_for(ctx, x, "와이브로 안돼요", "b")
    assert reply(ctx, first, "확인해 드리겠습니다", user="U0WIBRO1")[0] == "sent"
    asked = _members_asked(slack)
    assert asked >= 1
    assert reply(ctx, second, "지금 점검 중입니다", user="U0WIBRO1")[0] == "sent"
    assert _members_asked(slack) == asked, "the second reply waited on conversations.members again"
    assert replies_to(x, first.tweet_id) == ["확인해 드리겠습니다"]
    assert replies_to(x, second.tweet_id) == ["지금 점검 중입니다"]
    assert int(ctx.redis.ttl("esc:member:C0WIBRO:U0WIBRO1")) <= MEMBER_TTL_S


def test_someone_not_in_the_channel_is_asked_about_every_time(redis_url, slack, x):
    """A "no" is not remembered: someone invited a moment later may answer at once."""
    ctx = make_context(redis_url, slack, x)
    slack.set_members("C0WIBRO", ["U0WIBRO1"])
    ticket = ticket_for(ctx, x, "와이브로 문의", "a")
    assert reply(ctx, ticket, "답변", user="U0OUTSIDE")[0] == "not-staff"
    slack.set_members("C0WIBRO", ["U0WIBRO1", "U0OUTSIDE"])
    assert reply(ctx, ticket, "답변입니다", user="U0OUTSIDE")[0] == "sent"


def test_a_reply_deleted_while_its_pending_notice_is_being_posted_leaves_no_pending_notice(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, ROUTING.replace("hold: 0s", "hold: 15s"))
    ticket = ticket_for(ctx, x)
    other = make_context(redis_url, slack, x, ROUTING.replace("hold: 0s", "hold: 15s"))  # another worker
    pending = t(ctx.locale, "pending", seconds=15)
    post = ctx.slack.post
    deleted: list[str] = []

    def post_then_delete(channel, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        ts = post(channel, text, *args, **kwargs)
        if text == pending:  # Slack has the notice; the author deletes the reply before the bot notes its ts
            relay_ts = next(iter(ctx.redis.scan_iter("esc:relay:*"))).rsplit(":", 1)[-1]
            deleted.append(relay.on_delete(other, ticket.channel, ticket.message_ts, relay_ts, now()))
        return ts

    ctx.slack.post = post_then_delete
    outcome, _ = reply(ctx, ticket, "곧 보내드릴 답변")
    assert deleted == ["cancelled"] and outcome == "cancelled"
    texts = thread_texts(slack, ticket)
    assert pending not in texts, "the deleted reply's notice still says it will be sent"
    assert t(ctx.locale, "cancelled") in texts
    assert relay.recover(ctx, now()) == 0 and replies_to(x, ticket.tweet_id) == []
