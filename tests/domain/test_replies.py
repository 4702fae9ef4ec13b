"""Saved replies, pure: names, placeholders, expansion at a given time, and which replies a department sees."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.replies import (
    SavedReply,
    available,
    check_name,
    check_text,
    expand,
    longest_form,
    placeholders_in,
    typed_name,
)
from bot.domain.text import tweet_length

SEOUL = ZoneInfo("Asia/Seoul")
AT = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)  # 23:05 in Seoul


def test_expansion_fills_the_ticket_reference_the_phone_and_the_local_time():
    reply = SavedReply("call", "{phone}으로 전화 주세요. {time} 기준, 문의번호 {ticket} {{그대로}}")
    assert expand(reply, "1860000000000123456", "080-123-4567", AT, SEOUL) == \
        "080-123-4567으로 전화 주세요. 23:05 기준, 문의번호 #123456 {그대로}"


def test_a_phone_placeholder_without_a_phone_is_refused_rather_than_sent_blank():
    with pytest.raises(ValueError, match="phone"):
        expand(SavedReply("call", "{phone}"), "1", None, AT, SEOUL)


@pytest.mark.parametrize("text", ["{user}", "{0}", "{}", "{ticket:>9}", "{time!r}", "a } b", "a { b"])
def test_only_the_three_placeholders_are_accepted(text):
    with pytest.raises(ValueError):
        placeholders_in(text)


@pytest.mark.parametrize("text", ["@kt 문의", "문의는 ＠kt", "mail cs@example.com"])
def test_no_at_sign_of_either_width(text):
    with pytest.raises(ValueError, match="@"):
        check_text(text)


@pytest.mark.parametrize("name", ["", "Sorry", "sorry!", "죄송", "a" * 33, "so rry"])
def test_bad_names(name):
    with pytest.raises(ValueError):
        check_name(name)


def test_the_longest_form_counts_the_widest_values_and_the_duplicate_suffix():
    reply = SavedReply("r", "가" * 131 + "{ticket}")
    assert longest_form(reply, None) == "가" * 131 + "#999999 (#999999)"
    assert tweet_length(longest_form(reply, None)).weighted == 279


@pytest.mark.parametrize(("text", "name"), [
    (";sorry", "sorry"), ("  ;sorry\n", "sorry"), ("；sorry", "sorry"), (";call-2", "call-2"),
    (";sorry 고객님", None), ("sorry", None), (";)", None), (";Sorry", None), ("안녕 ;sorry", None),
])
def test_a_typed_saved_reply_is_just_semicolon_and_name(text, name):
    assert typed_name(text) == name


def test_a_department_sees_shared_then_its_own_and_its_own_win_a_name():
    shared = (SavedReply("sorry", "공통"), SavedReply("call", "{phone}"))
    own = (SavedReply("sorry", "우리 부서"), SavedReply("hours", "9시부터"))
    found = available(shared, own, "114")
    assert list(found) == ["sorry", "call", "hours"] and found["sorry"].text == "우리 부서"
    assert list(available(shared, (), None)) == ["sorry"], "without a phone, {phone} replies are left out"
