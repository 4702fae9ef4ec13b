"""Slack's v0 request signature, made the way Slack makes it, for the stand-in's deliveries."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

log = logging.getLogger(__name__)


def sign(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Request-Timestamp and X-Slack-Signature headers for body (HMAC-SHA256 of v0:ts:body)."""
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    base = b"v0:" + ts.encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
