"""The bench's world: a real redis-server, the Slack and X stand-ins in this process, the Procfile processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.embedded_redis import RedisProcess, free_port, start_redis
from bot.launcher import procfile
from sandbox.http import Reply, Request, StandInServer
from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn

ROOT = Path(__file__).resolve().parents[1]  # the checkout: the bench runs from one
T = TypeVar("T")


class BenchError(RuntimeError):
    pass


def wait_for(what: Callable[[], T], timeout: float, interval: float = 0.05, message: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found or time.monotonic() > deadline:
            if not found:
                raise BenchError(f"timed out after {timeout:.0f} s waiting for {message}")
            return found
        time.sleep(interval)


def no_delay(stand_in: StandInServer) -> None:
    """TCP_NODELAY on the stand-in's listening socket (accepted sockets inherit it on Linux).

    The stand-ins write a response's headers and body separately; with Nagle on, a keep-alive client (tweepy's
    requests session) waits for its own delayed ACK, ~40 ms a call, which real X and Slack never cost.
    """
    httpd = getattr(stand_in, "_httpd", None)
    if httpd is not None:
        httpd.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class TimedX(XStandIn):
    """The X stand-in, noting when each mentions read and each POST /2/tweets (with its text) arrive."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.polls: list[float] = []
        super().__init__(validate_specs=False, enforce_limits=False)  # the bot's own throughput, not X's limits

    def handle(self, request: Request) -> Reply:
        arrived = time.time()
        if request.method == "GET" and request.path.endswith("/mentions"):
            self.polls.append(arrived)
        elif request.method == "POST" and request.path == "/2/tweets":
            try:
                text = str((request.json() or {}).get("text", ""))
            except ValueError:
                text = ""
            self.arrivals.append((arrived, text))
        return super().handle(request)


class Stack:
    """redis-server + stand-ins, and `start()` runs web, worker and cron from the Procfile on them."""

    def __init__(self, tmp: Path, routing_yaml: str, env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.redis: RedisProcess = start_redis(tmp / "redis", aof=True)
        self.slack = SlackStandIn(signing_secret="bench-signing-secret", bot_token="xoxb-bench",
                                  validate_specs=False)
        self.x = TimedX()
        for stand_in in (self.slack, self.x):
            stand_in.start()
            no_delay(stand_in)
        self.port = free_port()
        self.routing_file = tmp / "routing.yaml"
        self.routing_file.write_text(routing_yaml, encoding="utf-8")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "REDIS_"))},
            "REDIS_URL": self.redis.url, "PORT": str(self.port), "ROUTING_FILE": str(self.routing_file),
            "SLACK_BOT_TOKEN": self.slack.bot_token, "SLACK_SIGNING_SECRET": self.slack.signing_secret,
            "SLACK_API_URL": self.slack.url + "/api/", "X_API_URL": self.x.url,
            "X_BEARER_TOKEN": "bench-bearer", "X_API_KEY": "bench-key", "X_API_SECRET": "bench-secret",
            "X_ACCESS_TOKEN": "bench-access", "X_ACCESS_TOKEN_SECRET": "bench-access-secret",
            "X_POLL_SECONDS": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1", **(env or {}),
        }
        self.slack.events_url = self.url + "/slack/events"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int = 1) -> Stack:
        """web, cron and `workers` worker processes (the Procfile's worker line, run that many times)."""
        commands = dict(procfile(ROOT / "Procfile"))
        names = ["web", "cron"] + [("worker" if n == 0 else f"worker{n + 1}") for n in range(workers)]
        for name in names:
            log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            command = commands["worker" if name.startswith("worker") else name]
            self.procs[name] = subprocess.Popen(command, shell=True, cwd=ROOT, env=self.env, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._healthy, 60, 0.1, "the web process to answer /healthz")
        return self

    def _healthy(self) -> bool:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise BenchError(f"the {name} process exited ({proc.returncode}):\n{self.log_tail(name)}")
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as resp:  # noqa: S310 - loopback
                return bool(resp.status == 200)
        except OSError:
            return False

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()
        self.slack.stop()
        self.x.stop()
        self.redis.stop()

