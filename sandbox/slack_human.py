"""The people side of the Slack stand-in: what staff do, delivered to the app as Slack delivers it.

Every action is stored in the workspace first, then sent to `events_url` signed with the signing secret (or,
while the app holds a Socket Mode link, pushed over it as an envelope), and the app's answer (status, body,
seconds) comes back as a Delivery. The JSON control plane under /_sandbox/ exposes the same actions and the
stand-in's records to other processes.
"""

from __future__ import annotations

import copy
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sandbox import slack_socket, specs
from sandbox.http import Reply, Request, json_reply
from sandbox.slack_events import (
    Delivery,
    SentMessage,
    block_actions_form,
    changed_event,
    deleted_event,
    envelope,
    find_action,
    message_event,
    rich_text,
    send,
    slash_form,
)
from sandbox.slack_workspace import BOT_ID, TEAM_ID, SlackError, Workspace

log = logging.getLogger(__name__)


class HumanSide:
    """Mixed into SlackStandIn; relies on its workspace, lock, settings and records."""

    workspace: Workspace
    _lock: threading.RLock
    url: str
    signing_secret: str
    events_url: str | None
    delivery_timeout: float
    validate: bool
    spec_violations: list[str]
    ephemerals: list[dict[str, Any]]
    socket_mode: slack_socket.SocketModeServer

    def __init__(self) -> None:
        self._outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._sender: threading.Thread | None = None

    def reset_human_side(self) -> None:
        self._outbox = queue.Queue()  # events of the previous run are dropped
        self._sender = None
        self.deliveries: list[Delivery] = []
        self.responses: list[dict[str, Any]] = []
        self.last_delivery: Delivery | None = None
        self._response_urls: dict[int, dict[str, Any]] = {}
        self._event_number = 0

    # ----- what people do ------------------------------------------------------------------------------

    def user_message(self, channel: str, text: str, user: str = "U0STAFF1",
                     thread_ts: str | None = None) -> SentMessage:
        """A person posts text (in a thread when thread_ts) and the `message` event goes to the app.

        Returns the message's ts: a str that also carries `.ts` and `.delivery` (for redeliver)."""
        with self._lock:
            self.workspace.ensure_user(user)
            found = self.workspace.channel(channel, create=True)
            message = {"user": user, "text": text, "team": TEAM_ID, "client_msg_id": str(uuid.uuid4()),
                       "blocks": rich_text(text)}
            stored = self.workspace.post(found.id, message, thread_ts)
            event = message_event(found.id, stored, "im" if found.is_im else "channel")
        self.last_delivery = self.deliver_event(event)
        return SentMessage(stored["ts"], self.last_delivery)

    def edit_message(self, channel: str, ts: str, new_text: str, user: str | None = None) -> Delivery:
        """A person edits a message: a message_changed event."""
        with self._lock:
            channel_id = self.workspace.channel(channel).id
            editor = user or self.workspace.find(channel_id, ts).get("user", "")
            changes = {"text": new_text, "blocks": rich_text(new_text)}
            previous, current = self.workspace.update(channel_id, ts, changes, editor)
            event = changed_event(channel_id, previous, copy.deepcopy(current), self.workspace.next_ts())
        self.last_delivery = self.deliver_event(event)
        return self.last_delivery

    def delete_message(self, channel: str, ts: str) -> Delivery:
        """A person deletes a message: a message_deleted event."""
        with self._lock:
            channel_id = self.workspace.channel(channel).id
            previous = self.workspace.delete(channel_id, ts)
            event = deleted_event(channel_id, previous, self.workspace.next_ts())
        self.last_delivery = self.deliver_event(event)
        return self.last_delivery

    def slash_command(self, command: str, text: str, user: str = "U0STAFF1",
                      channel: str = "C0TRIAGE") -> Delivery:
        """A person runs a slash command: the form-encoded request Slack sends, signed."""
        with self._lock:
            self.workspace.ensure_user(user)
            found = self.workspace.channel(channel, create=True)
            response_url = self._response_url({"channel": found.id, "user": user})
            body = slash_form(command, text, user, self.workspace.users[user]["name"], found.id, found.name,
                              response_url, self._trigger_id())
        return self._send("slash", body, "application/x-www-form-urlencoded")

    def block_action(self, user: str, channel: str, message_ts: str, action_id: str, value: str | None = None,
                     block_id: str | None = None, action_type: str | None = None,
                     selected_option: dict[str, Any] | None = None) -> Delivery:
        """A person clicks a button (or picks a menu option) on a message: a block_actions payload."""
        with self._lock:
            self.workspace.ensure_user(user)
            found = self.workspace.channel(channel)
            message = copy.deepcopy(self.workspace.find(found.id, message_ts))
            found_block, element = find_action(message.get("blocks", []), action_id)
            action: dict[str, Any] = {"action_id": action_id,
                                      "block_id": block_id or found_block or "actions",
                                      "type": action_type or (element or {}).get("type", "button"),
                                      "action_ts": self.workspace.next_ts()}
            if element and "text" in element:
                action["text"] = element["text"]
            if value is not None or (element and "value" in element):
                action["value"] = value if value is not None else element["value"]  # type: ignore[index]
            if selected_option is not None:
                action["selected_option"] = selected_option
            response_url = self._response_url({"channel": found.id, "user": user, "message_ts": message_ts})
            body = block_actions_form(self.workspace.users[user], found.id, found.name, message, message_ts,
                                      action, response_url, self._trigger_id())
        return self._send("action", body, "application/x-www-form-urlencoded")

    # ----- delivery --------------------------------------------------------------------------------------

    def deliver_event(self, event: dict[str, Any]) -> Delivery:
        """Wrap event in an event_callback envelope and deliver it now."""
        return self._send("event", self._envelope(event), "application/json")

    def deliver_raw(self, body: bytes, headers: dict[str, str] | None = None,
                    content_type: str = "application/json") -> Delivery:
        """Send body as is; headers given here override the computed signature headers."""
        return self._send("raw", body, content_type, headers)

    def redeliver(self, delivery: Delivery | SentMessage, retry_num: int = 1,
                  reason: str = "http_timeout") -> Delivery:
        """Send the same request again as Slack's retry does: re-signed, with X-Slack-Retry-Num/-Reason."""
        if isinstance(delivery, SentMessage):
            delivery = delivery.delivery
        content_type = delivery.headers.get("Content-Type", "application/json")
        retry = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason}
        return self._send(delivery.kind, delivery.body, content_type, retry)

    def queue_event(self, event: dict[str, Any]) -> None:
        """Deliver event soon, in order, from a background thread (used for the bot's own messages)."""
        if self.events_url is None and not self.socket_mode.connected():
            return
        with self._lock:
            self._outbox.put(event)
            if self._sender is None:
                self._sender = threading.Thread(target=self._drain, args=(self._outbox,), name="slack-echo",
                                                daemon=True)
                self._sender.start()

    def _drain(self, outbox: queue.Queue[dict[str, Any]]) -> None:
        while True:
            try:
                event = outbox.get(timeout=1)
            except queue.Empty:
                with self._lock:
                    if outbox.empty():
                        if self._outbox is outbox:
                            self._sender = None
                        return
                continue
            if outbox is self._outbox:
                self._send("event", self._envelope(event), "application/json")

    def _envelope(self, event: dict[str, Any]) -> bytes:
        with self._lock:
            self._event_number += 1
            stamp = event.get("event_ts") or event.get("ts") or self.workspace.next_ts()
            event = {**event, "event_ts": stamp}
            payload = envelope(event, self._event_number)
            if self.validate:
                found = specs.slack_event_errors(payload)
                self.spec_violations += [f"event {event.get('type')}: {e}" for e in found]
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _send(self, kind: str, body: bytes, content_type: str,
              extra: dict[str, str] | None = None) -> Delivery:
        if self.socket_mode.connected():  # Slack sends an app with a live Socket Mode link nothing over HTTP
            delivery = slack_socket.deliver(self.socket_mode, kind, body, content_type, extra,
                                            self.delivery_timeout)
        else:
            delivery = send(kind, self.events_url, body, content_type, self.signing_secret,
                            self.delivery_timeout, extra)
        with self._lock:
            self.deliveries.append(delivery)
        log.debug("delivered %s: %s in %.3fs", kind, delivery.status, delivery.elapsed)
        return delivery

    def _trigger_id(self) -> str:
        return f"{self._event_number}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:32]}"

    def _response_url(self, context: dict[str, Any]) -> str:
        number = len(self._response_urls) + 1
        self._response_urls[number] = context
        return f"{self.url}/_sandbox/responses/{number}"

    def _on_response(self, number: int, body: Any) -> Reply:
        """What Slack does with a POST to a response_url: reply in channel, replace, delete or whisper."""
        with self._lock:
            context = self._response_urls.get(number)
            if context is None or not isinstance(body, dict):
                return json_reply({"ok": False, "error": "expired_url"}, 404)
            self.responses.append({"n": number, "body": body, **context})
            channel, ts = context["channel"], context.get("message_ts")
            content = {k: body[k] for k in ("text", "blocks") if k in body}
            bot = {"user": "UBOT", "bot_id": BOT_ID, "team": TEAM_ID, **content}
            try:
                if body.get("delete_original") and ts:
                    self.workspace.delete(channel, ts)
                elif body.get("replace_original") and ts:
                    self.workspace.update(channel, ts, content, "UBOT")
                elif body.get("response_type") == "in_channel":
                    self.workspace.post(channel, {"text": "", **bot}, body.get("thread_ts"))
                else:
                    self.ephemerals.append({**bot, "channel": channel, "user": context["user"],
                                            "via": "response_url"})
            except SlackError as err:
                return json_reply({"ok": False, "error": err.code})
        return json_reply({"ok": True})

    # ----- control plane ---------------------------------------------------------------------------------

    def control(self, request: Request) -> Reply:
        """The JSON control plane under /_sandbox/ (see the module docstring)."""
        name = request.path.removeprefix("/_sandbox/")
        try:
            body = request.json() if request.body else {}
        except ValueError:
            body = None
        if name.startswith("responses/") and request.method == "POST":
            return self._on_response(int(name.split("/")[1]), body)
        try:
            if request.method == "POST":
                return self._control_post(name, body or {})
            return self._control_get(name, request)
        except (KeyError, TypeError, ValueError, SlackError) as err:
            return json_reply({"ok": False, "error": str(err)}, 400)

    def _control_post(self, name: str, body: dict[str, Any]) -> Reply:
        stand_in: Any = self
        if name == "user_message":
            sent = self.user_message(**body)
            return json_reply({"ts": sent.ts, "delivery": sent.delivery.as_dict()})
        if name == "edit":
            body.setdefault("new_text", body.pop("text", None))
            return json_reply(self.edit_message(**body).as_dict())
        actions: dict[str, Callable[..., Delivery]] = {
            "delete": self.delete_message, "slash": self.slash_command, "action": self.block_action}
        if name in actions:
            return json_reply(actions[name](**body).as_dict())
        if name == "redeliver":
            original = self.deliveries[int(body.pop("index", -1))]
            return json_reply(self.redeliver(original, **body).as_dict())
        setters = {"fail": stand_in.fail_next, "reset": stand_in.reset, "users": stand_in.add_user,
                   "channels": stand_in.add_channel, "members": stand_in.set_members}
        if name in setters:
            setters[name](**body)
            return json_reply({"ok": True})
        return json_reply({"ok": False, "error": f"no control endpoint POST /_sandbox/{name}"}, 404)

    def _control_get(self, name: str, request: Request) -> Reply:
        stand_in: Any = self
        if name == "messages":
            return json_reply(stand_in.messages(request.arg("channel") or ""))
        if name == "thread":
            return json_reply(stand_in.thread(request.arg("channel") or "", request.arg("ts") or ""))
        with self._lock:
            records: dict[str, Any] = {
                "violations": self.spec_violations, "responses": self.responses,
                "ephemerals": self.ephemerals,
                "views": stand_in.views, "calls": [{"method": m, "args": a} for m, a in stand_in.calls],
                "deliveries": [d.as_dict() for d in self.deliveries],
                "uploads": [{k: v for k, v in u.items() if k != "content"} | {"size": len(u["content"])}
                            for u in stand_in.uploads],
            }
            if name in records:
                return json_reply(json.loads(json.dumps(records[name], default=str)))
        return json_reply({"ok": False, "error": f"no control endpoint GET /_sandbox/{name}"}, 404)
