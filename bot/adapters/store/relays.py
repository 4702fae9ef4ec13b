"""Relay keys: a staff reply on its way to X, and the outbox of replies waiting for their time."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bot.adapters.store.tickets import P


@dataclass
class Relay:
    """A staff reply on its way to X: keyed by the Slack message that carries it."""

    channel: str
    ts: str
    ticket: str
    user: str
    text: str
    state: str = "pending"  # pending | sending | sent | cancelled | refused | failed
    send_at: float = 0.0
    notice_ts: str = ""
    tweet_id: str = ""
    detail: str = ""
    attempts: int = 0

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.ts}"


def _relay_from(h: dict[str, str]) -> Relay:
    kw: dict[str, Any] = {f.name: h[f.name] for f in fields(Relay) if f.name in h}
    kw["send_at"] = float(kw.get("send_at") or 0)
    kw["attempts"] = int(kw.get("attempts") or 0)
    return Relay(**kw)


class RelayKeys:
    r: Any

    # -- relays ------------------------------------------------------------------------------------------
    def add_relay(self, relay: Relay) -> bool:
        """Store a new relay unless one exists for that Slack message (Slack retries, duplicate events)."""
        key = P + "relay:" + relay.key
        if not self.r.hsetnx(key, "state", relay.state):
            return False
        self.save_relay(relay)
        return True

    def relay(self, channel: str, ts: str) -> Relay | None:
        h = self.r.hgetall(P + f"relay:{channel}:{ts}")
        return _relay_from(h) if h and "ticket" in h else None  # type: ignore[arg-type]

    def save_relay(self, relay: Relay) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(P + "relay:" + relay.key, mapping={f.name: str(getattr(relay, f.name)) for f in fields(Relay)})
        if relay.state in ("pending", "sending"):
            pipe.zadd(P + "outbox:relay", {relay.key: relay.send_at})
        else:
            pipe.zrem(P + "outbox:relay", relay.key)
        pipe.execute()

    def claim_relay(self, channel: str, ts: str) -> bool:
        """Move a relay from pending to sending; only one worker wins."""
        script = "if redis.call('hget', KEYS[1], 'state') == 'pending' then " \
                 "redis.call('hset', KEYS[1], 'state', 'sending') return 1 end return 0"
        return bool(self.r.eval(script, 1, P + f"relay:{channel}:{ts}"))

    def due_relays(self, before: float) -> list[tuple[str, str]]:
        keys = self.r.zrangebyscore(P + "outbox:relay", "-inf", before)
        return [tuple(k.split(":", 1)) for k in keys]  # type: ignore[misc]
