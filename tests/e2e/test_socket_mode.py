"""Socket Mode end to end: `python -m bot socket` in place of the web process, next to the worker and cron.

The socket process asks the Slack stand-in's apps.connections.open for a link with SLACK_APP_TOKEN and holds
it; while it does, what people do in Slack reaches the bot as Socket Mode envelopes over that websocket (no
HTTP, no signatures), and the bot's ack is Slack's answer. What people see is read back from the stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.messages import t
from tests.e2e.test_chatops import ROUTING, acked, answer, customer_tweet, flat, link
from tests.e2e.test_spine import ACCOUNT, replies_on_x, ticket_in
from tests.harness import Bot, wait_for

pytestmark = pytest.mark.slow

SOCKET = "python -m bot socket"


@pytest.fixture
def socket_bot(start_bot: Callable[..., Bot], slack) -> Bot:
    """worker and cron from the Procfile, and the socket process instead of web, holding its link."""
    bot = start_bot(ROUTING, None, "worker", "cron").start_command("socket", SOCKET)
    wait_for(slack.socket_mode.connected, 30, 0.05, "the socket process to hold a Socket Mode link")
    assert ("apps.connections.open", {}) in slack.calls
    return bot


def test_a_staff_reply_over_the_socket_is_acked_and_goes_to_x_once(socket_bot: Bot, slack, x) -> None:
    tweet_id = x.add_mention(f"@{ACCOUNT} 와이브로 신호가 약해요", username="minsu")
    msg = ticket_in(slack, "C0WIBRO", "minsu")
    reply = slack.user_message("C0WIBRO", "기지국 점검 중입니다 &amp; 곧 복구됩니다 <https://kt.com/help|안내> :pray:",
                               user="U0STAFF1", thread_ts=msg["ts"])
    assert (reply.delivery.transport, reply.status) == ("socket", 200), reply.delivery.response
    event_id = reply.delivery.payload()["event_id"]
    assert any(e["payload"].get("event_id") == event_id for e in slack.socket_mode.envelopes)

    sent = wait_for(lambda: replies_on_x(x, tweet_id), 15, message="the reply on X")
    assert [tweet["text"] for tweet in sent] == ["기지국 점검 중입니다 & 곧 복구됩니다 https://kt.com/help 🙏"]
    tweet_link = f"https://x.com/{ACCOUNT}/status/{sent[0]['id']}"
    wait_for(lambda: any(tweet_link in flat(m) for m in slack.thread("C0WIBRO", msg["ts"])), 10,
             message="the thread note with the tweet link")

    # Slack sends an envelope again when it missed the ack: the retry is acked and queues nothing.
    retry = slack.redeliver(reply, retry_num=1, reason="timeout")
    assert (retry.transport, retry.status) == ("socket", 200)
    wait_for(lambda: f"Slack redelivered {event_id}; already queued" in socket_bot.log("socket"), 10,
             message="the socket process to recognise the retry")
    # The only job for the reply has posted its note (after the tweet), and the retry made none: so, once.
    assert len(replies_on_x(x, tweet_id)) == 1
    assert len([m for m in slack.thread("C0WIBRO", msg["ts"]) if tweet_link in flat(m)]) == 1


def test_escalate_over_the_socket_is_acked_within_3s_with_the_ephemeral_answer(socket_bot: Bot, slack, x) -> None:
    tweet_id = customer_tweet(x, "요금이 두 번 나갔어요 & 환불 부탁", "billing")
    sent = slack.slash_command("/escalate", f"<https://x.com/billing/status/{tweet_id}> wibro VIP 고객",
                               user="U0OPS1", channel="C0OPS")
    assert sent.transport == "socket"
    assert acked(sent) == {"response_type": "ephemeral", "text": t("ko", "escalate_accepted", tweet_id=tweet_id)}
    msg = ticket_in(slack, "C0WIBRO", "billing")
    assert answer(slack, sent) == t("ko", "escalate_done", department="WiBro 고객센터",
                                    link=link("C0WIBRO", msg["ts"]))
    assert "VIP 고객" in "\n".join(flat(m) for m in slack.thread("C0WIBRO", msg["ts"]))


@pytest.mark.parametrize(("token", "says"), [
    ("xapp-1-A0FORGED-1-forged", "escalator: Slack refused SLACK_APP_TOKEN (invalid_auth): copy the app-level "
     "token (xapp-…) again or create one under Basic Information > App-Level Tokens with the connections:write "
     "scope"),
    ("the bot token", "escalator: SLACK_APP_TOKEN is not an app-level token (xapp-…): create one under Basic "
     "Information > App-Level Tokens with the connections:write scope"),
], ids=["forged", "bot-token"])
def test_a_wrong_app_token_stops_the_socket_process_with_one_clear_line(tmp_path: Path, redis_url: str, slack, x,
                                                                         token: str, says: str) -> None:
    token = slack.bot_token if token == "the bot token" else token
    bot = Bot(tmp_path, redis_url, slack, x, ROUTING).start_command("socket", SOCKET, {"SLACK_APP_TOKEN": token})
    try:
        code = bot.procs["socket"].wait(timeout=30)
    finally:
        bot.stop()
    output = bot.log("socket")
    assert code == 2, output
    assert output.strip().splitlines()[-1] == says
    assert "Traceback" not in output and token not in output
    assert not slack.socket_mode.connected()
