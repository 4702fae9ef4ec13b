"""The web process as Slack and an operator meet it: signatures, bad bodies, health and metrics."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from bot.sandbox.signer import sign
from tests.harness import Bot, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def web(tmp_path, redis_url, slack, x):
    bot = Bot(tmp_path, redis_url, slack, x, "tests/data/routing.yaml").start("web")
    yield bot
    bot.stop()
    print(bot.logs())


def post(bot: Bot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    req = urllib.request.Request(bot.url + "/slack/events", data=body, method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def event_body(text: str = "hi", event_id: str = "Ev1", **event: str) -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T0SANDBOX", "api_app_id": "A0", "event_id": event_id,
                       "event_time": int(time.time()), "event": {"type": "message", "channel": "C0IPHONE",
                                                                 "user": "U0STAFF1", "text": text,
                                                                 "ts": "1.000001", "thread_ts": "1.000000",
                                                                 **event}}
                      ).encode()


def queued(r) -> int:
    return int(r.llen("rq:queue:escalator"))


def test_forged_signature_is_refused_with_no_effect(web, slack, r):
    body = event_body()
    headers = sign("not-the-secret", body)
    assert post(web, body, headers)[0] == 401
    assert queued(r) == 0


def test_stale_signature_is_refused(web, slack, r):
    body = event_body()
    headers = sign(slack.signing_secret, body, timestamp=int(time.time()) - 6 * 60)
    assert post(web, body, headers)[0] == 401
    assert queued(r) == 0


def test_a_correctly_signed_event_is_queued_once_even_when_retried(web, slack, r):
    body = event_body()
    assert post(web, body, sign(slack.signing_secret, body))[0] == 200
    retry = {**sign(slack.signing_secret, body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert post(web, body, retry)[0] == 200
    assert queued(r) == 1


def test_the_bots_own_posts_and_channel_chatter_make_no_job(web, slack, r):
    """Slack sends an event for every message in the bot's channels, its own ticket posts included."""
    own_post = event_body("🟡 ticket", "Ev2", bot_id="B0ESCALATOR", subtype="bot_message", thread_ts="")
    chatter = event_body("lunch?", "Ev3", thread_ts="")
    for body in (own_post, chatter):
        assert post(web, body, sign(slack.signing_secret, body))[0] == 200
    assert queued(r) == 0
    reply = event_body("답변드립니다", "Ev4")
    assert post(web, reply, sign(slack.signing_secret, reply))[0] == 200
    assert queued(r) == 1, "a person's reply in a thread is still queued"


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe\x00", b"payload=%7Bbroken", b"[1,2,3]",
                                  json.dumps({"type": "event_callback"}).encode()])
def test_malformed_bodies_get_a_4xx_and_the_process_lives(web, slack, body):
    status, _ = post(web, body, sign(slack.signing_secret, body))
    assert 400 <= status < 500 or status == 200, status  # Bolt acks unknown payloads it cannot route
    assert status != 500
    assert web.healthy()


def test_healthz_reflects_redis(tmp_path, redis_url, slack, x):
    from bot.embedded_redis import start_redis

    own = start_redis(tmp_path / "own-redis", aof=False)
    bot = Bot(tmp_path, own.url, slack, x, "tests/data/routing.yaml").start("web")
    try:
        assert bot.healthy()
        own.stop()
        wait_for(lambda: not bot.healthy(), 10, message="/healthz to fail with Redis down")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bot.url + "/healthz", timeout=3)
        assert err.value.code == 503
    finally:
        bot.stop()


def test_metrics_show_queue_depth_failures_and_relay_latency(web, r):
    r.hincrby("esc:m:failures", "slack_post", 2)
    with urllib.request.urlopen(web.url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert 'escalator_queue_depth{queue="ready"}' in text
    assert 'escalator_failures_total{kind="slack_post"} 2.0' in text
    assert "escalator_relay_latency_seconds_bucket" in text
