"""File uploads the way files_upload_v2 does them: get an upload URL, POST the bytes, complete the upload."""

from __future__ import annotations

import copy
import logging
import threading
import time
from typing import Any

from sandbox.http import Reply
from sandbox.slack_events import message_event
from sandbox.slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    TEAM_ID,
    Args,
    SlackError,
    Workspace,
    json_arg,
)

log = logging.getLogger(__name__)


class FilesSide:
    """Mixed into SlackStandIn: files.getUploadURLExternal, the upload, files.completeUploadExternal."""

    workspace: Workspace
    _lock: threading.RLock
    url: str

    def reset_files(self) -> None:
        self.uploads: list[dict[str, Any]] = []
        self._files: dict[str, dict[str, Any]] = {}

    def _echo(self, channel: str, event: dict[str, Any]) -> None:
        raise NotImplementedError

    def _upload_url(self, args: Args) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length") or "").isdigit():
            raise SlackError("invalid_arguments")
        file_id = f"F0SANDBOX{len(self._files) + 1:04d}"
        self._files[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"]),
                                "alt_txt": args.get("alt_txt"), "content": None}
        return {"ok": True, "upload_url": f"{self.url}/_upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, file_id: str, body: bytes) -> Reply:
        with self._lock:
            if file_id not in self._files:
                return Reply(404, "file not found")
            self._files[file_id]["content"] = body
        return Reply(200, f"OK - {len(body)}")

    def _complete_upload(self, args: Args) -> dict[str, Any]:
        wanted = json_arg(args, "files")
        if not isinstance(wanted, list) or not wanted:
            raise SlackError("invalid_arguments")
        files = [self._file_object(str(item.get("id")), item.get("title")) for item in wanted]
        if args.get("channel_id"):
            targets = [str(args["channel_id"])]
        else:
            targets = [c for c in str(args.get("channels") or "").split(",") if c]
        shared = [self.workspace.channel(c, create=True).id for c in targets]
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        comment = str(args.get("initial_comment") or "")
        for channel_id in shared:
            message = {"user": BOT_USER, "bot_id": BOT_ID, "app_id": APP_ID, "text": comment, "files": files,
                       "upload": True, "display_as_bot": False, "team": TEAM_ID}
            stored = self.workspace.post(channel_id, message, thread_ts)
            self._echo(channel_id, message_event(channel_id, stored))
        for file in files:
            content = self._files[file["id"]]["content"]
            self.uploads.append({**file, "content": content, "channels": shared, "thread_ts": thread_ts,
                                 "initial_comment": comment})
        return {"ok": True, "files": copy.deepcopy(files)}

    def _file_object(self, file_id: str, title: str | None) -> dict[str, Any]:
        pending = self._files.get(file_id)
        if pending is None or pending["content"] is None:
            raise SlackError("file_not_found")
        name = pending["name"]
        return {"id": file_id, "name": name, "title": title or name, "size": len(pending["content"]),
                "user": BOT_USER, "created": int(time.time()), "mimetype": "application/octet-stream",
                "filetype": name.rsplit(".", 1)[-1], "url_private": f"{self.url}/_files/{file_id}",
                "permalink": f"https://sandbox.slack.com/files/{BOT_USER}/{file_id}"}
