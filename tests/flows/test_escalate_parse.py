"""What /escalate and /sla make of what people type (pure parsing; the e2e tests cover the answers)."""

from __future__ import annotations

import pytest

from bot.flows.escalate import Request, UsageError, parse
from bot.flows.home import SlaRequest, SlaUsage, parse_sla
from bot.messages import t

KNOWN = ["iphone", "wibro"]
ID = "1860000000000000001"


@pytest.mark.parametrize("text, expected", [
    (ID, Request(ID, None, False, "")),
    (f"https://x.com/minsu/status/{ID}", Request(ID, None, False, "")),
    (f"<https://twitter.com/minsu/status/{ID}?s=20>", Request(ID, None, False, "")),
    (f"<https://x.com/minsu/status/{ID}|x.com/minsu/status/{ID}>", Request(ID, None, False, "")),
    (f"https://mobile.twitter.com/a/statuses/{ID}/photo/1", Request(ID, None, False, "")),
    (f"{ID} wibro", Request(ID, "wibro", False, "")),
    (f"{ID} wibro fast", Request(ID, "wibro", True, "")),
    (f"{ID} fast", Request(ID, None, True, "")),
    (f"{ID} FAST 개통 문의, VIP 고객", Request(ID, None, True, "개통 문의, VIP 고객")),
    (f"{ID} iphone 배송   지연  건", Request(ID, "iphone", False, "배송 지연 건")),
    (f"  {ID}  ", Request(ID, None, False, "")),
])
def test_parse_reads_tweet_department_fast_and_note(text: str, expected: Request) -> None:
    assert parse(text, KNOWN) == expected


@pytest.mark.parametrize("text, key", [
    ("", "escalate_usage"),
    ("   ", "escalate_usage"),
    ("help", "escalate_usage"),
    ("https://example.com/x", "escalate_not_tweet"),
    ("https://x.com/minsu", "escalate_not_tweet"),
    ("twelve", "escalate_not_tweet"),
    (f"{ID} lte", "unknown_department"),
])
def test_parse_refuses_with_a_sentence_that_says_what_to_do(text: str, key: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, KNOWN)
    assert caught.value.key == key
    shown = caught.value.text("en")
    if key == "unknown_department":
        assert "`lte`" in shown and "`iphone`, `wibro`" in shown
    else:
        assert t("en", "escalate_usage") in shown


def test_a_korean_note_right_after_the_tweet_is_a_note_not_a_department() -> None:
    assert parse(f"{ID} 와이브로 문의", KNOWN) == Request(ID, None, False, "와이브로 문의")


@pytest.mark.parametrize("text, expected", [
    ("", SlaRequest(None, "today")),
    ("week", SlaRequest(None, "week")),
    ("wibro", SlaRequest("wibro", "today")),
    ("WEEK wibro", SlaRequest("wibro", "week")),
    ("iphone today", SlaRequest("iphone", "today")),
    ("triage", SlaRequest("triage", "today")),
])
def test_sla_reads_department_and_period_in_any_order(text: str, expected: SlaRequest) -> None:
    assert parse_sla(text, KNOWN) == expected


def test_sla_names_the_word_it_does_not_know() -> None:
    with pytest.raises(SlaUsage, match="month"):
        parse_sla("wibro month", KNOWN)
