"""How X says no: RFC 7807 problems, invalid-request errors, not-found errors; and injected faults."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from sandbox.http import Reply, json_reply

log = logging.getLogger(__name__)

PROBLEMS = "https://api.twitter.com/2/problems/"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG = ("Your Tweet text is too long. For more information on how Twitter determines text length see "
            "https://github.com/twitter/twitter-text.")
# Self-serve access since 23 Feb 2026: a reply only to a post whose author summoned the account (an @mention or
# a quote of one of its posts); enterprise access is exempt.
NOT_SUMMONED = ("Reply to this conversation is not allowed because you have not been mentioned or otherwise "
                "engaged by the author of the post you are replying to.")
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."


def problem(status: int, detail: str | None = None, **extra: Any) -> Reply:
    """A generic RFC 7807 problem as X sends it for auth, rate-limit and server errors."""
    phrase = HTTPStatus(status).phrase
    return json_reply({"title": phrase, "detail": detail or phrase, "type": "about:blank", "status": status,
                       **extra}, status)


def invalid_request(errors: list[dict[str, Any]]) -> Reply:
    return json_reply({"errors": errors, "title": "Invalid Request",
                       "detail": "One or more parameters to your request was invalid.",
                       "type": PROBLEMS + "invalid-request"}, 400)


def not_found(kind: str, value: str, parameter: str = "id") -> dict[str, Any]:
    return {"value": value, "detail": f"Could not find {kind} with {parameter}: [{value}].",
            "title": "Not Found Error", "resource_type": kind, "parameter": parameter, "resource_id": value,
            "type": PROBLEMS + "resource-not-found"}


def parse_when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def base36(number: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits or "0"


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int
    count: int
    headers: dict[str, str]
    body: Any
    after: bool

    def reply(self) -> Reply:
        headers = dict(self.headers)
        if self.status == 429 and not any(k.lower() == "x-rate-limit-reset" for k in headers):
            headers.update({"x-rate-limit-limit": "180", "x-rate-limit-remaining": "0",
                            "x-rate-limit-reset": str(int(time.time()) + 1)})
        if self.body is not None:
            return json_reply(self.body, self.status, headers)
        reply = problem(self.status)
        reply.headers.update(headers)
        return reply
