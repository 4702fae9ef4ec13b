"""Two X accounts in one bot (issue 16), end to end: the real Procfile processes, adaptive polling by cron,
the X stand-in holding both accounts, each with its own access token."""

from __future__ import annotations

import pytest

from tests.harness import wait_for

pytestmark = pytest.mark.slow

CARE, SHOW = "escalator_kr", "show_tweet"
TWO = "tests/data/routing_accounts.yaml"
ENV = {"X_POLL_SECONDS": "",  # adaptive: each account on its own schedule
       "X_SHOW_BEARER_TOKEN": "show-bearer", "X_SHOW_API_KEY": "show-key", "X_SHOW_API_SECRET": "show-secret",
       "X_SHOW_ACCESS_TOKEN": "show-access", "X_SHOW_ACCESS_TOKEN_SECRET": "show-access-secret"}


def ticket_in(slack, channel: str, handle: str) -> dict:
    return wait_for(lambda: next((m for m in slack.messages(channel) if f"@{handle}" in m.get("text", "")), None),
                    30, message=f"a ticket for @{handle} in {channel}")


def test_two_accounts_polled_by_cron_and_a_reply_relayed_from_the_second(start_bot, slack, x):
    x.add_account(SHOW, access_token="show-access")
    bot = start_bot(TWO, ENV)
    care = x.add_mention("아이폰 배송이 늦어요", username="minsu")
    show = x.add_mention("아이폰 이벤트 경품은 언제 오나요?", username="fan", to=SHOW)
    elsewhere = x.add_mention("와이브로 문의도 받나요?", username="wanderer", to=SHOW)
    ticket_in(slack, "C0IPHONE", "minsu")
    msg = ticket_in(slack, "C0IPHONE", "fan")
    ticket_in(slack, "C0SHOWTRIAGE", "wanderer")

    slack.user_message("C0IPHONE", "경품은 다음 주에 발송됩니다", user="U0STAFF1", thread_ts=msg["ts"])
    sent = wait_for(lambda: x.posted(SHOW), 20, message="the reply on X from @show_tweet")
    assert [(t["text"], t["in_reply_to_tweet_id"]) for t in sent] == [("경품은 다음 주에 발송됩니다", show)]
    url = f"https://x.com/{SHOW}/status/{sent[0]['id']}"
    wait_for(lambda: any(url in m.get("text", "") for m in slack.thread("C0IPHONE", msg["ts"])), 15,
             message="the ✅ note with the tweet's link under @show_tweet")

    bot.settle(x, polls=2)
    assert x.posted(CARE) == [], "nothing went out from the first account"
    assert len(x.posted(SHOW)) == 1
    assert len(slack.messages("C0IPHONE")) == 2 and len(slack.messages("C0SHOWTRIAGE")) == 1
    assert slack.messages("C0TRIAGE") == [] and slack.messages("C0WIBRO") == []
    reads = {r["path"] for r in x.requests if r["path"].endswith("/mentions")}
    assert len(reads) == 2, f"each account's mentions were read: {reads}"
    assert {care, show, elsewhere} <= {m["metadata"]["event_payload"]["tweet_id"]
                                       for c in ("C0IPHONE", "C0SHOWTRIAGE") for m in slack.messages(c)
                                       if m.get("metadata")}
