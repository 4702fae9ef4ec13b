"""What a tweet looks like in Slack, what a staff reply looks like on X, and how long X thinks it is."""

from __future__ import annotations

import pytest

from bot.domain.text import (
    TweetLength,
    escape_slack,
    is_internal_note,
    normalise_for_match,
    slack_to_plain,
    truncate_for_slack,
    tweet_length,
    tweet_to_slack,
    unescape_entities,
)

# --- tweet -> Slack


def test_a_tweet_reads_in_slack_exactly_as_the_customer_typed_it() -> None:
    # X sends "Tom & Jerry <!channel>" as below; Slack must show it literally, and not ping the channel.
    assert tweet_to_slack("Tom &amp; Jerry &lt;!channel&gt;") == "Tom &amp; Jerry &lt;!channel&gt;"


def test_an_ampersand_is_decoded_once_and_encoded_once() -> None:
    # The customer typed "&amp;" literally, X sends "&amp;amp;", Slack shows "&amp;" (sent as "&amp;amp;").
    assert tweet_to_slack("AT&amp;T &amp;amp; &amp;lt;") == "AT&amp;T &amp;amp; &amp;lt;"
    assert unescape_entities(tweet_to_slack("a &amp;amp; b")) == "a &amp; b"


@pytest.mark.parametrize("typed", ["<@U123>", "<!here>", "<!everyone>", "<!subteam^S1|@ops>", "<#C1|general>",
                                   "<https://evil.example|click me>"])
def test_nothing_in_a_tweet_can_become_a_mention_or_a_link(typed: str) -> None:
    from_x = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    shown = tweet_to_slack(from_x)
    assert "<" not in shown and ">" not in shown
    assert unescape_entities(shown) == typed


def test_korean_tweet_is_untouched() -> None:
    tweet = "와이브로 연결이 안 돼요 ㅠㅠ 확인 부탁드립니다 🙏 #KT"
    assert tweet_to_slack(tweet) == tweet


def test_bare_at_channel_words_stay_as_typed() -> None:
    # Slack only turns bare @channel into a ping with link_names, which the bot never sets.
    assert tweet_to_slack("@channel @here hi") == "@channel @here hi"


def test_escape_slack_escapes_the_three_control_characters() -> None:
    assert escape_slack("a&b<c>d") == "a&amp;b&lt;c&gt;d"


# --- Slack reply -> X


def test_a_staff_reply_becomes_plain_text_for_x() -> None:
    text = "<@U1> 안녕하세요 <https://kt.com|KT> 확인 부탁 &amp; :smile:"
    assert slack_to_plain(text) == "안녕하세요 https://kt.com 확인 부탁 & 😄"


@pytest.mark.parametrize(("slack", "plain"), [
    ("<https://kt.com/a?b=1&amp;c=2>", "https://kt.com/a?b=1&c=2"),
    ("see <http://kt.com|kt.com>", "see kt.com"),  # Slack auto-linked what was typed: keep it as typed
    ("mail <mailto:help@kt.com|help@kt.com>", "mail help@kt.com"),
    ("mail <mailto:help@kt.com>", "mail help@kt.com"),
    ("Hi <@U123|kim>, <#C123|wibro> <!here> <!channel> <!everyone> <!subteam^S1|@team> ok", "Hi ok"),
    ("<@U1>, <@U2>, 확인했습니다", "확인했습니다"),
    ("고객님 <@U1>, 확인 부탁", "고객님, 확인 부탁"),
    ("<@U1>, 확인했습니다", "확인했습니다"),
    ("고객님 <@U1>!", "고객님!"),
    ("안녕 <@U1> @kt_corp #와이브로 (<@U2> 참고)", "안녕 @kt_corp #와이브로 (참고)"),
    ("line one\n<@U1> <@U2>\nline two", "line one\nline two"),
    ("  <@U1>  hello  ", "hello"),
    ("<!date^1392734382^{date_short}|Feb 18, 2014> 방문 예정", "Feb 18, 2014 방문 예정"),
    ("&lt;b&gt; &amp;amp;", "<b> &amp;"),
])
def test_links_mentions_and_entities(slack: str, plain: str) -> None:
    assert slack_to_plain(slack) == plain


def test_listed_users_are_named_instead_of_removed() -> None:
    assert slack_to_plain("<@U1> 님이 확인 <@U2>", users={"U1": "담당자"}) == "담당자 님이 확인"


@pytest.mark.parametrize(("slack", "plain"), [
    ("*중요* _참고_ ~취소~", "중요 참고 취소"),
    ("*<https://kt.com|KT>*", "https://kt.com"),
    ("snake_case_name and 2*3*4 and a * b", "snake_case_name and 2*3*4 and a * b"),
    ("`*not bold* :smile:`", "*not bold* :smile:"),
    ("```line 1\n_line_ 2```", "line 1\n_line_ 2"),
])
def test_formatting_markers_are_dropped_only_where_they_format(slack: str, plain: str) -> None:
    assert slack_to_plain(slack) == plain


