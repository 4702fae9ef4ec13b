"""Slack's Socket Mode end, for the stand-in: links from apps.connections.open, a stdlib websocket, envelopes.

Enough of RFC 6455 for slack_sdk's builtin client (frames in sandbox/websocket.py): the handshake, masked
frames from the client and unmasked ones back, ping/pong (the client pings as soon as it connects and every
ping_interval after, and drops a link that stops answering) and close. A link opens with Slack's `hello`;
the stand-in then pushes envelopes
(events_api, slash_commands, interactive) holding exactly what the HTTP path would have POSTed, and the app
answers each with an ack: {"envelope_id": ..., "payload": {...}}.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import struct
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from sandbox.slack_events import Delivery
from sandbox.websocket import CLOSE, CONTINUATION, PING, PONG, TEXT, accept_key, encode_frame, read_frame

log = logging.getLogger(__name__)

@dataclass
class Link:
    """One websocket connection from an app; frames out are serialised by a lock."""

    sock: socket.socket
    url: str
    open: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, opcode: int, payload: bytes) -> bool:
        with self._lock:
            if not self.open:
                return False
            try:
                self.sock.sendall(encode_frame(opcode, payload))
                return True
            except OSError:
                self.open = False
                return False

    def send_json(self, message: dict[str, Any]) -> bool:
        return self.send(TEXT, json.dumps(message, ensure_ascii=False).encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.send(CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))
        self.open = False
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Pushed:
    """An envelope sent over a link and the app's ack (None: no link, or no ack in time)."""

    envelope: dict[str, Any]
    url: str | None
    ack: dict[str, Any] | None
    elapsed: float


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    ack: dict[str, Any] | None = None


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: SocketModeServer


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        self.server.owner.serve(self.request)


