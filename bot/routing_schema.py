"""Reading a composed YAML node tree against a declared schema; every error carries its line and key path.

The tree comes from `yaml.compose`, never `yaml.load`: nodes keep their line numbers, nothing is constructed,
and scalars are read as written (so an unquoted 17:30 stays "17:30" rather than YAML 1.1's sexagesimal 1050).
A schema is a dict of key -> Field; adding a key is adding one line. Parsers are `(node, path) -> value` and may
raise ValueError with a plain message: `read` attaches the node's line and the key path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.domain.calendar import DAY_NAMES, check_holiday_country
from bot.domain.durations import parse_duration

T = TypeVar("T")
Parser = Callable[[Node, str], Any]
_NULL_TAG = "tag:yaml.org,2002:null"


class SchemaError(Exception):
    """A located problem; the loader turns it into a RoutingError naming the file."""

    def __init__(self, line: int | None, key: str, message: str) -> None:
        super().__init__(line, key, message)
        self.line, self.key, self.message = line, key, message


@dataclass(frozen=True)
class Field:
    parse: Parser
    required: bool = False  # an optional key that is absent is left out, so the dataclass default applies
    attr: str | None = None  # the attribute it fills, when that is not the YAML key


def compose(text: str) -> Node | None:
    """The document's node tree (None for an empty file); YAML syntax errors become SchemaError."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise SchemaError(line, "", f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise SchemaError(None, "", f"YAML syntax error: {error}") from None


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def read(node: Node, path: str, parse: Callable[[Node, str], T]) -> T:
    try:
        return parse(node, path)
    except ValueError as error:
        raise SchemaError(line_of(node), path, str(error)) from None


def pairs(node: Node, path: str, allowed: Mapping[str, object] | None = None) -> dict[str, tuple[Node, Node]]:
    """A mapping node's key -> (key node, value node), refusing non-mappings, duplicates and unknown keys."""
    if not isinstance(node, MappingNode):
        raise SchemaError(line_of(node), path, f"expected a mapping, found {_kind(node)}")
    found: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise SchemaError(line_of(key_node), path, "keys must be plain names")
        key = key_node.value
        if key in found:
            first = line_of(found[key][0])
            raise SchemaError(line_of(key_node), join(path, key), f"duplicate key (first at line {first})")
        if allowed is not None and key not in allowed:
            raise SchemaError(line_of(key_node), join(path, key), unknown("key", key, allowed))
        found[key] = (key_node, value_node)
    return found


def fields(schema: Mapping[str, Field]) -> Parser:
    """A parser for a mapping with exactly these keys; returns {attr: value}. Keys are read in schema order."""

    def parse(node: Node, path: str) -> dict[str, Any]:
        found = pairs(node, path, schema)
        values: dict[str, Any] = {}
        for key, field in schema.items():
            if key in found:
                values[field.attr or key] = read(found[key][1], join(path, key), field.parse)
            elif field.required:
                raise SchemaError(line_of(node), join(path, key), f"missing required key {key!r}")
        return values

    return parse


def record(build: Callable[..., T], schema: Mapping[str, Field]) -> Callable[[Node, str], T]:
    """A parser for a mapping that becomes `build(**fields)`; ValueError from `build` points at the mapping."""
    return lambda node, path: read(node, path, lambda n, p: build(**fields(schema)(n, p)))


def list_of(item: Parser, *, non_empty: str | None = None) -> Callable[[Node, str], tuple[Any, ...]]:
    """A parser for a list; `non_empty` is the message for an empty one (None allows it)."""

    def parse(node: Node, path: str) -> tuple[Any, ...]:
        if not isinstance(node, SequenceNode):
            raise ValueError(f"expected a list like [a, b], found {_kind(node)}")
        if non_empty and not node.value:
            raise ValueError(non_empty)
        return tuple(read(child, join(path, index), item) for index, child in enumerate(node.value))

    return parse


def scalar(node: Node, path: str = "") -> str:
    """A single value, as written; empty values and lists or mappings are refused."""
    if not isinstance(node, ScalarNode):
        raise ValueError(f"expected a single value, found {_kind(node)}")
    if node.tag == _NULL_TAG or not node.value.strip():
        raise ValueError("empty value")
    return node.value


def choice(*options: str) -> Callable[[Node, str], str]:
    def parse(node: Node, path: str) -> str:
        value = scalar(node)
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}, not {value!r}")
        return value

    return parse


def pattern(regex: str, describe: str) -> Callable[[Node, str], str]:
    compiled = re.compile(regex)

    def parse(node: Node, path: str) -> str:
        value = scalar(node)
        if not compiled.fullmatch(value):
            raise ValueError(f"expected {describe}, not {value!r}")
        return value

    return parse


user_id = pattern(r"[UW][A-Z0-9]+", "a Slack user id like U0123ABCD")
channel_id = pattern(r"[CG][A-Z0-9]+", "a Slack channel id like C0123ABCD (the id, not the #name)")
email = pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address")


def duration(node: Node, path: str) -> timedelta:
    return parse_duration(scalar(node))


def positive_duration(node: Node, path: str) -> timedelta:
    value = duration(node, path)
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


def integer(minimum: int) -> Callable[[Node, str], int]:
    def parse(node: Node, path: str) -> int:
        value = scalar(node)
        if not re.fullmatch(r"\d+", value) or int(value) < minimum:
            raise ValueError(f"expected a whole number of at least {minimum}, not {value!r}")
        return int(value)

    return parse


def parse_clock_time(text: str) -> time:
    found = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        raise ValueError(f"expected a time of day as HH:MM, like \"17:30\", not {text!r}")
    return time(int(found[1]), int(found[2]))


def clock_time(node: Node, path: str) -> time:
    return parse_clock_time(scalar(node))


def opening_hours(node: Node, path: str) -> tuple[time, time]:
    text = scalar(node)
    opens, dash, closes = text.partition("-")
    if not dash:
        raise ValueError(f"expected opening hours like \"09:00-18:00\", not {text!r}")
    start, end = parse_clock_time(opens), parse_clock_time(closes)
    if end <= start:
        raise ValueError(f"hours {text!r} close before they open (hours past midnight are not supported)")
    return start, end


def day_number(node: Node, path: str) -> int:
    text = scalar(node)
    number = _DAY_NUMBERS.get(text.strip().lower())
    if number is None:
        raise ValueError(f"unknown day {text!r} (use {', '.join(DAY_NAMES)})")
    return number


_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: n for names in (DAY_NAMES, _FULL_DAY_NAMES) for n, name in enumerate(names)}


def holiday_country(node: Node, path: str) -> str:
    return check_holiday_country(scalar(node).strip().upper())


def timezone(node: Node, path: str) -> ZoneInfo:
    name = scalar(node).strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r} (use an IANA name such as Asia/Seoul)") from None


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """The one wording for a name that is not defined: "unknown policy 'fastt' (known: standard, office)"."""
    return f"unknown {kind} {name!r} (known: {', '.join(known) or 'none'})"


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "an empty value" if node.tag == _NULL_TAG else f"{node.value!r}"
