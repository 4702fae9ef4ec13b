"""Starts the bot's processes (the Procfile's web, worker, cron; any other command) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.embedded_redis import free_port
from bot.launcher import procfile

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def wait_for(what: Callable[[], T], timeout: float = 20.0, interval: float = 0.05, message: str = "") -> T:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = what()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or what}; last value: {last!r}")


def _running_in_group(pgid: int) -> bool:
    """Any process of the group still alive (zombies, left for init to reap, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


class Bot:
    """The real processes from the Procfile, on the stand-ins and the test Redis."""

    def __init__(self, tmp: Path, redis_url: str, slack: Any, x: Any, routing: str | Path,
                 env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.port = free_port()
        routing_path = Path(routing)
        if not routing_path.exists():
            routing_path = tmp / "routing.yaml"
            routing_path.write_text(str(routing), encoding="utf-8")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))},
            "REDIS_URL": redis_url, "PORT": str(self.port), "ROUTING_FILE": str(routing_path),
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.url.rstrip("/") + "/api/", "X_API_URL": x.url,
            "X_BEARER_TOKEN": "test-bearer", "X_API_KEY": "test-key", "X_API_SECRET": "test-secret",
            "X_ACCESS_TOKEN": "test-access", "X_ACCESS_TOKEN_SECRET": "test-access-secret",
            "X_POLL_SECONDS": "1", "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.commands = dict(procfile(ROOT / "Procfile"))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        slack.events_url = self.url + "/slack/events"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *names: str) -> Bot:
        for name in names or ("web", "worker", "cron"):
            self.start_command(name, self.commands[name])
        if "web" in (names or ("web",)):
            wait_for(self.healthy, 30, 0.1, "the web process to answer /healthz")
        return self

    def start_command(self, name: str, command: str, env: dict[str, str] | None = None) -> Bot:
        """Run a command that is not in the Procfile (`python -m bot socket`) as one of the processes:
        same environment (plus env), its output in <name>.log, stopped and waited for like the others."""
        out = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen("exec " + command, shell=True, cwd=ROOT, env={**self.env, **(env or {})},
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def log(self, name: str) -> str:
        """Everything one process has written so far."""
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the process group and wait until no process of it is left running.

        Waiting for the shell alone is not enough: a worker finishing its last job after a test had ended
        could write into the next test's Redis (a stale cursor hid that test's mentions)."""
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 15
        while proc.poll() is None or _running_in_group(proc.pid):
            if time.monotonic() > deadline:
                # A process that ignores SIGTERM this long (seen once in CI: a gunicorn worker that got the
                # signal while still booting) is killed, as a supervisor would; the test's outcome stands.
                with open(self.tmp / f"{name}.log", "a") as log:
                    log.write(f"harness: {name} still running 15 s after signal {sig}; SIGKILL\n")
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                deadline = float("inf")
            time.sleep(0.02)
        proc.wait()

    def drained(self, within: float = 3.0) -> bool:
        """Nothing left for the bot to do: both queues empty, no job running, no scheduled job due within
        `within` seconds, the Slack post and X relay outboxes empty."""
        from rq import Queue, Worker
        from rq.job import Job
        from rq.registry import ScheduledJobRegistry, StartedJobRegistry

        from bot.adapters.jobqueue import QUEUES
        from bot.adapters.redis_url import connect

        conn = connect(self.env["REDIS_URL"])
        horizon = time.time() + within
        alive = {p.pid for p in self.procs.values() if p.poll() is None}

        def running(job_id: str) -> bool:  # a job a killed worker left "started" is not running
            job = Job.fetch_many([job_id], connection=conn)[0]
            worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=conn) \
                if job is not None and job.worker_name else None
            return worker is not None and worker.pid in alive

        for name in QUEUES:
            queue = Queue(name, connection=conn)
            if len(queue) or any(running(j) for j in StartedJobRegistry(queue=queue).get_job_ids()):
                return False
            if conn.zcount(ScheduledJobRegistry(queue=queue).key, "-inf", horizon):
                return False
        return not (conn.zcard("esc:outbox:post") or conn.zcard("esc:outbox:relay"))

    def settle(self, x: Any = None, polls: int = 0, within: float = 3.0, timeout: float = 60.0) -> None:
        """Wait until the bot is drained (see `drained`), after `polls` more reads of X's mentions when given:
        then "nothing else happened" can be asserted, without a fixed sleep that hopes it is long enough."""
        if x is not None and polls:
            def reads() -> int:
                return sum(1 for r in list(x.requests) if r["path"].endswith("/mentions"))
            seen = reads()
            wait_for(lambda: reads() >= seen + polls, timeout, 0.05, f"{polls} more polls of X's mentions")
        wait_for(lambda: self.drained(within), timeout, 0.05, "the queues, the scheduler and the outboxes to drain")

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in self.tmp.glob("*.log"))


def make_context(redis_url: str, slack: Any, x: Any | None = None, routing: str | Path | None = None,
                 **env: str) -> Any:
    """A Context built in-process on the test Redis and the stand-ins, for flow tests with an explicit now."""
    import redis

    from bot.context import Context
    from bot.routing import load_routing, parse_routing
    from bot.settings import load_settings

    settings = load_settings({
        "REDIS_URL": redis_url, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.url + "/api/",
        "X_API_URL": x.url if x is not None else "http://127.0.0.1:9", "X_BEARER_TOKEN": "b", "X_API_KEY": "k",
        "X_API_SECRET": "s", "X_ACCESS_TOKEN": "a", "X_ACCESS_TOKEN_SECRET": "as",
        # In-process flows post what Slack takes at once (no pace of our own) unless a test asks for one.
        "SLACK_POST_INTERVAL": "0", **env})
    if routing is None:
        loaded = load_routing(ROOT / "tests" / "data" / "routing.yaml")
    elif isinstance(routing, Path) or "\n" not in str(routing):
        loaded = load_routing(routing)
    else:
        loaded = parse_routing(str(routing), "routing.yaml")
    return Context(settings=settings, routing=loaded, redis=redis.Redis.from_url(redis_url, decode_responses=True))
