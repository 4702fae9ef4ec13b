"""The Slack Web API methods that read: permalinks, users, members, history, threads, channels; views."""

from __future__ import annotations

import copy
import logging
import math
import threading
from typing import Any

from sandbox.slack_workspace import APP_ID, TEAM_ID, Args, SlackError, Workspace, flag, json_arg, page

log = logging.getLogger(__name__)


class ReadSide:
    """Mixed into SlackStandIn; relies on its workspace and lock (held by the caller)."""

    workspace: Workspace
    _lock: threading.RLock

    def reset_reads(self) -> None:
        self.views: list[dict[str, Any]] = []

    def _permalink(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"))
        return {"ok": True, "channel": channel.id,
                "permalink": self.workspace.permalink(channel.id, str(args.get("message_ts")))}

    def _users_info(self, args: Args) -> dict[str, Any]:
        user = self.workspace.users.get(str(args.get("user")))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _members(self, args: Args) -> dict[str, Any]:
        members = [{"ts": m} for m in self.workspace.members(self.workspace.channel(args.get("channel")))]
        chunk, cursor = page(members, int(args.get("limit") or 100), args.get("cursor"))
        return {"ok": True, "members": [m["ts"] for m in chunk], "response_metadata": {"next_cursor": cursor}}

    def _usergroup_users(self, args: Args) -> dict[str, Any]:
        users = self.workspace.usergroups.get(str(args.get("usergroup")))
        if users is None:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(users)}

    @staticmethod
    def _window(messages: list[dict[str, Any]], args: Args) -> list[dict[str, Any]]:
        inclusive = flag(args.get("inclusive"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or math.inf)
        return [m for m in messages if (oldest <= float(m["ts"]) if inclusive else oldest < float(m["ts"]))
                and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)]

    def _listing(self, key: str, messages: list[dict[str, Any]], args: Args, limit: int) -> dict[str, Any]:
        size = int(args.get("limit") or limit)
        chunk, cursor = page(self._window(messages, args), size, args.get("cursor"))
        if not flag(args.get("include_all_metadata")):
            for message in chunk:
                message.pop("metadata", None)
        return {"ok": True, key: chunk, "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def _history(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"))
        body = self._listing("messages", self.workspace.top_level(channel.id)[::-1], args, 100)
        return {**body, "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}

    def _replies(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"))
        thread = self.workspace.replies(channel.id, str(args.get("ts") or ""))
        return self._listing("messages", thread, args, 1000)

    def _conversation_info(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channel(args.get("channel"))
        return {"ok": True, "channel": self.workspace.channel_object(channel)}

    def _view(self, args: Args, method: str) -> dict[str, Any]:
        """views.publish (needs user_id), views.open and views.push (need trigger_id), views.update."""
        view = json_arg(args, "view")
        needs = {"views.publish": "user_id", "views.open": "trigger_id",
                 "views.push": "trigger_id"}.get(method)
        if not isinstance(view, dict) or (needs and not args.get(needs)):
            raise SlackError("invalid_arguments")
        view_id = args.get("view_id") or f"V0SANDBOX{len(self.views) + 1:04d}"
        shown = {"id": view_id, "team_id": TEAM_ID, "app_id": APP_ID, **view}
        self.views.append({"method": method, "user_id": args.get("user_id"),
                           "trigger_id": args.get("trigger_id"), "view": shown})
        return {"ok": True, "view": copy.deepcopy(shown)}

    def _open_dm(self, args: Args) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1 or users[0] not in self.workspace.users:
            raise SlackError("user_not_found")
        return {"ok": True, "channel": {"id": self.workspace.channel(users[0], create=True).id}}
