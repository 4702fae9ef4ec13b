"""Redis high availability with real processes: a primary, a replica and three Sentinels on loopback ports; the
bot's Procfile processes on `REDIS_URL=redis+sentinel://…`; the primary is SIGKILLed during a burst of mentions
and replies. Sentinel promotes the replica and the bot carries on by itself: every mention is posted once,
every reply reaches X once, and a reminder scheduled before the kill fires after it.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from bot.adapters.redis_url import connect
from bot.embedded_redis import find_redis_server, free_port
from tests.e2e.test_spine import ACCOUNT, replies_on_x, ticket_in
from tests.harness import Bot, wait_for

pytestmark = pytest.mark.slow

BASE = (Path(__file__).resolve().parent.parent / "data" / "routing.yaml").read_text(encoding="utf-8")
# A reminder due a few seconds after the kill: the timer was scheduled on the primary that died.
TIMED = BASE.replace('standard: {first_response: 24h, remind: ["50%", "90%"]}',
                     'standard: {first_response: 24s, remind: ["50%"]}')
assert TIMED != BASE
SERVICE = "mymaster"


@dataclass
class Cluster:
    """A primary, a replica and three Sentinels: each a real redis-server process of its own."""

    tmp: Path
    primary: int = field(default_factory=free_port)
    replica: int = field(default_factory=free_port)
    sentinels: list[int] = field(default_factory=lambda: [free_port() for _ in range(3)])
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.sentinels) + f"/{SERVICE}/0"

    def _start(self, port: int, *args: str, conf: str | None = None) -> None:
        where = self.tmp / str(port)
        where.mkdir(parents=True, exist_ok=True)
        command = [find_redis_server()]
        if conf is not None:
            (where / "sentinel.conf").write_text(conf)
            command += [str(where / "sentinel.conf"), "--sentinel"]
        command += ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(where), "--save", "",
                    "--appendonly", "no", "--logfile", str(where / "log"), *args]
        self.procs[port] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self) -> Cluster:
        self._start(self.primary)
        self._start(self.replica, "--replicaof", "127.0.0.1", str(self.primary))
        for port in self.sentinels:
            self._start(port, conf=(f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary} 2\n"
                                    f"sentinel down-after-milliseconds {SERVICE} 500\n"
                                    f"sentinel failover-timeout {SERVICE} 3000\n"
                                    f"sentinel parallel-syncs {SERVICE} 1\n"))
        wait_for(self.ready, 30, 0.2, "the replica in sync and every Sentinel knowing the others and the replica")
        return self

    def ready(self) -> bool:
        try:
            if redis.Redis(port=self.replica).info("replication").get("master_link_status") != "up":
                return False
            for port in self.sentinels:
                s = redis.Redis(port=port, decode_responses=True)
                if not s.sentinel_slaves(SERVICE) or len(s.sentinel_sentinels(SERVICE)) < 2:
                    return False
        except redis.RedisError:
            return False
        return True

    def primary_port(self) -> int:
        host, port = redis.Redis(port=self.sentinels[0]).sentinel_get_master_addr_by_name(SERVICE)
        return int(port)

    def kill_primary(self) -> None:
        proc = self.procs[self.primary]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "redis")
    try:
        yield c.start()
    finally:
        c.stop()


def test_primary_killed_mid_burst_sentinel_promotes_and_nothing_is_lost_or_doubled(tmp_path, cluster, slack, x):
    bot = Bot(tmp_path, cluster.url, slack, x, TIMED).start()
    try:
        created = datetime.now(UTC)
        timed = x.add_mention(f"@{ACCOUNT} 아이폰 배송 문의 timer", username="timer", created_at=created)
        timer_msg = ticket_in(slack, "C0IPHONE", "timer")

        before = [x.add_mention(f"@{ACCOUNT} {kind} 문의 {i}", username=f"before{i}")
                  for i, kind in enumerate(["아이폰", "와이브로", "요금"] * 3)]
        # Replies to tickets already posted, written while the burst is still being posted.
        answered = [x.add_mention(f"@{ACCOUNT} 아이폰 답변 요청 {i}", username=f"asks{i}") for i in range(3)]
        asks = [ticket_in(slack, "C0IPHONE", f"asks{i}") for i in range(3)]
        for i, msg in enumerate(asks):
            slack.user_message("C0IPHONE", f"장애 전 답변 {i}", user="U0STAFF1", thread_ts=msg["ts"])

        cluster.kill_primary()
        killed = time.monotonic()
        after = [x.add_mention(f"@{ACCOUNT} {kind} 문의 이후 {i}", username=f"after{i}")
                 for i, kind in enumerate(["아이폰", "와이브로", "요금"] * 2)]
        for i, msg in enumerate(asks):
            slack.user_message("C0IPHONE", f"장애 중 답변 {i}", user="U0STAFF2", thread_ts=msg["ts"])

        wait_for(lambda: cluster.primary_port() == cluster.replica, 30, 0.2, "Sentinel to promote the replica")
        promoted_in = time.monotonic() - killed

        for i in range(len(before)):
            ticket_in(slack, ("C0IPHONE", "C0WIBRO", "C0TRIAGE")[i % 3], f"before{i}")
        for i in range(len(after)):
            ticket_in(slack, ("C0IPHONE", "C0WIBRO", "C0TRIAGE")[i % 3], f"after{i}")
        for tweet_id in answered:
            wait_for(lambda t=tweet_id: len(replies_on_x(x, t)) >= 2, 40, 0.1, f"both replies to {tweet_id} on X")
        reminder = wait_for(lambda: [m for m in slack.thread("C0IPHONE", timer_msg["ts"])[1:]
                                     if m.get("text", "").startswith("⏰")], 40, 0.2, "the reminder after the kill")
        bot.settle(x, polls=2)

        everything = [m for c in ("C0IPHONE", "C0WIBRO", "C0TRIAGE") for m in slack.messages(c)]
        handles = [h for m in everything for h in [m.get("text", "")] if "@before" in h or "@after" in h]
        for i in range(len(before)):
            assert sum(f"@before{i}" in t for t in handles) == 1, f"before{i} not posted exactly once"
        for i in range(len(after)):
            assert sum(f"@after{i}" in t for t in handles) == 1, f"after{i} not posted exactly once"
        for i, tweet_id in enumerate(answered):
            assert sorted(t["text"] for t in replies_on_x(x, tweet_id)) == [f"장애 전 답변 {i}", f"장애 중 답변 {i}"]
        assert len(reminder) == 1
        assert len(replies_on_x(x, timed)) == 0
        print(f"failover: Sentinel promoted the replica {promoted_in:.1f} s after the kill")
    finally:
        bot.stop()
        print(bot.logs())


def test_a_command_in_flight_when_the_primary_dies_is_sent_again_to_the_promoted_replica(cluster):
    """redis-py re-makes a connection dropped mid-command at the address it had (redis/redis-py#3874): a worker
    waiting for a job (a blocking pop) kept dialling the dead primary for its whole 20 s of retries, although
    Sentinel named the new primary within seconds, then failed. The bot's connections ask Sentinel each time."""
    client = connect(cluster.url, decode_responses=True)
    got: list[object] = []
    waiting = threading.Thread(target=lambda: got.append(client.blpop(["wakeup"], timeout=60)), daemon=True)
    waiting.start()
    old, new = redis.Redis(port=cluster.primary), redis.Redis(port=cluster.replica)
    wait_for(lambda: old.info("clients")["blocked_clients"] == 1, 10, 0.05, "the pop waiting on the primary")
    cluster.kill_primary()
    wait_for(lambda: cluster.primary_port() == cluster.replica, 30, 0.2, "Sentinel to promote the replica")
    wait_for(lambda: new.info("clients")["blocked_clients"] == 1, 15, 0.1, "the same pop waiting on the new primary")
    new.rpush("wakeup", "go")
    waiting.join(10)
    assert [tuple(g) for g in got] == [("wakeup", "go")]  # type: ignore[arg-type]
