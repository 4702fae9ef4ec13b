"""The web process as Slack and an operator meet it: signatures, bad bodies, health and metrics."""

from __future__ import annotations

import json
import select
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sandbox.signer import sign
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


# -- issue 12, finding 5: a huge unsigned body is refused before it is read -----------------------------

def _worker_pids(bot: Bot) -> list[int]:
    """The gunicorn workers: children of the web process (the master)."""
    master = bot.procs["web"].pid
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def _peak_rss_kb(pids: list[int]) -> int:
    """The highest resident set any of these processes has had (VmHWM), in KB."""
    peak = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak


def _send_huge(bot: Bot, head: bytes, chunk: bytes, total: int) -> tuple[bytes, int]:
    """Send headers, then up to `total` bytes in `chunk`s, stopping when the server answers or hangs up.

    Returns what the server answered and how many body bytes were sent. Before any body byte goes out the
    server gets a moment to answer from the headers alone (as a server that refuses by Content-Length does)."""
    sock = socket.create_connection(("127.0.0.1", bot.port), timeout=30)
    sent, answer = 0, b""
    try:
        sock.sendall(head)
        ready, _, _ = select.select([sock], [], [], 2)
        while not ready and sent < total:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            ready, _, _ = select.select([sock], [], [], 0)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
                if b"\r\n\r\n" in answer and sent >= total:
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    finally:
        sock.close()
    return answer, sent


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def test_a_200_mb_unsigned_body_gets_413_before_it_is_read(web):
    workers = wait_for(lambda: _worker_pids(web), 10, message="gunicorn's workers")
    before = _peak_rss_kb(workers)
    size = 200 * 1024 * 1024
    head = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    answer, sent = _send_huge(web, head, b"x" * (1024 * 1024), size)
    assert _status(answer) == 413, answer[:200]
    assert sent < 32 * 1024 * 1024, sent  # the server hung up long before the body ended
    grown = _peak_rss_kb(workers) - before
    assert grown < 16 * 1024, f"a web worker's peak RSS grew {grown} KB"


def test_a_chunked_body_is_not_read_past_1_mb(web):
    workers = wait_for(lambda: _worker_pids(web), 10, message="gunicorn's workers")
    before = _peak_rss_kb(workers)
    head = (b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = 64 * 1024
    chunk = f"{piece:x}\r\n".encode() + b"x" * piece + b"\r\n"
    answer, sent = _send_huge(web, head, chunk, 200 * 1024 * 1024)
    assert _status(answer) == 413, answer[:200]
    assert sent < 32 * 1024 * 1024, sent
    grown = _peak_rss_kb(workers) - before
    assert grown < 16 * 1024, f"a web worker's peak RSS grew {grown} KB"

