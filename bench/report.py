"""Figure 4: today's `report --format json` over a year of synthetic tickets, and Redis memory per ticket."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from bench.data import departments, resp, routing_yaml, synthetic_tickets, ticket_commands
from bench.stack import ROOT
from bot.adapters.store import P
from bot.embedded_redis import start_redis
from bot.flows.report import day_window
from bot.routing import parse_routing

CHUNK = 20_000


@dataclass(frozen=True)
class ReportResult:
    tickets: int
    today: int  # tickets in today's report
    load_s: float
    build_ms: float  # report_cli.build + json.dumps, in process (median of runs)
    floor_ms: float  # ZRANGEBYSCORE + pipelined HGETALL of the same tickets, nothing else
    cli_ms: float  # `python -m bot report --format json`, whole subprocess (median)
    cli_floor_ms: float  # `python -c pass`
    bytes_per_ticket: float  # INFO memory used_memory delta / tickets
    payload_per_ticket: float  # the bytes of the keys, fields and values themselves


def _chunk(args: tuple[int, int, datetime, datetime]) -> tuple[bytes, int]:
    first, last, now, today = args
    commands = [c for t in synthetic_tickets(first, last, now, today) for c in ticket_commands(t)]
    payload = sum(len(a.encode()) for c in commands for a in c[1:] if c[0] != "ZADD") + \
        sum(len(c[3]) + 8 for c in commands if c[0] == "ZADD")  # a sorted-set member and its 8-byte score
    return b"".join(resp(c) for c in commands), payload


def load(url_port: int, count: int, now: datetime, today: datetime) -> int:
    """Write the tickets with replies switched off (one stream, nothing read back); returns payload bytes."""
    payload = 0
    with socket.create_connection(("127.0.0.1", url_port)) as sock:
        sock.sendall(resp(("CLIENT", "REPLY", "OFF")))
        jobs = [(i, min(i + CHUNK, count), now, today) for i in range(0, count, CHUNK)]
        with ProcessPoolExecutor(max_workers=max(1, (os.cpu_count() or 1))) as pool:
            for blob, size in pool.map(_chunk, jobs):
                sock.sendall(blob)
                payload += size
        sock.sendall(resp(("CLIENT", "REPLY", "ON")) + resp(("PING",)))
        answer = b""
        while b"PONG" not in answer:
            answer += sock.recv(64)
    return payload


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(tmp: Path, count: int, runs: int = 7) -> ReportResult:
    routing_file = tmp / "report-routing.yaml"
    routing_file.write_text(routing_yaml(departments(8, 6)), encoding="utf-8")
    routing = parse_routing(routing_file.read_text(encoding="utf-8"))
    server = start_redis(tmp / "report-redis", aof=False)
    try:
        r: Any = redis.Redis(port=server.port, decode_responses=True)  # replies are str, as in the Store
        now = datetime.now(UTC)
        today, until = day_window(now, routing.timezone)
        before = int(r.info("memory")["used_memory"])
        started = time.perf_counter()
        payload = load(server.port, count, now, today)
        load_s = time.perf_counter() - started
        if r.zcard(P + "idx:created") != count:
            raise RuntimeError(f"loaded {r.zcard(P + 'idx:created')} tickets, expected {count}")
        used = int(r.info("memory")["used_memory"]) - before

        env = {**os.environ, "REDIS_URL": server.url, "ROUTING_FILE": str(routing_file), "LOG_LEVEL": "WARNING",
               "ESCALATOR_CACHE_DIR": str(tmp / "cache")}  # the routing cache, as a user's would be: warm
        build = _in_process_build(env)
        todays = len(build()["tickets"])

        def fetch() -> None:
            ids = r.zrangebyscore(P + "idx:created", today.timestamp(), f"({until.timestamp()}")
            pipe = r.pipeline(transaction=False)
            for i in ids:
                pipe.hgetall(P + "t:" + i)
            pipe.execute()

        builds, fetches = [], []
        for _ in range(runs):  # interleaved, so both see the same neighbours
            builds.append(_median_ms(lambda: json.dumps(build(), ensure_ascii=False), 1))
            fetches.append(_median_ms(fetch, 1))
        build_ms, floor_ms = statistics.median(builds), statistics.median(fetches)
        cli = [sys.executable, "-m", "bot", "report", "--format", "json"]
        # As deployed: with bytecode (pip compiles it on install). PYTHONDONTWRITEBYTECODE would make every run
        # compile the bot's modules again (~20 ms), so it is dropped, and a first run writes the bytecode.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(cli, cwd=ROOT, env=env, check=True, capture_output=True)
        clis, bare = [], []
        for _ in range(runs):  # interleaved, so both see the same neighbours
            clis.append(_median_ms(lambda: subprocess.run(cli, cwd=ROOT, env=env, check=True, capture_output=True),
                                   1))
            bare.append(_median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 1))
        cli_ms, cli_floor_ms = statistics.median(clis), statistics.median(bare)
        return ReportResult(count, todays, load_s, build_ms, floor_ms, cli_ms, cli_floor_ms, used / count,
                            payload / count)
    finally:
        from bot.context import reset_context
        from bot.report_context import reset_report_context

        reset_context()
        reset_report_context()
        server.stop()


def _in_process_build(env: dict[str, str]) -> Callable[[], dict[str, Any]]:
    """report_cli.build as the CLI runs it, on the report's Redis and routing (the report's context, until
    reset_report_context())."""
    from bot import report_cli, report_context

    saved = {k: os.environ.get(k) for k in ("REDIS_URL", "ROUTING_FILE", "ESCALATOR_CACHE_DIR")}
    os.environ.update({k: env[k] for k in saved})
    report_context.reset_report_context()
    report_context.report_context()  # built now from the report's environment, which can then go back
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    no_window = argparse.Namespace(since=None, until=None)
    return lambda: report_cli.build(args=no_window).to_json()
