"""Keyword routing: one Aho-Corasick automaton over NFKC + casefold text, one pass per mention.

Rule: groups are in priority order (file order); the first group with any keyword in the text wins, wherever
in the text its keyword stands. The winning group's matched keywords are reported as configured, in order
of appearance, each once. Matching is by substring, after NFKC and casefold: "와이브로" matches
"와이브로가", "wibro" matches "ＷｉＢｒｏ".
"""

from __future__ import annotations

import random
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick


def normalize(text: str) -> str:
    """The form both keywords and texts are matched in: full-width and compatibility forms folded, no case."""
    return unicodedata.normalize("NFKC", text).casefold()


def _automaton_key(text: str) -> str:
    """Normalised text as UTF-8 bytes, one character per byte.

    pyahocorasick scans a node's children linearly, and thousands of Hangul keywords give the root thousands
    of children (~85 us per mention); over bytes no node has more than 256 (~2 us). UTF-8 is
    self-synchronising, so a keyword's bytes only ever match at character boundaries.
    """
    return normalize(text).encode("utf-8").decode("latin-1")


@dataclass(frozen=True)
class Match:
    group_id: str | None
    keywords: tuple[str, ...] = ()


NO_MATCH = Match(None)


class KeywordMatcher:
    """Classifies a text into the first group (in priority order) that has a keyword in it."""

    def __init__(self, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
        self._group_ids = tuple(group_id for group_id, _ in groups)
        # automaton key -> (length, owners), owners = ((group index, keyword as configured), ...) by priority
        owners: dict[str, list[tuple[int, str]]] = {}
        for index, (group_id, keywords) in enumerate(groups):
            for keyword in keywords:
                key = _automaton_key(keyword)
                if not key:
                    raise ValueError(f"group {group_id!r} has an empty keyword")
                entry = owners.setdefault(key, [])
                if not any(owner == index for owner, _ in entry):  # "WiBro" and "wibro": the first one speaks
                    entry.append((index, keyword))
        self._automaton: ahocorasick.Automaton | None = None
        if owners:
            self._automaton = ahocorasick.Automaton()
            for key, entry in owners.items():
                self._automaton.add_word(key, (len(key), tuple(entry)))
            self._automaton.make_automaton()

    def match(self, text: str) -> Match:
        """The winning group and its matched keywords; Match(None) when no keyword occurs."""
        hits = self._hits(text)
        if not hits:
            return NO_MATCH
        best = min(entry[0][0] for _, entry in hits)
        found: list[str] = []
        for _, entry in hits:
            for index, keyword in entry:
                if index == best and keyword not in found:
                    found.append(keyword)
        return Match(self._group_ids[best], tuple(found))

    def any_match(self, text: str) -> tuple[str, ...]:
        """Every keyword of any group found in the text, as configured, in order of appearance, each once."""
        found: list[str] = []
        for _, entry in self._hits(text):
            for _, keyword in entry:
                if keyword not in found:
                    found.append(keyword)
        return tuple(found)

    def _hits(self, text: str) -> list[tuple[int, tuple[tuple[int, str], ...]]]:
        """(start, owners) of every keyword occurrence, overlapping ones included, by start position."""
        if self._automaton is None or not text:
            return []
        found = self._automaton.iter(_automaton_key(text))
        hits = [(end - length + 1, entry) for end, (length, entry) in found]
        hits.sort(key=lambda hit: hit[0])
        return hits


def bench_matcher(groups: int = 500, per_group: int = 10, texts: int = 20000, seed: int = 7) -> float:
    """Classifications per second on generated Korean keywords and ~100-character Korean mentions."""
    rng = random.Random(seed)

    def hangul(length: int) -> str:
        return "".join(chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(length))

    table = [(f"g{g}", [hangul(rng.randint(2, 4)) for _ in range(per_group)]) for g in range(groups)]
    matcher = KeywordMatcher(table)
    samples = []
    for n in range(200):
        words = [hangul(rng.randint(1, 5)) for _ in range(22)]
        if n % 2:  # half the mentions carry a known keyword, the rest match nothing
            words[rng.randrange(len(words))] = rng.choice(rng.choice(table)[1])
        samples.append(" ".join(words)[:100])
    started = time.perf_counter()
    for n in range(texts):
        matcher.match(samples[n % len(samples)])
    return texts / (time.perf_counter() - started)
