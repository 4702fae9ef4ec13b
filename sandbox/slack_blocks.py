"""Block Kit size limits as Slack enforces them, for the stand-in: what Slack refuses, refused the same way.

Slack answers a message over a limit with `invalid_blocks` (a view: `invalid_arguments`) and says where, in
`errors` and `response_metadata.messages`:
    "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
Kept apart from the bot's own helper (bot/adapters/slack_limits.py) on purpose: a test then checks the bot
against Slack's numbers, not against itself. Numbers: docs.slack.dev/reference/block-kit.
"""

from __future__ import annotations

from typing import Any

# type of element or block -> {path inside it: most characters}
_TEXT_LIMITS: dict[str, dict[str, int]] = {
    "section": {"text": 3000},
    "header": {"text": 150},
    "button": {"text": 75, "value": 2000, "url": 3000},
    "static_select": {"placeholder": 150},
    "plain_text_input": {"placeholder": 150},
    "input": {"label": 2000, "hint": 2000},
}
_ITEM_LIMITS: dict[str, dict[str, int]] = {
    "section": {"fields": 10},
    "context": {"elements": 10},
    "actions": {"elements": 25},
    "static_select": {"options": 100},
    "overflow": {"options": 5},
}
_MRKDWN_TEXT, _FIELD_TEXT, _OPTION_TEXT, _OPTION_VALUE = 3000, 2000, 75, 150
_CONFIRM = {"title": 100, "text": 300, "confirm": 30, "deny": 30}


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _too_long(value: Any, limit: int, pointer: str, out: list[str]) -> None:
    """`value` is a string or a text object ({"text": …}); Slack's message names the string itself."""
    if isinstance(value, dict):
        value, pointer = value.get("text"), pointer + "/text"
    if _length(value) > limit:
        out.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}]")


def _too_many(items: Any, limit: int, pointer: str, out: list[str]) -> None:
    if isinstance(items, list) and len(items) > limit:
        out.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")


def _check(node: Any, pointer: str, out: list[str]) -> None:
    if not isinstance(node, dict):
        return
    kind = str(node.get("type", ""))
    for key, limit in _TEXT_LIMITS.get(kind, {}).items():
        if key in node:
            _too_long(node[key], limit, f"{pointer}/{key}", out)
    for key, limit in _ITEM_LIMITS.get(kind, {}).items():
        _too_many(node.get(key), limit, f"{pointer}/{key}", out)
    if kind == "section":
        for i, field in enumerate(node.get("fields") or []):
            _too_long(field, _FIELD_TEXT, f"{pointer}/fields/{i}", out)
        _check(node.get("accessory"), f"{pointer}/accessory", out)
    if kind == "context":
        for i, element in enumerate(node.get("elements") or []):
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                _too_long(element, _MRKDWN_TEXT, f"{pointer}/elements/{i}", out)
    if kind == "actions":
        for i, element in enumerate(node.get("elements") or []):
            _check(element, f"{pointer}/elements/{i}", out)
    if kind == "input":
        _check(node.get("element"), f"{pointer}/element", out)
    for i, option in enumerate(node.get("options") or []):
        if isinstance(option, dict):
            _too_long(option.get("text"), _OPTION_TEXT, f"{pointer}/options/{i}/text", out)
            _too_long(option.get("value"), _OPTION_VALUE, f"{pointer}/options/{i}/value", out)
            _too_long(option.get("description"), _OPTION_TEXT, f"{pointer}/options/{i}/description", out)
    if isinstance(node.get("confirm"), dict):
        for key, limit in _CONFIRM.items():
            _too_long(node["confirm"].get(key), limit, f"{pointer}/confirm/{key}", out)


def block_errors(blocks: Any, pointer: str = "/blocks", most: int = 50) -> list[str]:
    """What Slack says is wrong with these blocks (50 in a message, 100 in a view); [] when nothing is."""
    out: list[str] = []
    if not isinstance(blocks, list):
        return out
    _too_many(blocks, most, pointer, out)
    for i, block in enumerate(blocks):
        _check(block, f"{pointer}/{i}", out)
    return out


def view_errors(view: dict[str, Any]) -> list[str]:
    """What Slack says is wrong with a modal or App Home view."""
    out = block_errors(view.get("blocks"), "/view/blocks", 100)
    for key in ("title", "submit", "close"):
        if key in view:
            _too_long(view[key], 24, f"/view/{key}", out)
    _too_long(view.get("private_metadata"), 3000, "/view/private_metadata", out)
    return out
