"""A small Redis client for the report command: RESP over one socket, replies parsed by hiredis.

`python -m bot report` is a short-lived process whose figures take tens of milliseconds to read and build,
while importing redis-py takes ~150 ms (it imports asyncio and its own asyncio client). This client speaks just
what the report's reads need (GET, ZRANGEBYSCORE, pipelined HGETALL, ...) with the replies decoded as str, as
redis-py's `decode_responses=True` gives them, so the Store's read methods run on it unchanged. It takes plain
`redis://` and `unix://` URLs without query options; `connect_plain` answers None for anything else (TLS,
Sentinel, options), and the caller uses redis-py's client from bot/adapters/redis_url.py instead.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0


class RedisUnreachable(ConnectionError):
    """The server did not answer (refused, reset, timed out): the CLI says to start Redis or fix REDIS_URL."""


class RespError(Exception):
    """The server answered with an error."""


def _command(args: Sequence[Any]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


class RespClient:
    """One connection; commands answered in order. Not thread-safe (the report is one thread)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = hiredis.Reader(encoding="utf-8", errors="replace")

    def execute_command(self, *args: Any) -> Any:
        return self._round_trip([args])[0]

    def _round_trip(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        try:
            self._sock.sendall(b"".join(_command(c) for c in commands))
            replies: list[Any] = []
            while len(replies) < len(commands):
                reply = self._reader.gets()
                if reply is False:
                    chunk = self._sock.recv(1 << 18)
                    if not chunk:
                        raise RedisUnreachable("Redis closed the connection")
                    self._reader.feed(chunk)
                    continue
                replies.append(reply)
        except OSError as exc:
            raise RedisUnreachable(str(exc)) from exc
        for reply in replies:
            if isinstance(reply, hiredis.ReplyError):
                raise RespError(str(reply))
        return replies

    # -- the reads the Store's report methods make, answered as redis-py (decode_responses=True) would ----
    def ping(self) -> bool:
        return self.execute_command("PING") == "PONG"

    def get(self, key: str) -> str | None:
        return self.execute_command("GET", key)  # type: ignore[no-any-return]

    def exists(self, *keys: str) -> int:
        return int(self.execute_command("EXISTS", *keys))

    def hget(self, key: str, field: str) -> str | None:
        return self.execute_command("HGET", key, field)  # type: ignore[no-any-return]

    def hgetall(self, key: str) -> dict[str, str]:
        return _pairs(self.execute_command("HGETALL", key))

    def zrangebyscore(self, key: str, low: Any, high: Any, start: int | None = None, num: int | None = None,
                      withscores: bool = False) -> list[Any]:
        args: list[Any] = ["ZRANGEBYSCORE", key, low, high]
        if withscores:
            args.append("WITHSCORES")
        if start is not None and num is not None:
            args += ["LIMIT", start, num]
        reply = self.execute_command(*args)
        return [(reply[i], float(reply[i + 1])) for i in range(0, len(reply), 2)] if withscores else reply

    def zcard(self, key: str) -> int:
        return int(self.execute_command("ZCARD", key))

    def time(self) -> tuple[int, int]:
        seconds, micros = self.execute_command("TIME")
        return int(seconds), int(micros)

    def pipeline(self, transaction: bool = False) -> RespPipeline:
        return RespPipeline(self)

    def register_script(self, script: str) -> _NoScript:
        """The Store registers its write scripts when built; the report never runs them."""
        return _NoScript()

    def close(self) -> None:
        self._sock.close()


class RespPipeline:
    """Commands queued and sent in one round trip by execute(); the replies in order."""

    def __init__(self, client: RespClient) -> None:
        self._client = client
        self._commands: list[tuple[Any, ...]] = []
        self._shapes: list[str] = []

    def __enter__(self) -> RespPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self._commands.clear()

    def _queue(self, shape: str, *args: Any) -> RespPipeline:
        self._commands.append(args)
        self._shapes.append(shape)
        return self

    def get(self, key: str) -> RespPipeline:
        return self._queue("", "GET", key)

    def hget(self, key: str, field: str) -> RespPipeline:
        return self._queue("", "HGET", key, field)

    def hgetall(self, key: str) -> RespPipeline:
        return self._queue("pairs", "HGETALL", key)

    def execute(self) -> list[Any]:
        if not self._commands:
            return []
        replies = self._client._round_trip(self._commands)
        out = [_pairs(r) if shape == "pairs" else r for r, shape in zip(replies, self._shapes, strict=True)]
        self._commands, self._shapes = [], []
        return out


class _NoScript:
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RespError("the report's Redis client runs no scripts")


def _pairs(flat: list[str] | None) -> dict[str, str]:
    if not flat:
        return {}
    it = iter(flat)
    return dict(zip(it, it, strict=True))


def connect_plain(url: str, timeout: float = CONNECT_TIMEOUT_S) -> RespClient | None:
    """A RespClient for a plain redis:// or unix:// URL without query options (db aside), else None."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme not in ("redis", "unix") or set(query) - {"db"}:
        return None
    db = int(query["db"][0]) if "db" in query else 0
    if parts.scheme == "redis":
        path = parts.path.strip("/")
        if path:
            if not path.isdigit():
                return None
            db = int(path)
        address: Any = (parts.hostname or "localhost", parts.port or 6379)
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    else:
        address, family = unquote(parts.path), socket.AF_UNIX
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
        sock.settimeout(READ_TIMEOUT_S)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        raise RedisUnreachable(f"cannot reach Redis at {parts.hostname or address}: {exc}") from exc
    client = RespClient(sock)
    password = unquote(parts.password) if parts.password else None
    username = unquote(parts.username) if parts.username else None
    if password is not None:
        client.execute_command("AUTH", *((username,) if username else ()), password)
    if db:
        client.execute_command("SELECT", db)
    return client
