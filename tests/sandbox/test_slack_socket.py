"""The Slack stand-in's Socket Mode end: apps.connections.open, the websocket, envelopes out and acks back.

Driven by slack_sdk's builtin SocketModeClient (what `python -m bot socket` runs under Bolt), and, for the
protocol's edges, by a few raw frames.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from sandbox import Delivery, SlackStandIn
from sandbox.websocket import CLOSE, PING, PONG, TEXT, accept_key, encode_frame, read_frame
from tests.harness import wait_for

APP_TOKEN, BOT_TOKEN = "xapp-1-A0SANDBOX-test", "xoxb-test"


@pytest.fixture(scope="module")
def server() -> Iterator[SlackStandIn]:
    """This module's own stand-in: an xapp- token of its own, and delivery timeouts it changes freely."""
    stand_in = SlackStandIn(bot_token=BOT_TOKEN, app_token=APP_TOKEN, delivery_timeout=5)
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def slack(server: SlackStandIn) -> SlackStandIn:
    server.reset()
    server.delivery_timeout = 5
    return server


@pytest.fixture
def web(slack: SlackStandIn) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.url + "/api/")


class App:
    """An app on slack_sdk's builtin client that acks every envelope, slash commands with an answer."""

    def __init__(self, web: WebClient) -> None:
        self.messages: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []
        # No reconnecting: the stand-in's reset closes the link at the end of a test, and that is the end.
        self.client = SocketModeClient(app_token=APP_TOKEN, web_client=web, auto_reconnect_enabled=False)
        self.client.message_listeners.append(lambda _client, message, _raw: self.messages.append(message))
        self.client.socket_mode_request_listeners.append(self.on_request)

    def got(self, delivery: Delivery) -> list[SocketModeRequest]:
        """The envelopes that carried this delivery's payload (the stand-in also echoes the bot's posts)."""
        return [r for r in list(self.requests) if r.payload == delivery.payload()]

    def on_request(self, client: Any, request: SocketModeRequest) -> None:
        self.requests.append(request)
        answer = {"response_type": "ephemeral", "text": "받았습니다"} if request.type == "slash_commands" else None
        client.send_socket_mode_response(SocketModeResponse(request.envelope_id, answer))


@pytest.fixture
def app(slack: SlackStandIn, web: WebClient) -> Iterator[App]:
    app = App(web)
    app.client.connect()
    # The client returns once its handshake is sent; the stand-in registers the link a moment later (under
    # load, after the test's first push, which then fell back to HTTP).
    wait_for(slack.socket_mode.connected, 10, message="the socket link")
    yield app
    slack.socket_mode.reset()  # the client reads the close frame and lets go of its socket
    app.client.close()


def test_apps_connections_open_takes_the_app_token_only(slack: SlackStandIn, web: WebClient) -> None:
    url = web.apps_connections_open(app_token=APP_TOKEN)["url"]
    parts = urlsplit(url)
    assert parts.scheme == "ws" and parts.hostname == "127.0.0.1" and parts.path == "/link/"
    assert "ticket=" in parts.query and "app_id=A0SANDBOX" in parts.query
    for token, error in ((BOT_TOKEN, "not_allowed_token_type"), ("xapp-1-forged", "invalid_auth")):
        with pytest.raises(SlackApiError) as refused:
            web.apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error, token
    with pytest.raises(SlackApiError) as wrong_type:
        WebClient(token=APP_TOKEN, base_url=slack.url + "/api/").chat_postMessage(channel="C0WIBRO", text="hi")
    assert wrong_type.value.response["error"] == "not_allowed_token_type"
    assert slack.spec_violations == []


def test_the_builtin_client_connects_gets_hello_and_its_pings_answered(slack: SlackStandIn, app: App) -> None:
    assert slack.socket_mode.connected()
    hello = wait_for(lambda: next((m for m in app.messages if m.get("type") == "hello"), None), 5,
                     message="Slack's hello")
    assert hello["num_connections"] == 1 and hello["connection_info"] == {"app_id": "A0SANDBOX"}
    session = app.client.current_session
    assert session is not None
    # the client pings as soon as it is connected; a link without pongs would be dropped as stale
    wait_for(lambda: session.last_ping_pong_time is not None, 5, message="a pong for the client's ping")


