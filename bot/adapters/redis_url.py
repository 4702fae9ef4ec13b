"""REDIS_URL → a Redis client: the one place every process (web, workers, their schedulers, cron, the CLI,
/healthz, RQ) gets its connection from.

Forms:

- `redis://[user:password@]host:port/db`, `rediss://…` (TLS, as managed Redis offers), `unix:///path?db=0`:
  redis-py's own URL forms, with its query options (`ssl_cert_reqs`, `ssl_ca_certs`, …);
- `redis+sentinel://[user:password@]host:26379,host2:26379,host3:26379/mymaster/0`: ask the Sentinels which
  server is the primary of `mymaster` and use database 0 there. `rediss+sentinel://` speaks TLS to the Sentinels
  and the servers. The password is the servers'; `?sentinel_password=…` gives the Sentinels' own, when they have one.

A client retries a command that met a dropped connection (a failover, a restart) for about `retry_for` seconds,
asking the Sentinels again before each try, so a failover is a pause of a few seconds, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import BusyLoadingError, ReadOnlyError
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelManagedConnection, SentinelManagedSSLConnection

from bot.errors import SettingsError

SENTINEL_SCHEMES = ("redis+sentinel://", "rediss+sentinel://")
PLAIN_SCHEMES = ("redis://", "rediss://", "unix://")
SCHEMES = PLAIN_SCHEMES + SENTINEL_SCHEMES
RETRY_FOR_S = 20.0  # longer than a Sentinel failover (down-after-milliseconds + election + promotion)
BACKOFF_CAP_S = 0.5
USAGE = ("REDIS_URL must look like redis://host:6379/0, rediss://host:6380/0 (TLS), or "
         "redis+sentinel://host:26379,host2:26379,host3:26379/mymaster/0 (Sentinel)")


@dataclass(frozen=True)
class SentinelUrl:
    sentinels: list[tuple[str, int]]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None
    tls: bool = False
    options: dict[str, str] = field(default_factory=dict)


def parse_sentinel(url: str) -> SentinelUrl:
    """The parts of a redis+sentinel:// URL; SettingsError naming what is wrong and the expected form."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, _, hosts = netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, sep, pw = userinfo.partition(":")
        username, password = (unquote(user) or None, unquote(pw) or None) if sep else (None, unquote(user) or None)
    sentinels: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep:
            host, port = item.strip(), "26379"
        if not host or not port.isdigit():
            raise SettingsError(f"{USAGE}: {item!r} is not host:port")
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise SettingsError(f"{USAGE}: the path must be /<primary's service name>[/<db number>]")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return SentinelUrl(sentinels=sentinels, service=unquote(path[0]), db=int(path[1]) if len(path) == 2 else 0,
                       username=username, password=password, sentinel_password=options.pop("sentinel_password", None),
                       tls=url.startswith("rediss+"), options=options)


def problem(url: str) -> str | None:
    """What is wrong with a REDIS_URL's form (`python -m bot check`), or None."""
    if not url.startswith(SCHEMES):
        return USAGE + f" (got {url.split('://')[0]}://…)"
    if url.startswith(SENTINEL_SCHEMES):
        try:
            parse_sentinel(url)
        except SettingsError as exc:
            return str(exc)
    return None


def _retry_kwargs(retry_for: float) -> dict[str, Any]:
    if retry_for <= 0:
        return {"retry": Retry(ExponentialBackoff(), 0)}
    retries, waited, delay = 0, 0.0, 0.05
    while waited < retry_for:
        waited += min(BACKOFF_CAP_S, delay)
        delay *= 2
        retries += 1
    return {"retry": Retry(ExponentialBackoff(cap=BACKOFF_CAP_S, base=0.05), retries),
            "retry_on_error": [redis.ConnectionError, redis.TimeoutError, ReadOnlyError, BusyLoadingError,
                               MasterNotFoundError]}


class _FollowsFailover(SentinelManagedConnection):
    """A connection to the service's current primary, asked of Sentinel on every attempt to connect.

    redis-py's own asks Sentinel only in `connect()`, but sending a command on a dropped connection reconnects
    through `connect_check_health`, whose retries reuse the old address (redis/redis-py#3874, open): after a
    failover each client kept dialling the dead primary for its whole retry budget (20 s) although Sentinel had
    named the new one within 2 s, and work waiting on Redis failed instead of carrying on."""

    def _connect(self):  # type: ignore[no-untyped-def]
        if self.connection_pool.is_master:
            self.host, self.port = self.connection_pool.get_master_address()
        return super()._connect()


class _FollowsFailoverSSL(_FollowsFailover, SentinelManagedSSLConnection):
    pass


def connect(url: str, *, decode_responses: bool = False, retry_for: float = RETRY_FOR_S,
            **kwargs: Any) -> redis.Redis:
    """A client for REDIS_URL. `decode_responses=True` for the Store; RQ needs bytes (pickled job data)."""
    kwargs = {**_retry_kwargs(retry_for), **kwargs}
    if not url.startswith(SENTINEL_SCHEMES):
        plain: Any = redis.Redis.from_url  # the stubs' overloads cannot take a bool and a dict of options
        return plain(url, decode_responses=decode_responses, **kwargs)  # type: ignore[no-any-return]
    parsed = parse_sentinel(url)
    tls: dict[str, Any] = {"ssl": True} if parsed.tls else {}
    for key in ("ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
        if key in parsed.options and parsed.tls:
            tls[key] = parsed.options[key]
    sentinel_kwargs: dict[str, Any] = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, **tls}
    if parsed.sentinel_password:
        sentinel_kwargs["password"] = parsed.sentinel_password
    sentinel = Sentinel(parsed.sentinels, sentinel_kwargs=sentinel_kwargs)
    follows = _FollowsFailoverSSL if parsed.tls else _FollowsFailover
    return sentinel.master_for(parsed.service, db=parsed.db, username=parsed.username, password=parsed.password,
                               decode_responses=decode_responses, connection_class=follows,
                               **{k: v for k, v in tls.items() if k != "ssl"}, **kwargs)


class Redis(redis.Redis):
    """The connection class for RQ's command line (`rq worker --connection-class bot.adapters.redis_url.Redis`):
    rq builds its connection with `connection_class.from_url(REDIS_URL)`, which lands in `connect` above."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.Redis:  # type: ignore[override,misc]
        return connect(url, **kwargs)


__all__ = ["SCHEMES", "Redis", "SentinelUrl", "connect", "parse_sentinel", "problem"]