class SocketModeServer:
    """Socket Mode links for one app: tickets from apps.connections.open, envelopes out, acks recorded."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self._lock = threading.Lock()
        self._server: _TCPServer | None = None
        self._tickets: set[str] = set()
        self._links: list[Link] = []
        self._waiting: dict[str, _Waiter] = {}
        self.envelopes: list[dict[str, Any]] = []
        self.acks: list[dict[str, Any]] = []

    # ----- life cycle ----------------------------------------------------------------------------------

    def open_url(self, host: str = "127.0.0.1") -> str:
        """What apps.connections.open answers: a one-use wss URL (ws here), listening from the first call."""
        with self._lock:
            if self._server is None:
                self._server = _TCPServer((host, 0), _Handler)
                self._server.owner = self
                threading.Thread(target=self._server.serve_forever, args=(0.05,), name="slack-socket-mode",
                                 daemon=True).start()
            bound_host, port = self._server.server_address[:2]
            ticket = uuid.uuid4().hex
            self._tickets.add(ticket)
        host_text = bound_host.decode() if isinstance(bound_host, bytes) else bound_host
        return f"ws://{host_text}:{port}/link/?ticket={ticket}&app_id={self.app_id}"

    def reset(self) -> None:
        """Close every link and forget the records (a new test starts with no app connected)."""
        with self._lock:
            links, self._links, self._tickets = self._links, [], set()
            self.envelopes, self.acks = [], []
        for link in links:
            link.close(1001, "stand-in reset")

    def stop(self) -> None:
        self.reset()
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def connected(self) -> bool:
        with self._lock:
            return any(link.open for link in self._links)

    # ----- envelopes -----------------------------------------------------------------------------------

    def push(self, envelope_type: str, payload: dict[str, Any], timeout: float, retry_attempt: int = 0,
             retry_reason: str = "", accepts_response_payload: bool = False) -> Pushed:
        """Send an envelope over the newest open link and wait up to timeout for its ack."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                    "accepts_response_payload": accepts_response_payload, "retry_attempt": retry_attempt,
                    "retry_reason": retry_reason}
        waiter = _Waiter()
        with self._lock:
            link = next((k for k in reversed(self._links) if k.open), None)
            self._waiting[envelope_id] = waiter
            self.envelopes.append(envelope)
        started = time.monotonic()
        acked = link is not None and link.send_json(envelope) and waiter.done.wait(timeout)
        elapsed = time.monotonic() - started
        with self._lock:
            self._waiting.pop(envelope_id, None)
        return Pushed(envelope, link.url if link else None, waiter.ack if acked else None, elapsed)

    # ----- one connection --------------------------------------------------------------------------------

    def serve(self, sock: socket.socket) -> None:
        """Handshake, hello, then read frames until the link closes (runs on the connection's thread)."""
        rfile = sock.makefile("rb")
        try:
            link = self._handshake(sock, rfile)
            if link is None:
                return
            with self._lock:
                self._links.append(link)
                count = sum(1 for k in self._links if k.open)
            link.send_json({"type": "hello", "num_connections": count,
                            "debug_info": {"host": "applink-sandbox", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": self.app_id}})
            self._read(link, rfile)
        except (EOFError, OSError) as err:
            log.debug("socket mode link ended: %s", err)
        finally:
            with self._lock:
                self._links = [k for k in self._links if k.sock is not sock]
            with suppress(OSError):
                rfile.close()
                sock.close()

    def _handshake(self, sock: socket.socket, rfile: BinaryIO) -> Link | None:
        request_line = rfile.readline(8192).decode("latin-1").split()
        headers: dict[str, str] = {}
        while (line := rfile.readline(8192)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        target = urlsplit(request_line[1] if len(request_line) > 1 else "")
        ticket = parse_qs(target.query).get("ticket", [""])[0]
        with self._lock:
            known = ticket in self._tickets
            self._tickets.discard(ticket)  # one connection per URL, as Slack's tickets
        if request_line[:1] != ["GET"] or headers.get("upgrade", "").lower() != "websocket" \
                or not headers.get("sec-websocket-key"):
            refused = "400 Bad Request", "not a websocket handshake"
        elif headers.get("sec-websocket-version") != "13":
            refused = "426 Upgrade Required", "Sec-WebSocket-Version: 13 only"
        elif target.path != "/link/" or not known:
            refused = "401 Unauthorized", "unknown or used ticket; call apps.connections.open for a new URL"
        else:
            refused = None
        if refused is not None:
            body = refused[1].encode("utf-8")
            sock.sendall(f"HTTP/1.1 {refused[0]}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode("ascii") + body)
            return None
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept_key(headers['sec-websocket-key'])}\r\n\r\n").encode("ascii"))
        host, port = sock.getsockname()[:2]
        return Link(sock, f"ws://{host}:{port}{target.path}?{target.query}")

    def _read(self, link: Link, rfile: BinaryIO) -> None:
        fragments: list[bytes] = []
        while link.open:
            fin, opcode, masked, data = read_frame(rfile)
            if not masked:  # RFC 6455 5.1: a server must fail a connection whose client does not mask
                link.close(1002, "client frames must be masked")
            elif opcode == PING:
                link.send(PONG, data)
            elif opcode == CLOSE:
                link.close(struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1000)
            elif opcode in (TEXT, CONTINUATION):
                fragments.append(data)
                if fin:
                    self._on_text(b"".join(fragments).decode("utf-8", "replace"))
                    fragments = []
            # pongs and binary frames: nothing for Slack to do

    def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("socket mode: the app sent text that is not JSON: %.200s", text)
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            log.warning("socket mode: the app sent something that is not an ack: %.200s", text)
            return
        with self._lock:
            self.acks.append(message)
            waiter = self._waiting.get(str(message["envelope_id"]))
        if waiter is not None:
            waiter.ack = message
            waiter.done.set()


def deliver(server: SocketModeServer, kind: str, body: bytes, content_type: str,
            extra: dict[str, str] | None, timeout: float) -> Delivery:
    """Send what the HTTP path would have POSTed as an envelope; the ack answers it (its payload, the body)."""
    retry = {k: v for k, v in (extra or {}).items() if k.lower().startswith("x-slack-retry-")}
    delivery = Delivery(kind, None, body, {"Content-Type": content_type, **retry}, transport="socket")
    payload = delivery.payload()
    if not isinstance(payload, dict):
        delivery.response = "not a Slack payload; nothing to send over Socket Mode"
        return delivery
    envelope_type = ("events_api" if payload.get("type") == "event_callback"
                     else "slash_commands" if "command" in payload else "interactive")
    pushed = server.push(envelope_type, payload, timeout,
                         retry_attempt=int(retry.get("X-Slack-Retry-Num", 0)),
                         retry_reason=retry.get("X-Slack-Retry-Reason", ""),
                         # Slack takes an answer in the ack for commands and modal submissions only
                         accepts_response_payload=envelope_type == "slash_commands"
                         or payload.get("type") in ("view_submission", "block_suggestion"))
    delivery.url, delivery.elapsed = pushed.url, pushed.elapsed
    if pushed.ack is None:
        delivery.response = "no Socket Mode link" if pushed.url is None else f"no ack within {timeout:g}s"
        return delivery
    delivery.status = 200
    answer = pushed.ack.get("payload")
    delivery.response = json.dumps(answer, ensure_ascii=False) if answer is not None else ""
    return delivery
