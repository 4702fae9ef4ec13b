"""REDIS_URL's forms (redis://, rediss://, redis+sentinel://) through the one connection factory, and `check`."""

from __future__ import annotations

import pytest
import redis

from bot.adapters.redis_url import connect, parse_sentinel, problem
from bot.errors import SettingsError
from tests.test_cli import CREDS, bot


def test_sentinel_url_names_every_sentinel_the_service_the_db_and_the_passwords():
    url = "redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380,10.0.0.3/mymaster/2?sentinel_password=sp"
    parsed = parse_sentinel(url)
    assert parsed.sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("10.0.0.3", 26379)]
    assert (parsed.service, parsed.db, parsed.password, parsed.sentinel_password) == ("mymaster", 2, "s@cret", "sp")
    assert not parsed.tls and parse_sentinel("rediss+sentinel://h:26379/m").tls


@pytest.mark.parametrize("url", ["redis+sentinel://h:26379/", "redis+sentinel://h:port/m/0",
                                 "redis+sentinel://h:26379/m/zero", "memcached://h:11211"])
def test_a_malformed_url_is_refused_with_the_forms_it_may_take(url):
    assert "redis+sentinel://host:26379" in (problem(url) or "")
    if url.startswith("redis+"):
        with pytest.raises(SettingsError):
            connect(url)


def test_plain_and_tls_forms_pass_and_a_plain_url_connects(redis_url):
    assert problem("rediss://user:pw@redis.example.com:6380/0") is None
    assert problem(redis_url) is None
    client = connect(redis_url, decode_responses=True)
    client.set("esc:test:factory", "ok")
    assert client.get("esc:test:factory") == "ok"


def test_check_refuses_a_malformed_sentinel_url_naming_the_form():
    done = bot("check", REDIS_URL="redis+sentinel://127.0.0.1:1", **CREDS)
    assert done.returncode == 1
    assert "redis+sentinel://host:26379,host2:26379,host3:26379/mymaster/0" in done.stdout, done.stdout


def test_check_reports_sentinels_that_do_not_answer_as_unreachable():
    done = bot("check", REDIS_URL="redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster/0", **CREDS)
    assert done.returncode == 1
    assert "redis: not reachable" in done.stdout and "environment: ok" in done.stdout, done.stdout


def test_without_a_sentinel_the_client_fails_after_its_retries_not_forever():
    client = connect("redis+sentinel://127.0.0.1:1/mymaster/0", retry_for=0.2)
    with pytest.raises(redis.RedisError):
        client.ping()
