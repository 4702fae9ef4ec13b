"""Issue 12, finding 3: a tweet longer than a Slack section still becomes a ticket, cut visibly, SLA running."""

from __future__ import annotations

import pytest

from sandbox.slack_blocks import block_errors
from tests.e2e.test_spine import ACCOUNT, ticket_in
from tests.harness import wait_for

pytestmark = pytest.mark.slow


def test_a_tweet_with_long_links_is_posted_within_slacks_limits_with_a_link_to_the_rest(bot, slack, x, r):
    links = " ".join(f"https://example.com/{n}/" + "a" * 1500 for n in range(3))
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰4 배송 문의 {links} 끝까지 읽어 주세요", username="longlinks")
    msg = ticket_in(slack, "C0IPHONE", "longlinks")
    assert block_errors(msg["blocks"]) == []
    first = msg["blocks"][0]["text"]["text"]
    assert len(first) <= 3000
    url = f"https://x.com/longlinks/status/{tweet_id}"
    assert first.endswith(f"… <{url}|X에서 트윗 보기>"), first[-200:]
    assert "아이폰4 배송 문의 https://example.com/0/" in first
    # the ticket left the outbox: it is in Slack, and its thread is the one the SLA clock posts into
    wait_for(lambda: r.zcard("esc:outbox:post") == 0, 20, message="the outbox to empty")
    assert r.hget(f"esc:t:{tweet_id}", "message_ts") == msg["ts"]
