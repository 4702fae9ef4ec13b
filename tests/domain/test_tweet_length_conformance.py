"""tweet_length against twitter-text's conformance cases (validate.yml): "too long" means what X means."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import emoji
import pytest
import yaml

from bot.domain.text import tweet_length

# Vendored from twitter/twitter-text (conformance/validate.yml, Apache-2.0: see the LICENSE beside it), so the
# cases run on every clone.
_VALIDATE = Path(__file__).resolve().parents[1] / "data" / "twitter-text" / "validate.yml"


def _cases(section: str) -> list[Any]:
    if not _VALIDATE.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no conformance specs at {_VALIDATE}"))]
    cases = yaml.safe_load(_VALIDATE.read_text(encoding="utf-8"))["tests"].get(section) or []
    return [pytest.param(case, id=f"{section}:{case['description']}") for case in cases]


def _v2_only(case: dict[str, Any]) -> bool:
    """The v2 cases (WeightedTweetsCounterTest) count an emoji sequence per code point; v3 counts it once.

    Only cases holding a multi-code-point emoji differ; those are covered again, with v3 numbers, in
    WeightedTweetsWithDiscountedEmojiCounterTest.
    """
    return any(len(found["emoji"]) > 1 for found in emoji.emoji_list(case["text"]))


def _check(case: dict[str, Any] | None) -> None:
    assert case is not None
    length = tweet_length(case["text"])
    expected = case["expected"]
    assert (length.weighted, length.valid) == (expected["weightedLength"], expected["valid"])
    assert length.limit == 280
    assert length.over_by == max(0, expected["weightedLength"] - 280)


@pytest.mark.parametrize("case", _cases("WeightedTweetsWithDiscountedEmojiCounterTest"))
def test_v3_weighted_length(case: dict[str, Any] | None) -> None:
    _check(case)


@pytest.mark.parametrize("case", _cases("UnicodeDirectionalMarkerCounterTest"))
def test_v3_directional_markers_and_invalid_characters(case: dict[str, Any] | None) -> None:
    _check(case)


@pytest.mark.parametrize("case", _cases("WeightedTweetsCounterTest"))
def test_v2_cases_that_v3_counts_the_same(case: dict[str, Any] | None) -> None:
    if case is not None and _v2_only(case):
        pytest.skip("v2 expectation: v3 counts this emoji sequence as one character (see the v3 section)")
    _check(case)


def test_the_v3_section_is_there_and_complete() -> None:
    if not _VALIDATE.is_file():
        pytest.skip(f"no conformance specs at {_VALIDATE}")
    sections = yaml.safe_load(_VALIDATE.read_text(encoding="utf-8"))["tests"]
    assert len(sections["WeightedTweetsWithDiscountedEmojiCounterTest"]) >= 20