def test_people_reach_the_app_as_envelopes_and_its_acks_answer(slack: SlackStandIn, web: WebClient,
                                                               app: App) -> None:
    command = slack.slash_command("/escalate", "1234567890 wibro", user="U0OPS1", channel="C0OPS")
    assert (command.transport, command.status) == ("socket", 200)
    assert command.json() == {"response_type": "ephemeral", "text": "받았습니다"}
    [request] = app.got(command)  # carrying the form fields the HTTP path would have POSTed
    assert request.type == "slash_commands" and request.accepts_response_payload
    assert request.payload["command"] == "/escalate" and request.payload["text"] == "1234567890 wibro"
    assert slack.socket_mode.acks[-1] == {"envelope_id": request.envelope_id,
                                          "payload": {"response_type": "ephemeral", "text": "받았습니다"}}

    parent = web.chat_postMessage(channel="C0WIBRO", text="ticket")["ts"]
    sent = slack.user_message("C0WIBRO", "답변드립니다", thread_ts=parent)
    assert (sent.delivery.transport, sent.status, sent.delivery.json()) == ("socket", 200, None)
    [event] = app.got(sent.delivery)  # the event_callback body
    assert event.type == "events_api" and not event.accepts_response_payload
    assert event.payload["event"]["thread_ts"] == parent and event.payload["event"]["text"] == "답변드립니다"

    web.chat_postMessage(channel="C0WIBRO", text="buttons", blocks=[
        {"type": "actions", "elements": [{"type": "button", "action_id": "ticket_claim", "value": "t1",
                                          "text": {"type": "plain_text", "text": "Claim"}}]}])
    button = slack.messages("C0WIBRO")[-1]["ts"]
    click = slack.block_action("U0STAFF1", "C0WIBRO", button, "ticket_claim")
    assert click.status == 200
    [interactive] = app.got(click)
    assert interactive.type == "interactive" and interactive.payload["actions"][0]["value"] == "t1"

    retry = slack.redeliver(sent, retry_num=1, reason="timeout")
    assert retry.status == 200
    first, again = app.got(retry)  # Slack's retry: the same payload in a new envelope
    assert (first.retry_attempt, again.retry_attempt, again.retry_reason) == (0, 1, "timeout")
    assert first.envelope_id == event.envelope_id != again.envelope_id


# -- the protocol's edges, with raw frames --------------------------------------------------------------------

def handshake(url: str, key: str = "dGhlIHNhbXBsZSBub25jZQ==") -> tuple[socket.socket, Any, str]:
    """Open a socket to url and send the client's upgrade request; (socket, reader, status line + headers)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
    sock.sendall((f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    reader = sock.makefile("rb")
    lines = []
    while (line := reader.readline()) not in (b"\r\n", b""):
        lines.append(line.decode().strip())
    return sock, reader, "\n".join(lines)


def send(sock: socket.socket, opcode: int, payload: bytes) -> None:
    sock.sendall(encode_frame(opcode, payload, mask=os.urandom(4)))


def test_handshake_accept_key_tickets_ping_and_close(slack: SlackStandIn, web: WebClient) -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's example
    url = web.apps_connections_open(app_token=APP_TOKEN)["url"]
    sock, reader, head = handshake(url)
    with sock, reader:
        assert head.splitlines()[0] == "HTTP/1.1 101 Switching Protocols"
        assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head.splitlines()
        fin, opcode, masked, data = read_frame(reader)
        assert (fin, opcode, masked) == (True, TEXT, False) and json.loads(data)["type"] == "hello"
        send(sock, PING, b"are you there")
        assert read_frame(reader) == (True, PONG, False, b"are you there")
        send(sock, CLOSE, struct.pack("!H", 1000))
        assert read_frame(reader)[1:3] == (CLOSE, False)
    wait_for(lambda: not slack.socket_mode.connected(), 5, message="the link to be gone")

    used, reader, head = handshake(url)  # a ticket opens one link
    with used, reader:
        assert head.splitlines()[0] == "HTTP/1.1 401 Unauthorized"


def test_an_app_that_never_acks_gets_status_0(slack: SlackStandIn, web: WebClient) -> None:
    sock, reader, _ = handshake(web.apps_connections_open(app_token=APP_TOKEN)["url"])
    with sock, reader:
        read_frame(reader)  # hello
        slack.delivery_timeout = 0.2
        silent = slack.slash_command("/escalate", "1", user="U0OPS1", channel="C0OPS")
        assert (silent.transport, silent.status, silent.response) == ("socket", 0, "no ack within 0.2s")
        envelope = json.loads(read_frame(reader)[3])
        assert envelope["type"] == "slash_commands" and envelope["payload"] == silent.payload()

        slack.reset()  # a new test: the link is closed, and Slack speaks HTTP again
        assert read_frame(reader)[1] == CLOSE
    assert not slack.socket_mode.connected()
    assert slack.slash_command("/escalate", "1").transport == "http"
