"""Redis keys, and the only place that knows them. Every write that guards a side effect is atomic.

One class, assembled from a module per concern: tickets (and the Slack outbox), relays, storms, metrics.
"""

from __future__ import annotations

from typing import Any

import redis

from bot.adapters.store.metrics import MetricKeys
from bot.adapters.store.relays import Relay, RelayKeys
from bot.adapters.store.storms import StormKeys
from bot.adapters.store.tickets import _CLAIM, _CREATE, P, TicketKeys, hash_to_ticket, ticket_to_hash

__all__ = ["P", "Relay", "Store", "hash_to_ticket", "ticket_to_hash"]


class Store(TicketKeys, RelayKeys, StormKeys, MetricKeys):
    """Typed access to the bot's Redis data. Pass a redis.Redis with decode_responses=True."""

    def __init__(self, r: redis.Redis) -> None:
        # redis-py's return types are unions of every response shape; with decode_responses they are str.
        self.r: Any = r
        self._create = r.register_script(_CREATE)
        self._claim = r.register_script(_CLAIM)
