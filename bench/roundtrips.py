"""Figure 5: Redis commands and round trips per mention on the ingest path (poll + flush, in this process)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import redis

from bench.data import departments, mention_texts, routing_yaml
from bench.stack import no_delay
from bot.adapters.jobqueue import JobQueue
from bot.context import Context
from bot.embedded_redis import start_redis
from bot.flows import ingest
from bot.routing import parse_routing
from bot.settings import load_settings
from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn


class CountingConnection(redis.Connection):
    """A redis-py connection that counts what it sends: one send is one round trip (a pipeline is one)."""

    sends: ClassVar[int] = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


@dataclass(frozen=True)
class RoundTripResult:
    mentions: int
    commands: int  # INFO commandstats delta
    round_trips: int  # sends on the counting connections (the bot's and RQ's)
    pages: int  # X pages the poll read: the analytic floor is one round trip per page, one per post
    by_command: list[tuple[str, int]]

    @property
    def floor(self) -> float:
        return (self.pages + self.mentions) / self.mentions


def _commands(r: redis.Redis) -> Counter[str]:
    stats = r.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()
                    if name not in ("cmdstat_info", "cmdstat_config")})


def run(tmp: Path, batch: int) -> RoundTripResult:
    depts = departments(8, 6)
    server = start_redis(tmp / "roundtrip-redis", aof=True)
    slack = SlackStandIn(signing_secret="rt-secret", bot_token="xoxb-rt", validate_specs=False)
    x = XStandIn(validate_specs=False)
    for stand_in in (slack, x):
        stand_in.start()
        no_delay(stand_in)
    try:
        settings = load_settings({
            "REDIS_URL": server.url, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.url + "/api/",
            "X_API_URL": x.url, "X_BEARER_TOKEN": "b", "X_API_KEY": "k", "X_API_SECRET": "s",
            "X_ACCESS_TOKEN": "t", "X_ACCESS_TOKEN_SECRET": "ts",
            "SLACK_POST_INTERVAL": "0"})  # round trips, not Slack's pace: every post goes in the one flush

        def counted(decode: bool) -> redis.Redis:
            return redis.Redis(connection_pool=redis.ConnectionPool(
                connection_class=CountingConnection, port=server.port, decode_responses=decode))

        ctx = Context(settings=settings, routing=parse_routing(routing_yaml(depts)), redis=counted(True))
        ctx.queue = JobQueue(counted(False))  # RQ's connection, counted
        x.add_mention("warm up", username="warmup")
        ingest.poll(ctx, datetime.now(UTC))
        ingest.flush_outbox(ctx, datetime.now(UTC))

        plain = redis.Redis(port=server.port)
        plain.config_resetstat()
        CountingConnection.sends = 0
        for n, text in enumerate(mention_texts(depts, batch)):
            x.add_mention(text, username=f"customer{n % 50}")
        pages = -(-batch // 100)
        now = datetime.now(UTC)
        stored = ingest.poll(ctx, now)
        posted = ingest.flush_outbox(ctx, now)
        if stored != batch or posted != batch:
            raise RuntimeError(f"stored {stored} and posted {posted} of {batch} mentions")
        sends = CountingConnection.sends
        commands = _commands(plain)
        return RoundTripResult(batch, sum(commands.values()), sends, pages, commands.most_common(8))
    finally:
        slack.stop()
        x.stop()
        server.stop()
