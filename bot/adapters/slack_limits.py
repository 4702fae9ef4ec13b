"""Slack's documented size limits, kept by one helper that every post, update and view goes through.

Slack refuses a whole message when one part of it is over a limit (`invalid_blocks`, `msg_too_long`): a ticket
whose tweet carried long links stayed in the outbox for ever. So nothing the bot sends is refused for its size:
an over-long text is cut where it would be refused and ends in "…" (and, where the caller gives one, a link to
the whole thing: the tweet); surplus blocks, fields, elements and options are left out and counted in a last
context line. Numbers are from Slack's Block Kit reference (docs.slack.dev/reference/block-kit).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

log = logging.getLogger(__name__)

MESSAGE_TEXT = 40_000  # chat.* `text` (msg_too_long)
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100  # a message; a modal or the App Home
SECTION_TEXT = 3_000  # any text object in a section or context
FIELD_TEXT, FIELDS = 2_000, 10  # section fields
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
HEADER_TEXT = 150
BUTTON_TEXT, BUTTON_VALUE = 75, 2_000
OPTION_TEXT, OPTION_VALUE, OPTIONS = 75, 150, 100
PLACEHOLDER = 150
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
INPUT_LABEL = 2_000
VIEW_TITLE = 24  # a view's title, submit and close
PRIVATE_METADATA = 3_000

ELLIPSIS = "…"


def _units(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units, never fewer than Python's code points."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int, more: str = "") -> str:
    """`text` if it fits in `limit`, else its start, "…" and `more` (a Slack link to the rest), within `limit`.

    The cut never splits a Slack link or mention (<…>) or an escaped entity (&amp;), which would show as
    garbage or, worse, as a half-link."""
    if _units(text) <= limit:
        return text
    tail = ELLIPSIS + (" " + more if more else "")
    if _units(tail) >= limit:
        tail = ELLIPSIS
    room = limit - _units(tail)
    cut = text[:room]
    while _units(cut) > room:  # astral characters count two
        cut = cut[:-1]
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]
    amp = cut.rfind("&")
    if amp > cut.rfind(";") and len(cut) - amp <= 6:
        cut = cut[:amp]
    return cut.rstrip() + tail


def _text(obj: Any, limit: int, more: str = "") -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = clip(obj["text"], limit, more if obj.get("type") == "mrkdwn" else "")


def _left_out(n: int, more: str) -> dict[str, Any]:
    text = f"{ELLIPSIS} +{n}" + (f" {more}" if more else "")
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _element(element: Any) -> None:
    if not isinstance(element, dict):
        return
    _text(element.get("text"), BUTTON_TEXT if element.get("type") == "button" else SECTION_TEXT)
    if isinstance(element.get("value"), str):
        element["value"] = element["value"][:BUTTON_VALUE]
    _text(element.get("placeholder"), PLACEHOLDER)
    if isinstance(element.get("options"), list):
        del element["options"][OPTIONS:]
        for option in element["options"]:
            _text(option.get("text"), OPTION_TEXT)
            if isinstance(option.get("value"), str):
                option["value"] = option["value"][:OPTION_VALUE]
    confirm = element.get("confirm")
    if isinstance(confirm, dict):
        _text(confirm.get("title"), CONFIRM_TITLE)
        _text(confirm.get("text"), CONFIRM_TEXT)
        _text(confirm.get("confirm"), CONFIRM_BUTTON)
        _text(confirm.get("deny"), CONFIRM_BUTTON)


def _block(block: dict[str, Any], more: str) -> None:
    kind = block.get("type")
    if kind == "section":
        _text(block.get("text"), SECTION_TEXT, more)
        if isinstance(block.get("fields"), list):
            del block["fields"][FIELDS:]
            for item in block["fields"]:
                _text(item, FIELD_TEXT, more)
        _element(block.get("accessory"))
    elif kind == "header":
        _text(block.get("text"), HEADER_TEXT)
    elif kind == "context" and isinstance(block.get("elements"), list):
        del block["elements"][CONTEXT_ELEMENTS:]
        for item in block["elements"]:
            _text(item, SECTION_TEXT, more)
    elif kind == "actions" and isinstance(block.get("elements"), list):
        del block["elements"][ACTIONS_ELEMENTS:]
        for item in block["elements"]:
            _element(item)
    elif kind == "input":
        _text(block.get("label"), INPUT_LABEL)
        _element(block.get("element"))


def fit_blocks(blocks: list[dict[str, Any]], most: int = MESSAGE_BLOCKS, more: str = "") -> list[dict[str, Any]]:
    """A copy of `blocks` within Slack's limits (`most` blocks: 50 in a message, 100 in a view)."""
    fitted = copy.deepcopy(blocks)
    if len(fitted) > most:
        fitted = fitted[:most - 1] + [_left_out(len(fitted) - most + 1, more)]
    for block in fitted:
        if isinstance(block, dict):
            _block(block, more)
    return fitted


def fit_message(text: str, blocks: list[dict[str, Any]] | None = None, more: str = ""
                ) -> tuple[str, list[dict[str, Any]] | None]:
    """A message's text and blocks within Slack's limits; `more` (a Slack link) ends what was cut."""
    return clip(text, MESSAGE_TEXT, more), (fit_blocks(blocks, MESSAGE_BLOCKS, more) if blocks else blocks)


def fit_view(view: dict[str, Any], more: str = "") -> dict[str, Any]:
    """A modal or App Home view within Slack's limits."""
    fitted = dict(view)
    for key in ("title", "submit", "close"):
        if isinstance(fitted.get(key), dict):
            fitted[key] = dict(fitted[key])
            _text(fitted[key], VIEW_TITLE)
    if isinstance(fitted.get("private_metadata"), str):
        fitted["private_metadata"] = fitted["private_metadata"][:PRIVATE_METADATA]
    if isinstance(fitted.get("blocks"), list):
        fitted["blocks"] = fit_blocks(fitted["blocks"], VIEW_BLOCKS, more)
    return fitted


def fit_call(method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a Web API call that posts, updates or publishes, within Slack's limits.

    The builders that know what a cut should link to fit their own blocks first; anything cut here came from
    one that does not, so it is logged (without the content) to be fixed where it was built."""
    if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
        text, blocks = fit_message(str(kwargs.get("text") or ""), kwargs.get("blocks"))
        fitted = {**kwargs, "text": text} if "text" in kwargs else dict(kwargs)
        if blocks is not None:
            fitted["blocks"] = blocks
    elif method.startswith("views.") and isinstance(kwargs.get("view"), dict):
        fitted = {**kwargs, "view": fit_view(kwargs["view"])}
    else:
        return kwargs
    if fitted != kwargs:
        log.warning("%s to %s was over Slack's size limits; cut to fit", method, kwargs.get("channel", "a view"))
    return fitted
