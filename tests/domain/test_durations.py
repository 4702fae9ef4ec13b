"""Durations: routing.yaml's notation (syntax) and the one formatter every message, report and view uses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.durations import format_duration, notation, parse_duration


@pytest.mark.parametrize(("value", "ko", "en"), [
    (45, "45초", "45s"),
    (0, "0초", "0s"),
    (840, "14분", "14m"),
    (845, "14분", "14m"),  # past a minute, rounded to the minute
    (330, "6분", "6m"),
    (3600, "1시간", "1h"),
    (3 * 3600 + 5 * 60 + 10, "3시간 5분", "3h 5m"),
    (5100, "1시간 25분", "1h 25m"),
    (86400, "24시간", "24h"),  # an SLA of 24h reads as 24 hours, not 1 day
    (36 * 3600, "36시간", "36h"),
    (3 * 86400 + 7200, "3일 2시간", "3d 2h"),
    (-90, "2분", "2m"),  # the sign is the sentence's business ("late", "ago")
    (timedelta(hours=2), "2시간", "2h"),
])
def test_a_duration_reads_like_people_write_it(value: float | timedelta, ko: str, en: str) -> None:
    assert format_duration(value) == ko
    assert format_duration(value, "ko-KR") == ko
    assert format_duration(value, "en") == en


def test_a_missing_duration_shows_the_callers_mark() -> None:
    assert format_duration(None) == "-"
    assert format_duration(None, "ko", missing="―") == "―"


def test_a_duration_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError):
        format_duration(float("nan"))


def test_notation_is_routing_yaml_syntax_and_round_trips() -> None:
    assert [notation(parse_duration(t)) for t in ("90s", "1h30m", "2d", "0s")] == ["1m30s",
                                                                                 "1h30m", "2d", "0s"]
    assert notation(timedelta(hours=-3)) == "-3h"
