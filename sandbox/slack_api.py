"""A local stand-in for the Slack Web API, for the real slack_sdk WebClient (base_url=url + "/api/")."""

from __future__ import annotations

import copy
import email.parser
import email.policy
import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from sandbox import specs
from sandbox.http import Reply, Request, StandInServer, json_reply
from sandbox.slack_blocks import block_errors, view_errors
from sandbox.slack_events import changed_event, deleted_event, message_event
from sandbox.slack_files import FilesSide
from sandbox.slack_human import HumanSide
from sandbox.slack_reads import ReadSide
from sandbox.slack_socket import SocketModeServer
from sandbox.slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    TEAM_ID,
    Args,
    SlackError,
    Workspace,
    flag,
    json_arg,
)

log = logging.getLogger(__name__)

# Methods that take the app-level token (xapp-…); every other one takes the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
BOT_PROFILE = {"id": BOT_ID, "app_id": APP_ID, "name": "Escalator", "deleted": False, "team_id": TEAM_ID}


def parse_args(request: Request) -> Args:
    """Slack accepts query args, form bodies, multipart bodies and (with a bearer token) JSON bodies."""
    args: Args = {k: v[0] for k, v in request.query.items()}
    content_type = request.headers.get("content-type", "")
    if not request.body:
        return args
    if content_type.startswith("application/json"):
        try:
            body = request.json()
        except ValueError as err:
            raise SlackError("invalid_json") from err
        if not isinstance(body, dict):
            raise SlackError("json_not_object")
        args.update(body)
    elif content_type.startswith("multipart/form-data"):
        raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
        message = cast(EmailMessage, email.parser.BytesParser(policy=email.policy.default).parsebytes(raw))
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = cast(bytes, part.get_payload(decode=True) or b"")
            args[str(name)] = payload if part.get_filename() else payload.decode("utf-8")
    else:
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        args.update({k: v[0] for k, v in form.items()})
    return args


@dataclass
class _Fault:
    method: str
    error: str
    status: int
    count: int
    headers: dict[str, str]
    after: bool

    def reply(self) -> Reply:
        headers = dict(self.headers)
        if self.status == 429 and not any(k.lower() == "retry-after" for k in headers):
            headers["Retry-After"] = "1"
        return json_reply({"ok": False, "error": self.error}, self.status, headers)