@pytest.mark.parametrize(("slack", "plain"), [
    (":+1: :white_check_mark: :pray:", "👍 ✅ 🙏"),
    (":+1::skin-tone-2:", "👍🏻"),
    (":v::skin-tone-6:", "✌🏿"),
    (":flag-kr:", "🇰🇷"),
    (":no_such_emoji_code:", ":no_such_emoji_code:"),
    ("10:30:smile:", "10:30😄"),
])
def test_emoji_shortcodes(slack: str, plain: str) -> None:
    assert slack_to_plain(slack) == plain


def test_code_and_links_keep_their_order_in_the_tweet() -> None:
    # Code spans used to be put back before links, whatever their order: the tweet read "a b https://…".
    reply = "Call `080-123` or visit <https://kt.com|our site> `today`"
    assert slack_to_plain(reply) == "Call 080-123 or visit https://kt.com today"
    assert slack_to_plain("`a` <@U1> `b`", {"U1": "Kim"}) == "a Kim b"


def test_a_link_wrapped_around_code_does_not_crash_the_relay() -> None:
    assert slack_to_plain("<`0`>") == "0"  # found by hypothesis: a ValueError in the relay


def test_a_literally_typed_mention_stays_literal_text() -> None:
    # Slack sends a typed "<@U1>" as entities: it is the staff member's text, not a mention.
    assert slack_to_plain("&lt;@U1&gt;") == "<@U1>"
    assert slack_to_plain("&amp;lt;") == "&lt;"


# --- internal notes


@pytest.mark.parametrize(("text", "prefix", "note"), [
    ("// 고객 VIP", "//", True),
    ("   // indented", "//", True),
    ("／／ full-width", "//", True),
    ("[내부] 확인 중", "[내부]", True),
    ("&gt;&gt; as Slack sends it", ">>", True),
    ("NOTE: x", "note:", True),
    ("답변 // 끝", "//", False),
    ("anything", "", False),
    ("anything", "   ", False),
])
def test_internal_notes(text: str, prefix: str, note: bool) -> None:
    assert is_internal_note(text, prefix) is note


def test_normalise_for_match() -> None:
    assert normalise_for_match("ＫＴ Ｗｉｂｒｏ 와이브로") == "kt wibro 와이브로"
    assert normalise_for_match("\u1112\u1161\u11ab") == "한"  # decomposed jamo compose


# --- tweet length


def test_140_hangul_syllables_fill_a_tweet() -> None:
    assert tweet_length("가" * 140) == TweetLength(weighted=280, limit=280, valid=True, over_by=0)


def test_141_hangul_syllables_are_two_over() -> None:
    assert tweet_length("가" * 141) == TweetLength(weighted=282, limit=280, valid=False, over_by=2)


def test_a_long_url_counts_23() -> None:
    url = "https://www.kt.com/support/wibro/outage?region=seoul&ticket=" + "x" * 200
    assert tweet_length(url).weighted == 23
    assert tweet_length(f"확인 {url}").weighted == 4 + 1 + 23


def test_an_emoji_counts_2_even_as_a_sequence() -> None:
    assert tweet_length("😄").weighted == 2
    assert tweet_length("👨\u200d👩\u200d👧\u200d👦").weighted == 2
    assert tweet_length("👍🏻").weighted == 2


def test_mixed_korean_and_english() -> None:
    assert tweet_length("KT 와이브로 ok").weighted == 2 + 1 + 8 + 1 + 2


def test_empty_is_not_a_valid_tweet() -> None:
    assert tweet_length("") == TweetLength(weighted=0, limit=280, valid=False, over_by=0)


# --- Slack limits


def test_short_text_is_not_truncated() -> None:
    assert truncate_for_slack("abc", 3) == "abc"


def test_truncation_ends_with_an_ellipsis_within_the_limit() -> None:
    cut = truncate_for_slack("가" * 4000)
    assert cut.endswith("…") and len(cut) == 3000


@pytest.mark.parametrize(("text", "limit", "cut"), [
    ("abcdefghij&amp;x", 13, "abcdefghij…"),  # not "…&am…"
    ("ab <https://kt.com|KT> cd", 10, "ab…"),
    ("ab👍🏻cd", 5, "ab…"),
    ("x🇰🇷🇺🇸y", 7, "x🇰🇷…"),
    ("e\u0301e\u0301e\u0301", 4, "e\u0301…"),
])
def test_truncation_never_splits_an_entity_link_or_character(text: str, limit: int, cut: str) -> None:
    assert truncate_for_slack(text, limit) == cut
