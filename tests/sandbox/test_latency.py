"""The stand-ins' round-trip delay (SANDBOX_LATENCY_MS / latency_ms): every endpoint of both takes it, calls
still run side by side, and Slack's per-channel rate limit holds as before."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.x_session import make_tweepy_client
from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn


def test_the_environment_sets_the_round_trip_and_a_constructor_knob_overrides_it(monkeypatch):
    monkeypatch.setenv("SANDBOX_LATENCY_MS", "150")
    assert SlackStandIn().latency_ms == XStandIn().latency_ms == 150
    monkeypatch.delenv("SANDBOX_LATENCY_MS")
    assert XStandIn().latency_ms == 0


def test_every_call_takes_at_least_the_round_trip_and_calls_overlap():
    x = XStandIn()
    x.latency_ms = 200
    x.start()
    try:
        client = make_tweepy_client(x.url, "b", "k", "s", "a", "as")
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            names = list(pool.map(lambda _: client.get_me().data.username, range(4)))
        took = time.monotonic() - started
    finally:
        x.stop()
    assert names == ["escalator_kr"] * 4
    assert took >= 0.2  # never faster than one round trip (no upper bound here: the bench measures speed)


def test_slacks_per_channel_limit_still_answers_429_under_latency():
    slack = SlackStandIn(bot_token="xoxb-t", rate_limit_per_channel=1.0)
    slack.latency_ms = 100
    slack.start()
    try:
        client = WebClient(token="xoxb-t", base_url=slack.url + "/api/")
        client.chat_postMessage(channel="C0LAT", text="one")
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C0LAT", text="two")
        assert err.value.response.status_code == 429 and err.value.response["error"] == "ratelimited"
        client.chat_postMessage(channel="C0OTHER", text="another channel has its own pace")
    finally:
        slack.stop()
