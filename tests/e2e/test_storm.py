"""Storm mode end to end: 500 mentions in a burst, one thread, one confirmed reply to all 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_spine import ACCOUNT
from tests.harness import wait_for

pytestmark = pytest.mark.slow
ROUTING = (Path(__file__).resolve().parent.parent / "data" / "routing.yaml").read_text(encoding="utf-8") + """
storm:
  threshold: 5
  window: 10m
  quiet: 10m
  pace: 0s
"""
BURST = 500


def test_a_burst_of_500_becomes_one_thread_and_one_reply_reaches_all_once(start_bot, slack, x):
    slack.rate_limit_per_channel = 1.0  # Slack's real pace: one message a second per channel
    # An account with a posting budget for 500 at once (enterprise-like); tests/e2e/test_x_limits.py has X's own.
    x.set_limit("POST", "/2/tweets", 10_000)
    x.set_post_windows([(900, 10_000)])
    try:
        bot = start_bot(ROUTING + "x: {post_limits: [{per: 15m, max: 10000}], reserve: 50}\n")
        for i in range(3):  # an ordinary morning first: posted one by one
            x.add_mention(f"@{ACCOUNT} 와이브로 요금 문의 {i}", username=f"calm{i}")
        wait_for(lambda: len(slack.messages("C0WIBRO")) == 3, 20, message="three ordinary tickets")
        burst = [x.add_mention(f"@{ACCOUNT} 와이브로 또 먹통이에요 ({i}번째)", username=f"angry{i:03d}")
                 for i in range(BURST)]
        header = wait_for(lambda: next((m for m in slack.messages("C0WIBRO") if "🌩️" in m.get("text", "")), None),
                          60, message="the storm thread")

        def shown() -> int:
            return sum(m.get("text", "").count("• <https://x.com/angry")
                       for m in slack.thread("C0WIBRO", header["ts"]))

        wait_for(lambda: shown() == BURST, 120, 0.5, message="all 500 mentions in the storm thread")
        top_level = slack.messages("C0WIBRO")
        assert len(top_level) == 4, f"the channel should hold 3 tickets and one storm, not {len(top_level)}"
        assert len(slack.thread("C0WIBRO", header["ts"])) < 30
        assert "500" in slack.messages("C0WIBRO")[-1]["text"] or any(
            "500" in m.get("text", "") for m in top_level), "the header shows the count"

        reply = slack.user_message("C0WIBRO", "불편을 드려 죄송합니다. 강남 일대 기지국을 복구 중입니다.",
                                   user="U0STAFF1", thread_ts=header["ts"])
        ask = wait_for(lambda: next((m for m in slack.thread("C0WIBRO", header["ts"])
                                     if "📣" in m.get("text", "")), None), 15, message="the confirmation step")
        assert "500" in ask["text"]
        assert x.posted() == [], "nothing may be sent before the confirmation"
        delivery = slack.block_action("U0STAFF1", "C0WIBRO", ask["ts"], "storm_send")
        assert delivery.status == 200 and delivery.elapsed < 3
        wait_for(lambda: len(x.posted()) >= BURST, 180, 0.5, message="500 replies on X")
        bot.settle(timeout=60)  # drained: no reply is still on its way
    finally:
        slack.rate_limit_per_channel = None
    posted = x.posted()
    assert len(posted) == BURST
    assert sorted(p["in_reply_to_tweet_id"] for p in posted) == sorted(burst)
    assert len({p["text"] for p in posted}) == BURST
    assert all(p["text"].startswith("@angry") and "기지국을 복구 중" in p["text"] for p in posted)
    assert reply.ts
    wait_for(lambda: any("✅" in m.get("text", "") and "500/500" in m.get("text", "")
                         for m in slack.thread("C0WIBRO", header["ts"])), 15, message="the progress line at 500/500")


def test_an_operator_declares_a_storm_and_new_mentions_join_it(start_bot, slack, x):
    start_bot(ROUTING)
    delivery = slack.slash_command("/escalate", "storm wibro 강남 기지국 장애", user="U0OPS1", channel="C0TRIAGE")
    assert delivery.status == 200 and delivery.elapsed < 3
    header = wait_for(lambda: next((m for m in slack.messages("C0WIBRO") if "🌩️" in m.get("text", "")), None),
                      20, message="the declared storm thread")
    assert "강남 기지국 장애" in header["text"]
    x.add_mention(f"@{ACCOUNT} 와이브로 안 돼요", username="joiner")
    wait_for(lambda: any("@joiner" in m.get("text", "") for m in slack.thread("C0WIBRO", header["ts"])), 20,
             message="the mention in the storm thread")
    assert len(slack.messages("C0WIBRO")) == 1
    slack.block_action("U0STAFF1", "C0WIBRO", header["ts"], "storm_end")
    wait_for(lambda: any("🌤️" in m.get("text", "") for m in slack.thread("C0WIBRO", header["ts"])), 15,
             message="the storm ended by its button")
    x.add_mention(f"@{ACCOUNT} 와이브로 이제 돼요?", username="after")
    wait_for(lambda: len(slack.messages("C0WIBRO")) == 2, 20, message="a normal ticket after the storm")


def test_a_customer_with_two_tweets_in_a_storm_gets_a_distinct_reply_to_each(start_bot, slack, x):
    start_bot(ROUTING)
    slack.slash_command("/escalate", "storm wibro 기지국 장애", user="U0OPS1", channel="C0TRIAGE")
    header = wait_for(lambda: next((m for m in slack.messages("C0WIBRO") if "🌩️" in m.get("text", "")), None),
                      20, message="the declared storm thread")
    tweets = [x.add_mention(f"@{ACCOUNT} 와이브로 안 돼요", username="twice"),
              x.add_mention(f"@{ACCOUNT} 와이브로 아직도 안 돼요", username="twice"),
              x.add_mention(f"@{ACCOUNT} 와이브로 먹통", username="once")]
    wait_for(lambda: sum(m.get("text", "").count("• <https://x.com/") for m in slack.thread("C0WIBRO", header["ts"]))
             == 3, 20, message="three members in the storm thread")
    slack.user_message("C0WIBRO", "복구 중입니다. 죄송합니다.", user="U0STAFF1", thread_ts=header["ts"])
    ask = wait_for(lambda: next((m for m in slack.thread("C0WIBRO", header["ts"]) if "📣" in m.get("text", "")),
                                None), 15, message="the confirmation step")
    slack.block_action("U0STAFF1", "C0WIBRO", ask["ts"], "storm_send")
    wait_for(lambda: len(x.posted()) == 3, 30, 0.2, message="three replies on X")
    by_tweet = {p["in_reply_to_tweet_id"]: p["text"] for p in x.posted()}
    assert by_tweet == {tweets[0]: "@twice 복구 중입니다. 죄송합니다.",
                        tweets[1]: "@twice 복구 중입니다. 죄송합니다. (2)",
                        tweets[2]: "@once 복구 중입니다. 죄송합니다."}


def test_operators_as_a_user_group_are_checked_before_a_storm_is_declared(start_bot, slack, x):
    """Issue 11 finding 7: `/escalate storm` skipped the operators check when operators were a user group."""
    from tests.e2e.test_chatops import acked, answer

    start_bot(ROUTING.replace("departments:", "operators: [S0OPSTEAM]\ndepartments:"))
    slack.set_usergroup("S0OPSTEAM", ["U0NIGHT"])
    outsider = slack.slash_command("/escalate", "storm wibro 기지국 장애", user="U0STAFF1", channel="C0TRIAGE")
    acked(outsider)
    assert "🔒" in answer(slack, outsider)
    member = slack.slash_command("/escalate", "storm wibro 기지국 장애", user="U0NIGHT", channel="C0TRIAGE")
    acked(member)
    assert "🌩️" in answer(slack, member)
    headers = [m for m in slack.messages("C0WIBRO") if "🌩️" in m.get("text", "")]
    assert len(headers) == 1
    slack.set_members("C0WIBRO", ["U0STAFF1", "U0NIGHT"])  # wibro has no staff list: its channel's members
    click = slack.block_action("U0OUTSIDER", "C0WIBRO", headers[0]["ts"], "storm_end")
    assert "🔒" in answer(slack, click), "the outsider is told, privately, that they cannot end the storm"
    assert not any("🌤️" in m.get("text", "") for m in slack.thread("C0WIBRO", headers[0]["ts"]))
