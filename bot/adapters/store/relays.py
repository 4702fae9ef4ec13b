"""Relay keys: a staff reply on its way to X, and the outbox of replies waiting for their time.

Every change of a relay is a compare-and-set (WATCH on the relay and its ticket, then one MULTI): the relay, its
ticket and the conversation pointer change together or not at all, and a worker holding a stale copy changes
nothing. Nothing writes a whole relay back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import fields
from typing import Any

from bot.adapters.store.lazy_redis import redis
from bot.adapters.store.tickets import P, hash_to_ticket, ticket_to_hash
from bot.domain.relays import Relay, RelayState
from bot.domain.tickets import Ticket

RELAY_TTL_S = 90 * 86400  # a relay and its outbox entry; the retention work will read this from `retention:`
CLAIM_TTL_S = 10  # a sending worker renews its claim every few seconds; a lapsed claim means a dead worker

__all__ = ["CLAIM_TTL_S", "RELAY_TTL_S", "Relay", "RelayKeys"]

Update = Callable[[Relay], Mapping[str, str | float | int] | None]
TicketUpdate = Callable[[Ticket], Ticket]


def _relay_from(h: Mapping[str, str]) -> Relay:
    kw: dict[str, Any] = {f.name: h[f.name] for f in fields(Relay) if f.name in h}
    kw["send_at"] = float(kw.get("send_at") or 0)
    kw["attempts"] = int(kw.get("attempts") or 0)
    return Relay(**kw)


def _claim_key(key: str) -> str:
    return P + "relay-claim:" + key


class RelayKeys:
    r: Any
    durable: Callable[[], None]  # Store.durable

    def _write_relay(self, pipe: Any, key: str, values: Mapping[str, str], state: str, send_at: float) -> None:
        pipe.hset(P + "relay:" + key, mapping=values)
        pipe.expire(P + "relay:" + key, RELAY_TTL_S)
        if state in (RelayState.PENDING, RelayState.SENDING):
            pipe.zadd(P + "outbox:relay", {key: send_at})
            pipe.expire(P + "outbox:relay", RELAY_TTL_S)
        else:
            pipe.zrem(P + "outbox:relay", key)

    @staticmethod
    def _write_ticket(pipe: Any, ticket: Ticket) -> None:
        h = ticket_to_hash(ticket)
        pipe.hset(P + "t:" + ticket.tweet_id, mapping={k: v for k, v in h.items() if v})
        empty = [k for k, v in h.items() if not v]
        if empty:
            pipe.hdel(P + "t:" + ticket.tweet_id, *empty)

    # -- relays ------------------------------------------------------------------------------------------
    def add_relay(self, relay: Relay, ticket: TicketUpdate | None = None) -> bool:
        """Store a new relay unless one exists for that Slack message, with its ticket's change, in one step."""
        key = P + "relay:" + relay.key
        tkey = P + "t:" + relay.ticket
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key, tkey)
                    if pipe.exists(key):
                        pipe.unwatch()
                        return False
                    h = pipe.hgetall(tkey)
                    pipe.multi()
                    values = {f.name: str(getattr(relay, f.name)) for f in fields(Relay)}
                    self._write_relay(pipe, relay.key, values, relay.state, relay.send_at)
                    if ticket is not None and h and "created_at" in h:
                        self._write_ticket(pipe, ticket(hash_to_ticket(h)))
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue

    def relay(self, channel: str, ts: str) -> Relay | None:
        h = self.r.hgetall(P + f"relay:{channel}:{ts}")
        return _relay_from(h) if h and "ticket" in h else None

    def change_relay(self, channel: str, ts: str, expect: Collection[str], update: Update,
                     ticket: TicketUpdate | None = None, claim_by: str = "",
                     link_tweet: str = "") -> Relay | None:
        """Compare-and-set: when the stored relay's state is one of `expect` and `update(relay)` gives values,
        write them, with `ticket(current ticket)` and the conversation pointer, in one MULTI. Returns the relay
        as written, or None when nothing was written (another worker got there first, or `update` said no)."""
        key = P + f"relay:{channel}:{ts}"
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    h = pipe.hgetall(key)
                    if not h or "ticket" not in h or h.get("state") not in expect:
                        pipe.unwatch()
                        return None
                    current = _relay_from(h)
                    tkey = P + "t:" + current.ticket
                    if ticket is not None:
                        pipe.watch(tkey)
                    changes = update(current)
                    if changes is None:
                        pipe.unwatch()
                        return None
                    values = {k: str(v) for k, v in changes.items()}
                    after = _relay_from({**h, **values})
                    th = pipe.hgetall(tkey) if ticket is not None else None
                    pipe.multi()
                    self._write_relay(pipe, after.key, values, after.state, after.send_at)
                    if ticket is not None and th and "created_at" in th:
                        self._write_ticket(pipe, ticket(hash_to_ticket(th)))
                    if claim_by:
                        pipe.set(_claim_key(after.key), claim_by, ex=CLAIM_TTL_S)
                    elif after.state != RelayState.SENDING:
                        pipe.delete(_claim_key(after.key))
                    if link_tweet:
                        pipe.set(P + "conv:" + link_tweet, after.ticket)
                    pipe.execute()
                    if link_tweet:
                        self.durable()  # the record of a tweet on X: it must outlive a failover
                    return after
                except redis.WatchError:
                    continue

    def renew_claim(self, key: str, worker: str) -> bool:
        """Keep a send's claim alive while its worker lives; False when it is no longer this worker's."""
        script = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                  "return redis.call('expire', KEYS[1], ARGV[2]) end return 0")
        return bool(self.r.eval(script, 1, _claim_key(key), worker, CLAIM_TTL_S))

    def claim_holder(self, key: str) -> str | None:
        """Who holds a send right now (None: nobody alive does)."""
        return self.r.get(_claim_key(key))  # type: ignore[no-any-return]

    def due_relays(self, before: float) -> list[tuple[str, str]]:
        keys = self.r.zrangebyscore(P + "outbox:relay", "-inf", before)
        return [tuple(k.split(":", 1)) for k in keys]  # type: ignore[misc]
