"""GET /metrics: Prometheus figures read from Redis (web, worker and cron all write there)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from rq.registry import ScheduledJobRegistry

from bot.context import Context

RELAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30, 60, 300)


class RedisCollector:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        store, queue = self.ctx.store, self.ctx.queue
        depth = GaugeMetricFamily("escalator_queue_depth", "Jobs waiting", labels=["queue"])
        depth.add_metric(["ready"], len(queue) + len(queue.bulk))
        depth.add_metric(["ready_bulk"], len(queue.bulk))
        depth.add_metric(["scheduled"], ScheduledJobRegistry(queue=queue).count
                         + ScheduledJobRegistry(queue=queue.bulk).count)
        for name, size in store.outbox_sizes().items():
            depth.add_metric([f"outbox_{name}"], size)
        yield depth
        failures = CounterMetricFamily("escalator_failures", "Failures by kind", labels=["kind"])
        for kind, n in sorted(store.counts("failures").items()):
            failures.add_metric([kind], n)
        yield failures
        events = CounterMetricFamily("escalator_events", "Things the bot did", labels=["kind"])
        for kind, n in sorted(store.counts("events").items()):
            events.add_metric([kind], n)
        yield events
        breaches = CounterMetricFamily("escalator_sla_breaches", "SLA breaches", labels=["department"])
        for dept, n in sorted(store.counts("breaches").items()):
            breaches.add_metric([dept or "triage"], n)
        yield breaches
        raw = store.counts_float("relay_latency_seconds")
        buckets = [(str(le), raw.get(f"le:{le}", 0)) for le in RELAY_BUCKETS] + [("+Inf", raw.get("le:+Inf", 0))]
        latency = HistogramMetricFamily("escalator_relay_latency_seconds",
                                        "From a staff reply in Slack to its tweet on X (including the hold)")
        latency.add_metric([], buckets, sum_value=raw.get("sum", 0.0))
        yield latency


def render(ctx: Context) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(ctx))  # type: ignore[arg-type]
    return generate_latest(registry)
