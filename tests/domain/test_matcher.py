"""Keyword matcher: Korean substrings, case and full-width folding, priority order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.matcher import KeywordMatcher, Match, bench_matcher

DEPARTMENTS = KeywordMatcher(
    [
        ("iphone", ["아이폰", "iPhone", "스마트폰", "아이폰4", "갤럭시"]),
        ("wibro", ["와이브로", "WiBro", "wibro", "에그"]),
        ("billing", ["요금", "요금제", "데이터", "청구"]),
        ("network", ["장애", "불통", "3G", "먹통"]),
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("와이브로가 자꾸 끊겨요", Match("wibro", ("와이브로",))),
        ("요금제 변경하고 싶은데 요금이 얼마죠", Match("billing", ("요금", "요금제"))),
        ("@olleh 집에서 3g 안 터짐", Match("network", ("3G",))),
    ],
)
def test_korean_substrings_match(text: str, expected: Match) -> None:
    assert DEPARTMENTS.match(text) == expected


def test_english_matches_ignoring_case_and_reports_the_configured_spelling() -> None:
    assert DEPARTMENTS.match("my IPHONE won't sync") == Match("iphone", ("iPhone",))
    # "WiBro" and "wibro" normalise alike: the first spelling speaks for both
    assert DEPARTMENTS.match("WIBRO down again, wibro!!") == Match("wibro", ("WiBro",))


def test_full_width_and_compatibility_forms_match() -> None:
    assert DEPARTMENTS.match("ＷｉＢｒｏ 연결 불가") == Match("wibro", ("WiBro",))
    assert DEPARTMENTS.match("３Ｇ 안돼요") == Match("network", ("3G",))


def test_the_first_group_in_priority_order_wins_wherever_its_keyword_stands() -> None:
    text = "와이브로 에그를 아이폰4에 연결하면 먹통"
    assert DEPARTMENTS.match(text) == Match("iphone", ("아이폰", "아이폰4"))
    assert DEPARTMENTS.any_match(text) == ("와이브로", "에그", "아이폰", "아이폰4", "먹통")


def test_matched_keywords_are_in_order_of_appearance_and_listed_once() -> None:
    assert DEPARTMENTS.match("청구서에 데이터 요금이 또 데이터로 청구") == Match(
        "billing", ("청구", "데이터", "요금")
    )


def test_a_keyword_shared_by_two_groups_belongs_to_the_first() -> None:
    matcher = KeywordMatcher([("a", ["장애"]), ("b", ["장애", "기지국"])])
    assert matcher.match("기지국 장애") == Match("a", ("장애",))
    assert matcher.any_match("기지국 장애") == ("기지국", "장애")


def test_no_match() -> None:
    assert DEPARTMENTS.match("안녕하세요 감사합니다") == Match(None, ())
    assert DEPARTMENTS.match("") == Match(None, ())
    assert DEPARTMENTS.any_match("hello") == ()
    assert KeywordMatcher([("empty", [])]).match("아이폰") == Match(None, ())
    assert KeywordMatcher([]).any_match("아이폰") == ()


def test_an_empty_keyword_is_refused() -> None:
    with pytest.raises(ValueError, match="empty keyword"):
        KeywordMatcher([("a", [""])])


# Hangul syllables and ASCII around the keyword; a bare jamo could fuse with its last syllable under NFKC.
_AROUND = st.text(
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3) | st.characters(max_codepoint=0x7F), max_size=40
)


@given(_AROUND, _AROUND)
def test_a_keyword_matches_wherever_it_stands(before: str, after: str) -> None:
    found = DEPARTMENTS.match(before + "와이브로" + after)
    assert found.group_id in (
        "iphone",
        "wibro",
    )  # iphone only when the noise happens to spell one of its words
    assert found.group_id == "iphone" or "와이브로" in found.keywords


def test_bench_matcher_runs() -> None:
    assert bench_matcher(groups=20, per_group=3, texts=200) > 0
