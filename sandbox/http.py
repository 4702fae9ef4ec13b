"""The tiny HTTP base the stand-ins share: a threaded stdlib server, parsed requests, replies, a poster."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or anything JSON-serialisable
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/plain; charset=utf-8"
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, body, dict(headers or {}))


class _Handler(BaseHTTPRequestHandler):
    # Headers and body go out in separate writes; without this a keep-alive client (tweepy's session)
    # waits ~40 ms per request for a delayed ACK.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server: _Server

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
        )
        # A real service is a network round trip away: half of it before the request arrives, half after
        # (not the /_sandbox/ driver's endpoints: those are the test's hands, not the service).
        half = 0.0 if parts.path.startswith("/_sandbox/") else self.server.stand_in.latency_ms / 2000
        if half:
            time.sleep(half)
        try:
            reply = self.server.stand_in.handle(request)
        except Exception:  # a stand-in bug must answer 500, not hang the client
            log.exception("stand-in failed on %s %s", request.method, request.path)
            reply = Reply(500, {"error": "stand-in crashed; see its log"})
        body, content_type = reply.encoded()
        self.send_response(reply.status)
        headers = {"Content-Type": content_type, **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if half:
            self.wfile.flush()
            time.sleep(half)
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.server.stand_in.__class__.__name__, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Slack and X take every connection a busy bot opens; the default backlog of 5 reset some of a threaded
    # worker's concurrent calls (ECONNRESET), which the real services never do.
    request_queue_size = 256
    stand_in: StandInServer


class StandInServer:
    """Base of the stand-ins: start/stop a daemon HTTP thread and route requests to `handle`.

    `latency_ms` (default: the SANDBOX_LATENCY_MS environment variable, else 0) is the round trip every call
    takes, as from a deployment far from the service (Seoul to Slack or X: 100-200 ms). Calls still run
    concurrently, as they would over a real network; Slack's per-channel pace is counted on arrival."""

    def __init__(self, latency_ms: float | None = None) -> None:
        self.latency_ms = float(os.environ.get("SANDBOX_LATENCY_MS") or 0) if latency_ms is None else latency_ms
        self._lock = threading.RLock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port) in a daemon thread; return the base URL."""
        if self._httpd is not None:
            return self.url
        httpd = _Server((host, port), _Handler)
        httpd.stand_in = self
        self._httpd = httpd
        bound_host, bound_port = httpd.server_address[:2]
        host_text = bound_host.decode() if isinstance(bound_host, bytes) else bound_host
        self.url = f"http://{host_text}:{bound_port}"
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name=type(self).__name__,
                                        daemon=True)
        self._thread.start()
        log.info("%s listening on %s", type(self).__name__, self.url)
        return self.url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandInServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Posted:
    """What an outgoing POST got back: status 0 means no answer (refused, timed out)."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Posted:
    """POST body to url with urllib and report the answer, whatever it is."""
    started = time.monotonic()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local URLs
            text = response.read().decode("utf-8", "replace")
            return Posted(response.status, text, dict(response.headers.items()), time.monotonic() - started)
    except urllib.error.HTTPError as err:
        text = err.read().decode("utf-8", "replace")
        return Posted(err.code, text, dict(err.headers.items()), time.monotonic() - started)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
        return Posted(0, f"{type(err).__name__}: {err}", {}, time.monotonic() - started)
