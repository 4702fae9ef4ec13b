"""Test session: a real redis-server on a free port, the Slack and X stand-ins, the bot's real processes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings

from bot.embedded_redis import RedisProcess, start_redis
from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn

# CI runs the property tests on a fixed seed: a new counterexample should fail a developer's run, where it can
# be fixed, not a landing. Locally every run explores afresh.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

os.environ.setdefault("ESCALATOR_SPECS", str(Path(__file__).resolve().parents[2] / "shared" / "specs"))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess]:
    with tempfile.TemporaryDirectory(prefix="escalator-redis-") as tmp:
        proc = start_redis(Path(tmp), aof=False)  # no fsync stalls; the restart test starts its own with AOF
        yield proc
        proc.stop()


@pytest.fixture
def redis_url(redis_server: RedisProcess) -> str:
    redis.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


@pytest.fixture
def r(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


@pytest.fixture(scope="session")
def _slack() -> Iterator[SlackStandIn]:
    s = SlackStandIn(signing_secret="test-signing-secret", bot_token="xoxb-test")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def _x() -> Iterator[XStandIn]:
    x = XStandIn()
    x.start()
    yield x
    x.stop()


@pytest.fixture
def slack(_slack: SlackStandIn) -> SlackStandIn:
    _slack.reset()
    return _slack


@pytest.fixture
def x(_x: XStandIn) -> XStandIn:
    _x.reset()
    return _x
