"""Figures: the report computed once from tickets; its JSON is the outside contract and must not move."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.figures import Figures, Window, compute
from bot.flows.report import day_window, summarize
from bot.report_cli import as_csv, as_text
from tests.domain.figures_cases import KST, NOW, aggregated, at, day_tickets, in_day, routing

GOLDEN = json.loads((Path(__file__).parent.parent / "data" / "report_golden.json").read_text(encoding="utf-8"))


def cases() -> dict[str, Figures]:
    """The scenarios of tests/data/report_golden.json, through today's code."""
    r = routing()
    day = Window(*day_window(NOW, KST))
    return {
        "day": summarize(in_day(day_tickets()), r, day, NOW),
        "empty": summarize([], r, day, NOW),
        "week": summarize(day_tickets(), r, Window(at(20, 0), at(28, 0)), NOW),
        "aggregated": summarize(day_tickets(), r, Window(at(20, 0).replace(month=10), at(28, 0)), NOW,
                                aggregated()),
        "later": summarize(in_day(day_tickets()), r, day, NOW + timedelta(days=2)),
    }


def roundtrip(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_report_json_is_what_main_printed_key_for_key(name: str) -> None:
    new = roundtrip(cases()[name].to_json())
    old = GOLDEN[name]["json"]
    assert list(new) == list(old)
    assert new == old
    assert [list(d) for d in new["departments"]] == [list(d) for d in old["departments"]]
    assert [list(t) for t in new["tickets"]] == [list(t) for t in old["tickets"]]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_report_csv_is_what_main_printed(name: str) -> None:
    assert as_csv(cases()[name]) == GOLDEN[name]["csv"]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_report_text_keeps_its_words_and_counts(name: str) -> None:
    """Only the durations are written differently now (1h 22m, not 1h22m): every other word and count stays."""
    new, old = as_text(cases()[name]).splitlines(), GOLDEN[name]["text"].splitlines()
    assert len(new) == len(old)
    for a, b in zip(new, old, strict=True):
        if b.split()[:1] and b.split()[0] in ("iphone", "wibro", "triage", "gone", "retired", "total"):
            assert a.split()[:6] == b.split()[:6] and a.split()[-1] == b.split()[-1]
        elif not b.startswith("-----"):
            assert a == b


# -- issue 16: several accounts, saved replies --------------------------------------------------------------

def two_accounts(first_account: str = "default") -> Figures:
    return compute(in_day(day_tickets(accounts=(None, "show"))), departments=["iphone", "wibro"], tz=KST,
                   window=Window(*day_window(NOW, KST)), now=NOW, retention_days=30, first_account=first_account)


def test_one_account_named_or_not_keeps_the_single_account_output() -> None:
    named = compute(in_day(day_tickets(accounts=(None, "kt"))), departments=["iphone", "wibro"], tz=KST,
                    window=Window(*day_window(NOW, KST)), now=NOW, first_account="kt")
    assert named.accounts == () and not named.by_account
    assert roundtrip(named.to_json()) == GOLDEN["day"]["json"]  # None is the first account, "kt"
    assert as_csv(named) == GOLDEN["day"]["csv"]
    assert "account" not in as_text(named)


def test_two_accounts_split_the_counts_and_add_up_to_the_total() -> None:
    figures = two_accounts()
    data = roundtrip(figures.to_json())
    assert list(data) == [*GOLDEN["day"]["json"], "accounts"]
    assert data["departments"] == GOLDEN["day"]["json"]["departments"]  # the department figures do not move
    accounts = {a["id"]: a for a in data["accounts"]}
    assert list(accounts) == ["default", "show"]  # the first account first
    # the day's tweets alternate: odd ones (1 3 7 9 11) on "show", even ones (account None) on the first one
    assert (accounts["show"]["received"], accounts["default"]["received"]) == (5, 6)
    for key in ("received", "answered", "open", "closed", "breached"):
        assert sum(a[key] for a in data["accounts"]) == getattr(figures.totals, key)
    assert accounts["show"]["breached"] == 3 and accounts["default"]["breached"] == 0
    assert {t["tweet_id"]: t["account"] for t in data["tickets"]}["5003"] == "show"
    assert as_csv(figures).splitlines()[0].endswith(",author,account")
    text = as_text(figures)
    table = text[text.index("\naccount "):].splitlines()
    assert [line.split()[:6] for line in table if line.startswith(("default ", "show ", "total "))] == [
        ["default", "6", "4", "1", "1", "0"], ["show", "5", "3", "2", "0", "3"], ["total", "11", "7", "3", "1", "3"]]


def test_saved_replies_are_a_table_most_used_first_only_when_any_were_used() -> None:
    replies = {"wibro": {"call_us": 2, "sorry": 5, "unused": 0}, "": {"thanks": 1}, "iphone": {}}
    figures = compute(in_day(day_tickets()), departments=["iphone", "wibro"], tz=KST,
                      window=Window(*day_window(NOW, KST)), now=NOW, replies=replies)
    assert [(s.department, [(u.name, u.count) for u in s.used]) for s in figures.saved_replies] == [
        ("", [("thanks", 1)]), ("wibro", [("sorry", 5), ("call_us", 2)])]
    data = roundtrip(figures.to_json())
    assert data["saved_replies"] == [{"department": "", "used": [{"name": "thanks", "count": 1}]},
                                     {"department": "wibro", "used": [{"name": "sorry", "count": 5},
                                                                      {"name": "call_us", "count": 2}]}]
    text = as_text(figures)
    assert "Saved replies used:" in text
    assert [line.split() for line in text.splitlines() if line.startswith("  wibro ") and "sorry" in line] == [
        ["wibro", "sorry", "5"]]
    unused = compute(in_day(day_tickets()), departments=["iphone", "wibro"], tz=KST,
                     window=Window(*day_window(NOW, KST)), now=NOW, replies={"wibro": {"sorry": 0}})
    assert "saved_replies" not in unused.to_json() and "Saved replies" not in as_text(unused)


def test_figures_answer_for_one_department_and_know_none_they_lack() -> None:
    figures = cases()["day"]
    wibro = figures.department("wibro")
    assert wibro is not None and (wibro.received, wibro.breached, wibro.closed) == (5, 1, 1)
    assert figures.department("nowhere") is None
    assert (figures.fast_track.count, figures.fast_track.on_time, figures.fast_track.breached) == (3, 1, 2)
    assert figures.top_keywords[:2] == (("와이브로", 3), ("아이폰", 3))
