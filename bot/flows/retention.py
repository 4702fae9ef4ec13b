"""The retention purge: tickets older than routing.yaml's `retention` leave Redis, their figures stay.

Why a purge job and not an EXPIRE on each ticket: before a ticket goes, its part in the day's department
figures must be kept, and a key that expires on its own tells no one. So the cron runs this every hour over
the creation index (oldest first, in batches); each batch is folded into the per-day aggregates and deleted in
one transaction. The keys that only point at a ticket (thread and conversation pointers, follow-ups, leases,
once-markers, dedupe marks) carry their own lifetimes, set where they are written, and need no purge.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.figures import TRIAGE, DayFigures, figures_of
from bot.domain.tickets import Ticket

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

LEASE_S = 900
BATCH = 500


def fold(tickets: Sequence[Ticket], tz: ZoneInfo, now: datetime) -> dict[tuple[date, str], DayFigures]:
    """The tickets' figures by (local day of their clock start, department)."""
    groups: dict[tuple[date, str], list[Ticket]] = defaultdict(list)
    for t in tickets:
        groups[(t.clock_origin.astimezone(tz).date(), t.department or TRIAGE)].append(t)
    return {key: figures_of(items, now) for key, items in groups.items()}


def purge(ctx: Context, now: datetime, batch: int = BATCH, most: int = 200_000) -> int:
    """Fold and delete the tickets past the retention (at most `most` per run); how many went."""
    if not ctx.store.lease("retention", LEASE_S):
        return 0  # another purge is running
    cutoff = (now - ctx.routing.retention).timestamp()
    done = 0
    try:
        while done < most:
            ids = ctx.store.tickets_created_before(cutoff, batch)
            if not ids:
                break
            tickets = ctx.store.tickets(ids)
            last = len(ids) < batch
            horizon = cutoff if last else max(t.clock_origin.timestamp() for t in tickets) if tickets else cutoff
            ctx.store.fold_and_purge(ids, tickets, fold(tickets, ctx.routing.timezone, now), horizon)
            ctx.store.lease_extend("retention", LEASE_S)
            done += len(ids)
            if last:
                break
    finally:
        ctx.store.release("retention")
    if done:
        log.info("retention: %d tickets older than %s folded into day figures and removed", done,
                 ctx.routing.retention)
    return done