class SlackStandIn(HumanSide, FilesSide, ReadSide, StandInServer):
    """One Slack workspace with one bot; drive the people in it from Python or over HTTP under /_sandbox/."""

    def __init__(self, signing_secret: str = "sandbox-secret", bot_token: str = "xoxb-sandbox",
                 events_url: str | None = None, rate_limit_per_channel: float | None = None,
                 echo_bot_messages: bool = True, validate_specs: bool | None = None,
                 auto_channels: bool = True, delivery_timeout: float = 10.0, app_token: str = "xapp-sandbox") -> None:
        StandInServer.__init__(self)
        HumanSide.__init__(self)
        self.signing_secret, self.bot_token, self.events_url = signing_secret, bot_token, events_url
        self.app_token = app_token
        self.socket_mode = SocketModeServer(APP_ID)
        self.rate_limit_per_channel = rate_limit_per_channel
        self.echo_bot_messages, self.auto_channels = echo_bot_messages, auto_channels
        self.delivery_timeout = delivery_timeout
        self.validate = specs.validation_enabled(validate_specs)
        self._methods: dict[str, Callable[[Args], dict[str, Any]]] = {
            "auth.test": self._auth_test, "chat.postMessage": self._post_message, "chat.update": self._update,
            "chat.delete": self._delete, "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink, "reactions.add": self._reaction_add,
            "reactions.remove": self._reaction_remove, "users.info": self._users_info,
            "conversations.members": self._members, "conversations.history": self._history,
            "conversations.replies": self._replies, "conversations.info": self._conversation_info,
            "conversations.open": self._open_dm, "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload, "usergroups.users.list": self._usergroup_users,
            "apps.connections.open": self._connections_open,
        }
        for view_method in ("views.publish", "views.open", "views.push", "views.update"):
            self._methods[view_method] = functools.partial(self._checked_view, method=view_method)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.workspace = Workspace(self.auto_channels)
            self.workspace.add_user("U0STAFF1", "staff1", real_name="Staff One")
            self.calls: list[tuple[str, Args]] = []
            self.ephemerals: list[dict[str, Any]] = []
            self.spec_violations: list[str] = []
            self._faults: list[_Fault] = []
            self._last_post: dict[str, float] = {}
            self.throttled = 0  # chat.postMessage calls answered 429 for going over the per-channel rate
            self.reset_files()
            self.reset_reads()
            self.reset_human_side()
            self.socket_mode.reset()

    def stop(self) -> None:
        self.socket_mode.stop()
        super().stop()

    # ----- Python setup and inspection ------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, is_bot: bool = False, real_name: str | None = None) -> None:
        with self._lock:
            self.workspace.add_user(user_id, name, is_bot, real_name)

    def add_channel(self, channel_id: str, name: str | None = None, members: list[str] | None = None) -> None:
        with self._lock:
            self.workspace.add_channel(channel_id, name, members)

    def set_usergroup(self, group: str, users: list[str]) -> None:
        """A user group (S…) and its members, as usergroups.users.list lists them."""
        with self._lock:
            for user in users:
                self.workspace.ensure_user(user)
            self.workspace.usergroups[group] = list(users)

    def set_members(self, channel: str, users: list[str]) -> None:
        with self._lock:
            for user in users:
                self.workspace.ensure_user(user)
            self.workspace.add_channel(channel, members=users)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's top-level messages, oldest first, each with its thread replies under "replies"."""
        with self._lock:
            try:
                channel_id = self.workspace.channel(channel).id
            except SlackError:
                return []
            out = []
            for message in self.workspace.top_level(channel_id):
                item = copy.deepcopy(message)
                item["replies"] = copy.deepcopy(self.workspace.replies(channel_id, message["ts"])[1:]) \
                    if message.get("reply_count") and message.get("subtype") != "thread_broadcast" else []
                out.append(item)
            return out

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The thread holding ts, parent first."""
        with self._lock:
            return copy.deepcopy(self.workspace.replies(self.workspace.channel(channel).id, ts))

    def fail_next(self, method: str, error: str | None = None, status: int = 200, count: int = 1,
                  headers: dict[str, str] | None = None, after: bool = False) -> None:
        """Fail the next `count` calls of method; after=True performs the call first (the answer is lost)."""
        default = "ratelimited" if status == 429 else "fatal_error" if status >= 500 else "internal_error"
        with self._lock:
            self._faults.append(_Fault(method, error or default, status, count, dict(headers or {}), after))

    # ----- Web API --------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/api/"):
            return self._web(request.path.removeprefix("/api/"), request)
        if request.path.startswith("/_upload/"):
            return self._receive_upload(request.path.removeprefix("/_upload/"), request.body)
        return self.control(request)

    def _web(self, method: str, request: Request) -> Reply:
        try:
            args = parse_args(request)
        except SlackError as err:
            return json_reply({"ok": False, "error": err.code})
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else args.get("token")
        with self._lock:
            self.calls.append((method, {k: v for k, v in args.items() if k != "token"}))
            if self.validate:
                self.spec_violations += specs.check_slack_args(method, args)
            fault = self._take_fault(method)
            if fault is not None and not fault.after:
                return fault.reply()
            if (refused := self._auth_error(method, token)) is not None:
                result: dict[str, Any] = {"ok": False, "error": refused}
            elif method not in self._methods:
                result = {"ok": False, "error": "unknown_method"}
            elif (wait := self._rate_limited(method, args)) is not None:
                return json_reply({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
            else:
                try:
                    result = self._methods[method](args)
                except SlackError as err:
                    result = err.answer()
        return fault.reply() if fault is not None else json_reply(result)

    def _auth_error(self, method: str, token: str | None) -> str | None:
        """Slack's answer to a missing or wrong token; the other kind of our tokens is the wrong type."""
        if not token:
            return "not_authed"
        wanted, other = ((self.app_token, self.bot_token) if method in APP_TOKEN_METHODS
                         else (self.bot_token, self.app_token))
        if token == wanted:
            return None
        return "not_allowed_token_type" if token == other else "invalid_auth"

    def _take_fault(self, method: str) -> _Fault | None:
        fault = next((f for f in self._faults if f.method == method), None)
        if fault is not None:
            fault.count -= 1
            if fault.count <= 0:
                self._faults.remove(fault)
        return fault

    def _rate_limited(self, method: str, args: Args) -> int | None:
        """Seconds to wait when chat.postMessage goes over the per-channel rate, else None."""
        if method != "chat.postMessage" or not self.rate_limit_per_channel:
            return None
        key, now, interval = str(args.get("channel")), time.monotonic(), 1.0 / self.rate_limit_per_channel
        last = self._last_post.get(key)
        if last is not None and now - last < interval:
            self.throttled += 1
            return max(1, math.ceil(interval - (now - last)))
        self._last_post[key] = now
        return None

    def _echo(self, channel: str, event: dict[str, Any]) -> None:
        if self.echo_bot_messages:
            self.queue_event(event)

    @staticmethod
    def _content(args: Args) -> dict[str, Any]:
        """text, blocks, attachments and metadata of a chat.* call, checked as Slack checks them."""
        text = str(args.get("text") or "")
        blocks, attachments = json_arg(args, "blocks"), json_arg(args, "attachments")
        metadata = json_arg(args, "metadata")
        if not (text or blocks or attachments):
            raise SlackError("no_text")
        if len(text) > 40000:
            raise SlackError("msg_too_long")
        if blocks is not None and not isinstance(blocks, list):
            raise SlackError("invalid_blocks")
        if errors := block_errors(blocks):
            raise SlackError("invalid_blocks", errors)
        if metadata is not None and not (isinstance(metadata, dict) and "event_type" in metadata
                                         and isinstance(metadata.get("event_payload"), dict)):
            raise SlackError("invalid_metadata_format")
        return {"text": text, "blocks": blocks, "attachments": attachments, "metadata": metadata}

    def _bot_message(self, args: Args) -> dict[str, Any]:
        message = {"user": BOT_USER, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID,
                   "bot_profile": BOT_PROFILE}
        return message | {k: v for k, v in self._content(args).items() if v is not None}

    def _auth_test(self, args: Args) -> dict[str, Any]:
        return {"ok": True, "url": "https://sandbox.slack.com/", "team": "Sandbox", "user": "escalator",
                "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _connections_open(self, args: Args) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_mode.open_url(urlsplit(self.url).hostname or "127.0.0.1")}

    def _post_message(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"), create=True)
        message = self._bot_message(args)
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts and flag(args.get("reply_broadcast")):
            message["subtype"] = "thread_broadcast"
        stored = self.workspace.post(channel.id, message, thread_ts)
        self._echo(channel.id, message_event(channel.id, stored, "im" if channel.is_im else "channel"))
        return {"ok": True, "channel": channel.id, "ts": stored["ts"], "message": copy.deepcopy(stored)}

    def _update(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"))
        if self.workspace.find(channel.id, args.get("ts")).get("user") != BOT_USER:
            raise SlackError("cant_update_message")
        previous, current = self.workspace.update(channel.id, str(args["ts"]), self._content(args), BOT_USER)
        self._echo(channel.id, changed_event(channel.id, previous, current, self.workspace.next_ts()))
        return {"ok": True, "channel": channel.id, "ts": current["ts"], "text": current["text"],
                "message": copy.deepcopy(current)}

    def _delete(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"))
        if self.workspace.find(channel.id, args.get("ts")).get("user") != BOT_USER:
            raise SlackError("cant_delete_message")
        previous = self.workspace.delete(channel.id, str(args["ts"]))
        self._echo(channel.id, deleted_event(channel.id, previous, self.workspace.next_ts()))
        return {"ok": True, "channel": channel.id, "ts": previous["ts"]}

    def _post_ephemeral(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"), create=True)
        message = self._bot_message(args)
        if args.get("user") not in self.workspace.members(channel):
            raise SlackError("user_not_in_channel")
        ts = self.workspace.next_ts()
        # "user" is whom it was shown to, as in the chat.postEphemeral call
        self.ephemerals.append({**message, "channel": channel.id, "user": args["user"], "ts": ts,
                                "thread_ts": args.get("thread_ts")})
        return {"ok": True, "message_ts": ts}

    def _checked_view(self, args: Args, method: str) -> dict[str, Any]:
        """views.*: a view over Slack's limits is refused as Slack refuses it (invalid_arguments)."""
        view = json_arg(args, "view")
        if isinstance(view, dict) and (errors := view_errors(view)):
            raise SlackError("invalid_arguments", errors)
        return self._view(args, method=method)

    def _reaction(self, args: Args, add: bool) -> dict[str, Any]:
        if not args.get("name"):
            raise SlackError("invalid_name")
        channel = self.workspace.channel(args.get("channel"))
        name = str(args["name"]).strip(":")
        self.workspace.react(channel.id, str(args.get("timestamp")), name, BOT_USER, add)
        return {"ok": True}

    def _reaction_add(self, args: Args) -> dict[str, Any]:
        return self._reaction(args, True)

    def _reaction_remove(self, args: Args) -> dict[str, Any]:
        return self._reaction(args, False)
