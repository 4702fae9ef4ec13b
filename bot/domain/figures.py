"""A department's report figures for one day, small enough to keep after its tickets leave Redis.

When tickets pass the retention they are folded into these: counts add up across days and departments, and
first-response times are kept as a histogram of ~11% wide buckets (at most a few dozen are used), so the
p50/p90 of any window is still known to within a bucket. A few hundred bytes per department per day.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_GROWTH = 1.25  # each bucket is this much wider than the last: values within ±11% of its middle


def bucket(seconds: float) -> int:
    """The histogram bucket of a first-response time (0 holds everything under 1.25 s)."""
    return max(0, math.floor(math.log(max(seconds, 1.0), _GROWTH)))


def middle(index: int) -> float:
    """The value a bucket stands for: its geometric middle, to a tenth of a second."""
    return round(_GROWTH ** (index + 0.5), 1)


@dataclass
class DayFigures:
    """Counts as report.summarize() defines them; `decided` = answered or past due, `met` = decided in time."""

    received: int = 0
    answered: int = 0
    open: int = 0
    closed: int = 0
    breached: int = 0
    decided: int = 0
    met: int = 0
    first_response: dict[int, int] = field(default_factory=dict)  # bucket -> tickets

    _KEYS = (("r", "received"), ("a", "answered"), ("o", "open"), ("c", "closed"), ("b", "breached"),
             ("d", "decided"), ("m", "met"))

    def add(self, other: DayFigures) -> DayFigures:
        for _, name in self._KEYS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for index, count in other.first_response.items():
            self.first_response[index] = self.first_response.get(index, 0) + count
        return self

    def count(self, *, answered_in: float | None, is_open: bool, closed: bool, breached: bool) -> None:
        """One ticket's part in the figures."""
        self.received += 1
        self.open += is_open
        self.closed += closed
        self.breached += breached
        decided = answered_in is not None or breached
        self.decided += decided
        self.met += decided and not breached
        if answered_in is not None:
            self.answered += 1
            index = bucket(answered_in)
            self.first_response[index] = self.first_response.get(index, 0) + 1

    def dumps(self) -> str:
        """Compact JSON, e.g. {"r":12,"a":10,…,"h":{"31":4}}: what Redis keeps per department and day."""
        data: dict[str, object] = {short: getattr(self, name) for short, name in self._KEYS if getattr(self, name)}
        if self.first_response:
            data["h"] = {str(k): v for k, v in sorted(self.first_response.items())}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> DayFigures:
        data = json.loads(text)
        figures = cls()
        for short, name in cls._KEYS:
            setattr(figures, name, int(data.get(short, 0)))
        figures.first_response = {int(k): int(v) for k, v in (data.get("h") or {}).items()}
        return figures


def percentile_of(exact: Iterable[float], histogram: Mapping[int, int], p: float) -> float | None:
    """The p-th percentile of exact values together with a histogram's (each bucket at its middle), with
    linear interpolation between closest ranks like report.percentile."""
    points = sorted([(v, 1) for v in exact] + [(middle(k), n) for k, n in histogram.items() if n > 0])
    total = sum(n for _, n in points)
    if not total:
        return None
    rank = (total - 1) * p / 100
    lo, hi = math.floor(rank), math.ceil(rank)

    def at(index: int) -> float:
        seen = 0
        for value, n in points:
            seen += n
            if index < seen:
                return value
        return points[-1][0]

    low = at(lo)
    return round(low + (at(hi) - low) * (rank - lo), 1)
