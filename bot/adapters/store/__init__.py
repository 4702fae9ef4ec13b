"""Redis keys, and the only place that knows them. Every write that guards a side effect is atomic.

One class, assembled from a module per concern: tickets (and the Slack outbox), relays, storms, metrics.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.adapters.store.members import MemberKeys
from bot.adapters.store.metrics import MetricKeys
from bot.adapters.store.relays import Relay, RelayKeys
from bot.adapters.store.replies import SavedReplyKeys
from bot.adapters.store.retention import RetentionKeys
from bot.adapters.store.storms import StormKeys
from bot.adapters.store.tickets import _CLAIM, _CREATE, P, TicketKeys, hash_to_ticket, ticket_to_hash
from bot.adapters.store.xlimits import XLimitKeys

if TYPE_CHECKING:  # the report reads through a small RESP client: redis-py is not imported for it
    import redis

__all__ = ["P", "Relay", "Store", "hash_to_ticket", "ticket_to_hash"]


DEFAULT_RETENTION = timedelta(days=90)
WAIT_MS = 50  # how long a write that must survive a failover waits for the replica's acknowledgement

log = logging.getLogger(__name__)


class Store(TicketKeys, RelayKeys, StormKeys, MetricKeys, RetentionKeys, XLimitKeys, SavedReplyKeys, MemberKeys):
    """Typed access to the bot's Redis data. Pass a redis.Redis with decode_responses=True.

    `retention` (routing.yaml) is how long a ticket and everything about it stay: the lifetime given to the
    keys that point at a ticket, and the age at which the retention purge folds tickets into day figures.

    `replicas` (1 behind Sentinel, else 0): how many replicas must have a write that records a side effect
    (a ticket's Slack post, a reply's tweet) before the bot goes on; see `durable`."""

    def __init__(self, r: redis.Redis, retention: timedelta = DEFAULT_RETENTION, replicas: int = 0) -> None:
        self.retention_s = int(retention.total_seconds())
        self.replicas = replicas
        # redis-py's return types are unions of every response shape; with decode_responses they are str.
        self.r: Any = r
        self._create = r.register_script(_CREATE)
        self._claim = r.register_script(_CLAIM)

    def durable(self) -> None:
        """Wait (WAIT, at most WAIT_MS) until a replica holds every write so far, so a failover right after a
        Slack post or a tweet cannot lose the record of it (Redis replicates asynchronously: without this, the
        replica promoted in a failover may miss the last few milliseconds of writes, and the post or the
        tweet would be made again). Without a replica acknowledging in time, the bot goes on and says so."""
        if self.replicas and int(self.r.wait(self.replicas, WAIT_MS)) < self.replicas:
            log.warning("no replica acknowledged a write within %d ms: a failover now could lose it", WAIT_MS)
