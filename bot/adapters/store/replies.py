"""Saved-reply keys: how often each saved reply went out, per day, department and name.

    esc:saved:<YYYY-MM-DD>   hash, "<department id>:<name>" -> sends that day (routing timezone); triage's
                             department id is empty (":sorry"). Neither ids nor names hold a ":", so the
                             field splits unambiguously. Expires with the retention plus two days, so a
                             report over the whole retention still finds its first day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from bot.adapters.store.tickets import P

SAVED = P + "saved:"
SPARE_S = 2 * 86400


class SavedReplyKeys:
    r: Any
    retention_s: int

    def count_saved_reply(self, day: date, department: str, name: str) -> None:
        """One send of saved reply `name` (X took it) by `department` ("" for triage) on `day`."""
        key = SAVED + day.isoformat()
        pipe = self.r.pipeline(transaction=True)
        pipe.hincrby(key, f"{department}:{name}", 1)
        pipe.expire(key, self.retention_s + SPARE_S)
        pipe.execute()

    def saved_reply_counts(self, days: Iterable[date]) -> dict[str, dict[str, int]]:
        """{department id or "" (triage): {name: sends}} summed over `days`; one round trip."""
        days = list(days)
        pipe = self.r.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(SAVED + day.isoformat())
        found: dict[str, dict[str, int]] = {}
        for raw in pipe.execute():
            for field, count in raw.items():
                department, _, name = field.partition(":")
                per = found.setdefault(department, {})
                per[name] = per.get(name, 0) + int(count)
        return found
