"""The Slack stand-in's workspace: users, channels and messages, kept the way Slack keeps them."""

from __future__ import annotations

import base64
import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0SANDBOX"
TEAM_DOMAIN = "sandbox"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0SANDBOX"

Args = dict[str, Any]


class SlackError(Exception):
    """A Web API error: answered as {"ok": false, "error": code}, with Slack's `messages` where it gives them."""

    def __init__(self, code: str, messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.messages = list(messages or [])

    def answer(self) -> dict[str, Any]:
        """The response body: where Slack says what was wrong, it says so twice (errors, and as [ERROR] lines)."""
        body: dict[str, Any] = {"ok": False, "error": self.code}
        if self.messages:
            body["errors"] = list(self.messages)
            body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in self.messages]}
        return body


def flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def json_arg(args: Args, name: str) -> Any:
    value = args.get(name)
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError as err:
            code = f"invalid_{name}" if name in ("blocks", "attachments") else "invalid_arguments"
            raise SlackError(code) from err
    return value or None


@dataclass
class Channel:
    id: str
    name: str
    created: int = field(default_factory=lambda: int(time.time()))
    members: list[str] | None = None  # None: everyone in the workspace
    is_im: bool = False


def encode_cursor(value: str) -> str:
    return base64.b64encode(f"next_ts:{value}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.b64decode(cursor.encode()).decode().split(":", 1)[1]
    except (ValueError, IndexError) as err:
        raise SlackError("invalid_cursor") from err


class Workspace:
    """Plain state, no locking and no HTTP: the stand-in holds the lock and translates."""

    def __init__(self, auto_channels: bool = True) -> None:
        self.auto_channels = auto_channels
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}  # every message of a channel, in ts order
        self.usergroups: dict[str, list[str]] = {}  # user group id (S…) -> its members
        self._last_micros = 0
        self.add_user(BOT_USER, "escalator", is_bot=True, real_name="Escalator")

    def next_ts(self) -> str:
        """Slack ts: wall-clock seconds and microseconds, strictly increasing."""
        self._last_micros = max(time.time_ns() // 1000, self._last_micros + 1)
        return f"{self._last_micros // 1_000_000}.{self._last_micros % 1_000_000:06d}"

    def add_user(self, user_id: str, name: str, is_bot: bool = False,
                 real_name: str | None = None) -> dict[str, Any]:
        real = real_name or name
        self.users[user_id] = {
            "id": user_id, "team_id": TEAM_ID, "name": name, "real_name": real, "deleted": False,
            "is_bot": is_bot, "is_app_user": False, "is_admin": False, "tz": "Asia/Seoul", "tz_offset": 32400,
            "updated": int(time.time()),
            "profile": {"real_name": real, "display_name": name, "real_name_normalized": real,
                        "display_name_normalized": name, "team": TEAM_ID,
                        **({"bot_id": BOT_ID, "api_app_id": APP_ID} if user_id == BOT_USER else {})},
        }
        return self.users[user_id]

    def ensure_user(self, user_id: str) -> None:
        if user_id not in self.users:
            self.add_user(user_id, user_id.lower())

    def add_channel(self, channel_id: str, name: str | None = None, members: list[str] | None = None,
                    is_im: bool = False) -> Channel:
        channel = self.channels.get(channel_id)
        channel = channel or Channel(channel_id, name or channel_id.lower(), is_im=is_im)
        if name:
            channel.name = name
        if members is not None:
            channel.members = list(members)
        self.channels[channel_id] = channel
        self.history.setdefault(channel_id, [])
        return channel

    def channel(self, ref: str | None, create: bool = False) -> Channel:
        """Resolve an id, a #name or a user id (the bot's DM with them); create on post when allowed."""
        if not ref:
            raise SlackError("channel_not_found")
        if ref in self.channels:
            return self.channels[ref]
        name = ref.lstrip("#")
        named = next((c for c in self.channels.values() if c.name == name), None)
        if named is not None:
            return named
        if ref in self.users and create:
            return self.add_channel("D" + ref[1:], ref, members=[ref, BOT_USER], is_im=True)
        if create and self.auto_channels and not ref.startswith("#"):
            return self.add_channel(ref)
        raise SlackError("channel_not_found")

    def members(self, channel: Channel) -> list[str]:
        return list(channel.members) if channel.members is not None else list(self.users)

    def find(self, channel_id: str, ts: str | None) -> dict[str, Any]:
        found = next((m for m in self.history.get(channel_id, []) if m["ts"] == ts), None)
        if found is None:
            raise SlackError("message_not_found")
        return found

    def post(self, channel_id: str, message: dict[str, Any], thread_ts: str | None = None) -> dict[str, Any]:
        """Store message (ts assigned here); a reply updates its parent's thread fields."""
        message = {"type": "message", **message, "ts": self.next_ts()}
        if thread_ts:
            thread_ts = message["thread_ts"] = str(thread_ts)
            parent = next((m for m in self.history[channel_id] if m["ts"] == thread_ts), None)
            if parent is not None:
                author = message.get("user", "")
                message["parent_user_id"] = parent.get("user", "")
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["reply_users"] = list(dict.fromkeys([*parent.get("reply_users", []), author]))
                parent["reply_users_count"] = len(parent["reply_users"])
                parent["latest_reply"] = message["ts"]
        self.history[channel_id].append(message)
        return message

    def update(self, channel_id: str, ts: str, changes: dict[str, Any],
               editor: str) -> tuple[dict[str, Any], dict[str, Any]]:
        message = self.find(channel_id, ts)
        previous = copy.deepcopy(message)
        message.update({k: v for k, v in changes.items() if v is not None})
        message["edited"] = {"user": editor, "ts": self.next_ts()}
        return previous, message

    def delete(self, channel_id: str, ts: str) -> dict[str, Any]:
        message = self.find(channel_id, ts)
        self.history[channel_id].remove(message)
        parent_ts = message.get("thread_ts")
        if parent_ts and parent_ts != ts:
            parent = next((m for m in self.history[channel_id] if m["ts"] == parent_ts), None)
            if parent is not None and parent.get("reply_count"):
                parent["reply_count"] -= 1
        return message

    def top_level(self, channel_id: str) -> list[dict[str, Any]]:
        """What the channel shows: thread parents, plain messages and broadcast replies."""
        return [m for m in self.history.get(channel_id, [])
                if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"]

    def replies(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        """The thread holding ts: parent first, then its replies in order."""
        message = self.find(channel_id, ts) if ts else None
        if message is None:
            raise SlackError("thread_not_found")
        root = message.get("thread_ts") or message["ts"]
        return [m for m in self.history[channel_id] if m["ts"] == root or m.get("thread_ts") == root]

    def react(self, channel_id: str, ts: str, name: str, user: str, add: bool) -> None:
        message = self.find(channel_id, ts)
        reactions = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if add:
            if reaction is not None and user in reaction["users"]:
                raise SlackError("already_reacted")
            if reaction is None:
                reaction = {"name": name, "users": [], "count": 0}
                reactions.append(reaction)
            reaction["users"].append(user)
        else:
            if reaction is None or user not in reaction["users"]:
                raise SlackError("no_reaction")
            reaction["users"].remove(user)
            if not reaction["users"]:
                reactions.remove(reaction)
        if reaction in reactions:
            reaction["count"] = len(reaction["users"])
        if not reactions:
            message.pop("reactions")

    def permalink(self, channel_id: str, ts: str) -> str:
        message = self.find(channel_id, ts)
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
        root = message.get("thread_ts")
        return f"{link}?thread_ts={root}&cid={channel_id}" if root and root != ts else link

    def channel_object(self, channel: Channel) -> dict[str, Any]:
        return {"id": channel.id, "name": channel.name, "name_normalized": channel.name,
                "created": channel.created, "creator": BOT_USER, "is_channel": not channel.is_im,
                "is_group": False, "is_im": channel.is_im,
                "is_private": False, "is_archived": False, "is_general": False, "is_member": True,
                "is_shared": False, "is_ext_shared": False, "is_org_shared": False,
                "num_members": len(self.members(channel)),
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0}}


def page(items: list[dict[str, Any]], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str]:
    """One page of items (already ordered) starting at cursor; the next cursor or ''."""
    start = 0
    if cursor:
        resume = decode_cursor(cursor)
        start = next((i for i, m in enumerate(items) if m["ts"] == resume), len(items))
    chunk = items[start:start + limit]
    rest = items[start + limit:]
    return copy.deepcopy(chunk), encode_cursor(rest[0]["ts"]) if rest else ""
