"""What Slack sends an app (event envelopes, slash-command forms, interactivity payloads), and the sending."""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from sandbox.http import post
from sandbox.signer import sign
from sandbox.slack_workspace import APP_ID, BOT_USER, TEAM_DOMAIN, TEAM_ID

VERIFICATION_TOKEN = "sandbox-verification-token"
_TOKEN = re.compile(r"<([@#!])?([^>|]+)(?:\|([^>]*))?>")


@dataclass
class Delivery:
    """One request the stand-in sent to the app, and the app's answer (status 0: no answer).

    Over Socket Mode (transport "socket") the answer is the ack: status 200 and its payload as the body."""

    kind: str
    url: str | None
    body: bytes
    headers: dict[str, str]
    status: int = 0
    response: str = ""
    elapsed: float = 0.0
    response_headers: dict[str, str] = field(default_factory=dict)
    transport: str = "http"

    def payload(self) -> Any:
        """What was sent, decoded: the event envelope, the slash form or the interactivity payload."""
        try:
            if self.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(self.body)
            form = {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}
            return json.loads(form["payload"]) if set(form) == {"payload"} else form
        except ValueError:  # deliver_raw can send anything
            return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The app's answer as JSON (None when empty or not JSON)."""
        try:
            return json.loads(self.response) if self.response else None
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "body": self.response, "elapsed": self.elapsed,
                "sent": self.payload(), "retry_num": self.headers.get("X-Slack-Retry-Num"),
                "transport": self.transport}


class SentMessage(str):
    """The ts of a message a person posted (it is a str), with the Delivery of its event attached."""

    delivery: Delivery

    def __new__(cls, ts: str, delivery: Delivery) -> SentMessage:
        sent = super().__new__(cls, ts)
        sent.delivery = delivery
        return sent

    def __getnewargs__(self) -> tuple[str, Delivery]:  # type: ignore[override]  # copy and pickle
        return str(self), self.delivery

    @property
    def ts(self) -> str:
        return str(self)

    @property
    def status(self) -> int:
        return self.delivery.status


def send(kind: str, url: str | None, body: bytes, content_type: str, secret: str, timeout: float,
         extra_headers: dict[str, str] | None = None) -> Delivery:
    """Sign body and POST it to url as Slack does; headers in extra_headers win over the signed ones."""
    headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
               **sign(secret, body), **(extra_headers or {})}
    delivery = Delivery(kind, url, body, headers)
    if url is None:
        delivery.response = "no events_url configured"
        return delivery
    answer = post(url, body, headers, timeout)
    delivery.status, delivery.response = answer.status, answer.body
    delivery.elapsed, delivery.response_headers = answer.elapsed, answer.headers
    return delivery


def rich_text(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack attaches to a person's message."""
    elements: list[dict[str, Any]] = []
    cursor = 0
    for match in _TOKEN.finditer(text):
        if match.start() > cursor:
            elements.append({"type": "text", "text": text[cursor:match.start()]})
        sigil, target, label = match.groups()
        if sigil == "@":
            elements.append({"type": "user", "user_id": target})
        elif sigil == "#":
            elements.append({"type": "channel", "channel_id": target})
        elif sigil == "!":
            elements.append({"type": "broadcast", "range": target})
        else:
            elements.append({"type": "link", "url": target, **({"text": label} if label else {})})
        cursor = match.end()
    if cursor < len(text):
        elements.append({"type": "text", "text": text[cursor:]})
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5],
             "elements": [{"type": "rich_text_section", "elements": elements}]}]


def envelope(event: dict[str, Any], event_number: int) -> dict[str, Any]:
    """The event_callback wrapper around event, with the fields Slack sends today (and authed_users)."""
    return {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "context_team_id": TEAM_ID, "api_app_id": APP_ID,
        "event": event, "type": "event_callback", "event_id": f"Ev0SANDBOX{event_number:06d}",
        "event_time": int(float(event.get("event_ts") or time.time())),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
        "authed_users": [BOT_USER], "is_ext_shared_channel": False,
        "event_context": f"4-sandbox-{event_number}",
    }


def message_event(channel: str, message: dict[str, Any], channel_type: str = "channel") -> dict[str, Any]:
    """A `message` event for a stored message (a person's or the bot's)."""
    hidden = ("reply_count", "reply_users", "reply_users_count", "latest_reply", "reactions", "edited")
    event = copy.deepcopy({k: v for k, v in message.items() if k not in hidden})
    event.update({"channel": channel, "event_ts": message["ts"], "channel_type": channel_type})
    if message.get("thread_ts") == message["ts"]:
        event.pop("thread_ts")
    return event


def changed_event(channel: str, previous: dict[str, Any], current: dict[str, Any], event_ts: str,
                  channel_type: str = "channel") -> dict[str, Any]:
    return {"type": "message", "subtype": "message_changed", "hidden": True, "channel": channel,
            "message": copy.deepcopy(current), "previous_message": copy.deepcopy(previous), "ts": event_ts,
            "event_ts": event_ts, "channel_type": channel_type}


def deleted_event(channel: str, previous: dict[str, Any], event_ts: str,
                  channel_type: str = "channel") -> dict[str, Any]:
    return {"type": "message", "subtype": "message_deleted", "hidden": True, "channel": channel,
            "deleted_ts": previous["ts"], "previous_message": copy.deepcopy(previous), "ts": event_ts,
            "event_ts": event_ts, "channel_type": channel_type}


def slash_form(command: str, text: str, user: str, user_name: str, channel: str, channel_name: str,
               response_url: str, trigger_id: str) -> bytes:
    return urlencode({
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN, "channel_id": channel,
        "channel_name": channel_name, "user_id": user, "user_name": user_name, "command": command,
        "text": text,
        "api_app_id": APP_ID, "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger_id,
    }).encode("utf-8")


def find_action(blocks: list[dict[str, Any]], action_id: str) -> tuple[str | None, dict[str, Any] | None]:
    """The block_id and element of the interactive element with action_id, if the blocks hold it."""
    for block in blocks or []:
        candidates = [*block.get("elements", []), *([block["accessory"]] if "accessory" in block else [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None, None


def block_actions_form(user: dict[str, Any], channel: str, channel_name: str, message: dict[str, Any] | None,
                       message_ts: str, action: dict[str, Any], response_url: str, trigger_id: str) -> bytes:
    """The form body (payload=JSON) of a block_actions interaction on a message's button or menu."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user["id"], "username": user["name"], "name": user["name"], "team_id": TEAM_ID},
        "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                      "is_ephemeral": False},
        "trigger_id": trigger_id, "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN}, "enterprise": None,
        "is_enterprise_install": False, "channel": {"id": channel, "name": channel_name},
        "message": message, "state": {"values": {}}, "response_url": response_url, "actions": [action],
    }
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode("utf-8")
