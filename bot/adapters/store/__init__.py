"""Redis keys, and the only place that knows them. Every write that guards a side effect is atomic.

One class, assembled from a module per concern: tickets (and the Slack outbox), relays, storms, metrics.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis

from bot.adapters.store.metrics import MetricKeys
from bot.adapters.store.relays import Relay, RelayKeys
from bot.adapters.store.retention import RetentionKeys
from bot.adapters.store.storms import StormKeys
from bot.adapters.store.tickets import _CLAIM, _CREATE, P, TicketKeys, hash_to_ticket, ticket_to_hash
from bot.adapters.store.xlimits import XLimitKeys

__all__ = ["P", "Relay", "Store", "hash_to_ticket", "ticket_to_hash"]


DEFAULT_RETENTION = timedelta(days=90)


class Store(TicketKeys, RelayKeys, StormKeys, MetricKeys, RetentionKeys, XLimitKeys):
    """Typed access to the bot's Redis data. Pass a redis.Redis with decode_responses=True.

    `retention` (routing.yaml) is how long a ticket and everything about it stay: the lifetime given to the
    keys that point at a ticket, and the age at which the retention purge folds tickets into day figures."""

    def __init__(self, r: redis.Redis, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.retention_s = int(retention.total_seconds())
        # redis-py's return types are unions of every response shape; with decode_responses they are str.
        self.r: Any = r
        self._create = r.register_script(_CREATE)
        self._claim = r.register_script(_CLAIM)
