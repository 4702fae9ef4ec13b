"""Property tests: whatever a customer tweets, routing never crashes and no Slack control sequence survives."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack import ticket_blocks
from bot.domain.tickets import Author, Ticket
from bot.routing import load_routing

ROUTING = load_routing(Path(__file__).resolve().parent.parent / "routing.yaml")
CONTROL = ["<!channel>", "<!here>", "<!everyone>", "<@U0LEAD1>", "<!subteam^S0123|@cs>", "<#C0IPHONE|iphone>",
           "<https://evil.example|click>", "&", "<", ">", "&amp;", "&lt;", "&gt;", "@channel", "아이폰", "ＷｉＢｒｏ"]
tweet_text = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(CONTROL)), max_size=30).map("".join)
OUR_LINK = re.compile(r"<https://x\.com/[^|>]*\|[^<>]*>")


@settings(max_examples=300, deadline=None)
@given(tweet_text)
def test_routing_any_text_never_crashes_and_picks_a_known_place(text: str) -> None:
    route = ROUTING.route(text)
    assert route.department is None or route.department in ROUTING.departments
    assert route.policy.name in ROUTING.policies


@settings(max_examples=300, deadline=None)
@given(tweet_text, st.text(max_size=30), st.text(max_size=30))
def test_no_tweet_can_ping_or_link_in_slack(text: str, username: str, name: str) -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    ticket = Ticket(tweet_id="1", text=text, author=Author("9", username, name, 10), created_at=now,
                    policy="standard", due_at=now + timedelta(hours=24), note=text)
    fallback, blocks = ticket_blocks(ticket, "아이폰", ZoneInfo("Asia/Seoul"))
    shown = [fallback] + [str(b) for b in blocks]
    for part in shown:
        without_ours = OUR_LINK.sub("", part.replace("\\n", "\n"))
        assert not re.search(r"<[!@#]", without_ours), part
        assert "<http" not in without_ours.replace("<https://x.com/", ""), part


def test_a_huge_tweet_is_routed_quickly_enough_to_not_matter() -> None:
    text = ("아이폰 " * 50_000) + "와이브로"
    assert ROUTING.route(text).department is not None
