"""slack-manifest.yml asks for what the code uses, and nothing else; it can be created before `web` is up."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The Web API methods the bot calls (bot/adapters/slack.py) and the bot scopes Slack documents for them.
METHOD_SCOPES = {
    "auth.test": set(), "chat.getPermalink": set(), "chat.postEphemeral": {"chat:write"},
    "chat.postMessage": {"chat:write"}, "chat.update": {"chat:write"},
    "conversations.history": {"channels:history", "groups:history"},
    "conversations.replies": {"channels:history", "groups:history"},
    "conversations.members": {"channels:read", "groups:read"}, "usergroups.users.list": {"usergroups:read"},
    "users.info": {"users:read"}, "views.open": set(), "views.publish": set(),
    "files.getUploadURLExternal": {"files:write"}, "files.completeUploadExternal": {"files:write"},
}


def manifest() -> dict:
    return yaml.safe_load((ROOT / "slack-manifest.yml").read_text(encoding="utf-8"))


def test_the_manifest_asks_only_for_scopes_the_code_uses():
    source = (ROOT / "bot" / "adapters" / "slack.py").read_text(encoding="utf-8")
    called = set(re.findall(r'_call\("([a-zA-Z.]+)"', source))
    assert called <= set(METHOD_SCOPES), f"add the scopes of {called - set(METHOD_SCOPES)} here"
    if "files_upload_v2" in source:
        called |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
    needed = set().union(*(METHOD_SCOPES[m] for m in called)) | {"commands"}  # /escalate and /sla
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_the_manifest_subscribes_only_to_events_the_bot_handles_and_starts_in_socket_mode():
    settings = manifest()["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_home_opened", "message.channels",
                                                                  "message.groups"}
    assert settings["socket_mode_enabled"] is True, "created with no URL for Slack to verify before web runs"
