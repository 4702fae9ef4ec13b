"""Properties of the text edges over any input, including hostile and huge ones."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.domain.text import slack_to_plain, tweet_length, tweet_to_slack, unescape_entities

_SLACK_PIECES = [
    "<!channel>", "<!here>", "<!everyone>", "<@U1>", "<@U1|kim>", "<!subteam^S1>", "<!subteam^S1|@team>",
    "<#C1>", "<#C1|general>", "<http://x|y>", "<https://kt.com/a?b=1&amp;c=2>", "<mailto:a@b.c|a@b.c>",
    "<!date^1392734382^{date}|Feb 18>", "<", ">", "&", "&amp;", "&lt;", "&gt;", "&amp;amp;", "&amp;lt;",
    "@channel", "*", "_", "~", "`", "```", ":", ":smile:", ":+1::skin-tone-2:", " ", "\t", "\n", "가", "😄",
]
_piece = st.one_of(st.sampled_from(_SLACK_PIECES), st.text(max_size=6))
_mixed = st.lists(_piece, max_size=30).map("".join)
# Huge inputs: a mixed stretch repeated, up to a few hundred thousand characters.
_huge = st.tuples(_mixed, st.integers(min_value=1, max_value=2000)).map(lambda pair: pair[0] * pair[1])
_any_text = st.one_of(st.text(), _mixed, _huge)
_fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ENTITY_OR_AMP = re.compile(r"&(?!amp;|lt;|gt;)")


def _as_x_sends_it(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@_fast
@given(_any_text)
def test_tweet_to_slack_never_leaves_a_control_character(text: str) -> None:
    shown = tweet_to_slack(text)
    assert "<" not in shown and ">" not in shown
    assert _ENTITY_OR_AMP.search(shown) is None  # every & starts one of the three entities Slack decodes


@_fast
@given(_any_text)
def test_tweet_to_slack_shows_the_tweet_exactly(text: str) -> None:
    assert unescape_entities(tweet_to_slack(text)) == unescape_entities(text)


@_fast
@given(_any_text)
def test_what_the_customer_typed_is_what_slack_shows(typed: str) -> None:
    assert unescape_entities(tweet_to_slack(_as_x_sends_it(typed))) == typed


@_fast
@given(_any_text)
def test_slack_to_plain_leaves_no_slack_markup(text: str) -> None:
    plain = slack_to_plain(text)
    # Every "<" in the result is one the staff member typed (Slack sends it as &lt;); none is a mention.
    assert plain.count("<") <= text.count("&lt;")
    if "&lt;" not in text:
        assert not any(seq in plain for seq in ("<@", "<!", "<#"))
    assert plain == plain.strip()


@_fast
@given(_mixed)
@example("`<http://x|y> `<!channel>&")  # a code span ending in a space, then a removed mention
def test_removing_mentions_leaves_no_double_spaces(text: str) -> None:
    if re.search(r"[ \t]{2}", text) is None:
        assert re.search(r"[ \t]{2}", slack_to_plain(text)) is None


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=600), _mixed))
def test_tweet_length_always_answers(text: str) -> None:
    length = tweet_length(text)
    assert length.weighted >= 0 and length.limit == 280
    assert length.over_by == max(0, length.weighted - 280)
    if length.valid:
        assert 0 < length.weighted <= 280
