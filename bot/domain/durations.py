"""Durations: as people write them in routing.yaml (90s, 45m, 3h, 2d, 1h30m) and as the bot shows them."""

from __future__ import annotations

import math
import re
from datetime import timedelta

_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
# Longer than any clock the bot keeps: beyond it a deadline (now + duration) could overflow a datetime.
LONGEST = timedelta(days=3650)


def _seconds(text: str) -> int:
    found = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not found or not any(found.groupdict().values()):
        raise ValueError(f"bad duration {text!r}: use whole numbers with d, h, m, s: 90s, 45m, 3h, 1h30m")
    return sum(int(found[unit] or 0) * size for unit, size in _UNITS)  # a Python int: never overflows


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "45m", "3h", "2d" or a combination in that order ("1h30m"); ValueError otherwise."""
    return parse_bounded(text, LONGEST)


def parse_bounded(text: str, longest: timedelta, shortest: timedelta = timedelta(0)) -> timedelta:
    """parse_duration, refusing values outside [shortest, longest] with a sentence naming the bound."""
    seconds = _seconds(text)
    if seconds > longest.total_seconds():
        raise ValueError(f"{text.strip()} is too long: at most {notation(longest)}")
    if seconds < shortest.total_seconds():
        raise ValueError(f"{text.strip()} is too short: at least {notation(shortest)}")
    return timedelta(seconds=seconds)


def notation(value: timedelta) -> str:
    """routing.yaml's syntax, the inverse of parse_duration for whole seconds: 5400s -> "1h30m"; zero -> "0s"."""
    seconds = int(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")


_NAMES = {"ko": ("일", "시간", "분", "초"), "en": ("d", "h", "m", "s")}


def format_duration(value: float | timedelta | None, locale: str = "ko", missing: str = "-") -> str:
    """A duration for people, at most two units: 45초, 14분, 1시간 25분, 24시간, 3일 2시간 (en: 45s, 1h 25m).

    Under a minute in seconds; from a minute on rounded to the minute; days only from two days on (an SLA of
    24h reads "24시간"). The sign is dropped (the sentence says "ago", "left" or "late"); None is `missing`;
    a locale not starting with "ko" gets English.
    """
    if value is None:
        return missing
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not math.isfinite(seconds):
        raise ValueError(f"not a duration: {value!r}")
    day, hour, minute, second = _NAMES["ko" if locale.lower().startswith("ko") else "en"]
    whole = round(abs(seconds))
    if whole < 60:
        return f"{whole}{second}"
    days, minutes = divmod(round(whole / 60), 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, day), (hours, hour)] if days >= 2 else [(hours + 24 * days, hour), (minutes, minute)]
    return " ".join(f"{n}{unit}" for n, unit in parts if n)
