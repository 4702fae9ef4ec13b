"""Retention keys: tickets past the retention leave Redis, folded into per-day department figures that stay.

    esc:agg:<YYYY-MM-DD>   hash, department id -> DayFigures JSON, for the day (routing timezone) of the
                           tickets' clock start; never expires (a few hundred bytes per department and day)
    esc:agg:horizon        the clock start before which every ticket has been folded into esc:agg:*

Folding and deleting happen in one MULTI, watched, so a ticket is counted exactly once: either it is still a
ticket, or it is in the figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.adapters.store.lazy_redis import redis
from bot.adapters.store.tickets import P, thread_key
from bot.domain.figures import DayFigures
from bot.domain.tickets import Ticket

AGG = P + "agg:"
HORIZON = P + "agg:horizon"


class RetentionKeys:
    r: Any

    def tickets_created_before(self, before_ts: float, limit: int) -> list[str]:
        """The oldest tickets whose clock started before `before_ts`, oldest first."""
        return list(self.r.zrangebyscore(P + "idx:created", "-inf", f"({before_ts}", start=0, num=limit))

    def fold_and_purge(self, ids: Sequence[str], tickets: Sequence[Ticket],
                       figures: Mapping[tuple[date, str], DayFigures], horizon_ts: float) -> None:
        """Add `figures` to the per-day aggregates and delete the tickets `ids`, all or nothing.

        With each ticket go the pointers it knows of: its thread's and its conversation's. The others (our
        replies' conversation pointers, follow-ups) expire by themselves, as old as the ticket."""
        keys = sorted({AGG + day.isoformat() for day, _ in figures})
        for _ in range(10):
            pipe = self.r.pipeline(transaction=True)
            try:
                if keys:
                    pipe.watch(*keys)
                stored = {}
                for day, dept in figures:
                    raw = self.r.hget(AGG + day.isoformat(), dept) if keys else None
                    stored[(day, dept)] = DayFigures.loads(raw) if raw else DayFigures()
                pipe.multi()
                for (day, dept), extra in figures.items():
                    pipe.hset(AGG + day.isoformat(), dept, stored[(day, dept)].add(extra).dumps())
                if ids:
                    pipe.delete(*(P + "t:" + i for i in ids))
                    pipe.zrem(P + "idx:created", *ids)
                    pipe.zrem(P + "outbox:post", *ids)  # one Slack never took, for all that time: given up
                for t in tickets:
                    if t.channel and t.message_ts:
                        pipe.hdel(thread_key(t.channel, t.message_ts), t.message_ts)
                        pipe.hdel(P + "threads:" + t.channel, t.message_ts)  # earlier versions: one hash per channel
                    if t.conversation_id and t.conversation_id != t.tweet_id:
                        pipe.delete(P + "conv:" + t.conversation_id)
                pipe.set(HORIZON, horizon_ts)
                pipe.execute()
                return
            except redis.WatchError:
                continue
            finally:
                pipe.reset()
        raise RuntimeError("the day aggregates kept changing under the retention purge; it will run again")

    def day_figures(self, days: Sequence[date]) -> dict[date, dict[str, DayFigures]]:
        """The stored aggregates of these days (days without any are left out); one round trip."""
        pipe = self.r.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(AGG + day.isoformat())
        found = {}
        for day, raw in zip(days, pipe.execute(), strict=True):
            if raw:
                found[day] = {dept: DayFigures.loads(text) for dept, text in raw.items()}
        return found

    def purged_before(self) -> float:
        """The clock start before which tickets have left Redis (0: none yet)."""
        return float(self.r.get(HORIZON) or 0)
