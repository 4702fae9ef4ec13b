"""Metric keys: counters and histograms in Redis, so every process adds to the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adapters.store.tickets import P


class MetricKeys:
    r: Any

    # -- metrics: counters in Redis, so every process (web, worker, cron) adds to the same figures ------
    def count(self, metric: str, label: str = "", by: int = 1) -> None:
        self.r.hincrby(P + "m:" + metric, label, by)

    def counts(self, metric: str) -> dict[str, int]:
        return {k: int(v) for k, v in self.r.hgetall(P + "m:" + metric).items()}

    def counts_float(self, metric: str) -> dict[str, float]:
        return {k: float(v) for k, v in self.r.hgetall(P + "m:" + metric).items()}

    def observe(self, metric: str, value: float, buckets: Sequence[float]) -> None:
        """A histogram observation: one pipeline, cumulative buckets as Prometheus wants them."""
        pipe = self.r.pipeline(transaction=False)
        for le in buckets:
            if value <= le:
                pipe.hincrby(P + "m:" + metric, f"le:{le}", 1)
        pipe.hincrby(P + "m:" + metric, "le:+Inf", 1)
        pipe.hincrbyfloat(P + "m:" + metric, "sum", value)
        pipe.execute()

    def outbox_sizes(self) -> dict[str, int]:
        pipe = self.r.pipeline(transaction=False)
        pipe.zcard(P + "outbox:post")
        pipe.zcard(P + "outbox:relay")
        posts, relays = pipe.execute()
        return {"slack_posts": int(posts), "replies": int(relays)}
