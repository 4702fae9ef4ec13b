"""Reading routing.yaml's node tree against a declared schema; every error carries its line and key path.

The tree comes from `yaml.compose`, never `yaml.load`: nodes keep their line numbers, nothing is constructed,
and scalars are read as written (an unquoted 17:30 stays "17:30", not YAML 1.1's sexagesimal 1050).
A schema is a dict of key -> Field, so adding a key is adding a line. Parsers are `(node, path) -> value`
and may raise ValueError with a plain message: `read` attaches the node's line and the key path.
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

from bot.domain.calendar import (
    BusinessHours,
    check_holiday_country,
    parse_day,
    parse_opening_hours,
    parse_time_of_day,
)
from bot.domain.durations import notation, parse_bounded, parse_duration
from bot.domain.sla import EscalationStep, Policy, Reminder

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
    required: bool = False  # an absent optional key is left out, so the dataclass default applies
    attr: str | None = None  # the attribute it fills, when that is not the YAML key


# A routing file is a few kilobytes, a few levels deep. Far beyond that it is a mistake or an attack: PyYAML's
# composer recurses once per level (5,000 levels ended in a RecursionError), so both are refused up front.
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader's composer with a depth limit, refused at the line where the limit is crossed."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(problem=f"nested deeper than {MAX_DEPTH} levels",
                               problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def compose(text: str) -> Node | None:
    """The document's node tree (None for an empty file); YAML syntax errors become SchemaError."""
    if len(text) > MAX_BYTES:
        raise SchemaError(None, "", f"the file is larger than {MAX_BYTES // 1024} KB; a routing file is a few KB")
    try:
        return yaml.compose(text, Loader=_BoundedLoader)
    except _TooDeep as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise SchemaError(line, "", f"{error.problem}; a routing file needs a handful") from None
    except yaml.MarkedYAMLError as error:
        mark, context = error.problem_mark or error.context_mark, ""
        if error.context and error.context_mark:  # e.g. the line where an unclosed [ or " began
            context = f" ({error.context} started at line {error.context_mark.line + 1})"
        message = f"YAML syntax error: {error.problem or error.context}{context}"
        raise SchemaError(mark.line + 1 if mark else None, "", message) from None
    except yaml.YAMLError as error:
        raise SchemaError(None, "", f"YAML syntax error: {error}") from None


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """The one wording for an undefined name: "unknown policy 'fastt' (known: standard, office)"."""
    return f"unknown {kind} {name!r} (known: {', '.join(known) or 'none'})"


def read(node: Node, path: str, parse: Callable[[Node, str], T]) -> T:
    try:
        return parse(node, path)
    except ValueError as error:
        raise SchemaError(line_of(node), path, str(error)) from None


def pairs(node: Node, path: str, allowed: Mapping[str, object] | None = None) -> dict[str, tuple[Node, Node]]:
    """A mapping's key -> (key node, value node), refusing non-mappings, duplicate and unknown keys."""
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


def fields(schema: Mapping[str, Field]) -> Callable[[Node, str], dict[str, Any]]:
    """A parser for a mapping of exactly these keys, returning {attr: value}; reads keys in schema order."""

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
    """A parser for a mapping that becomes `build(**values)`; a ValueError from `build` names the mapping."""
    return lambda node, path: read(node, path, lambda n, p: build(**fields(schema)(n, p)))


def list_of(item: Parser, *, non_empty: str | None = None) -> Callable[[Node, str], tuple[Any, ...]]:
    """A parser for a list; `non_empty` is the message refusing an empty one (None allows it)."""

    def parse(node: Node, path: str) -> tuple[Any, ...]:
        if not isinstance(node, SequenceNode):
            raise ValueError(f"expected a list like [a, b], found {_kind(node)}")
        if non_empty and not node.value:
            raise ValueError(non_empty)
        return tuple(read(child, join(path, index), item) for index, child in enumerate(node.value))

    return parse


def scalar(node: Node, path: str = "") -> str:
    """A single value as written; empty values, lists and mappings are refused."""
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


def integer(minimum: int) -> Callable[[Node, str], int]:
    def parse(node: Node, path: str) -> int:
        value = scalar(node)
        if not re.fullmatch(r"\d+", value) or int(value) < minimum:
            raise ValueError(f"expected a whole number of at least {minimum}, not {value!r}")
        return int(value)

    return parse


user_id = pattern(r"[UW][A-Z0-9]+", "a Slack user id like U0123ABCD")
user_or_group_id = pattern(r"[UWS][A-Z0-9]+", "a Slack user id like U0123ABCD or a user group id like S0123ABCD")
channel_id = pattern(r"[CG][A-Z0-9]+", "a Slack channel id like C0123ABCD (the id, not the #name)")
email = pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address")


def duration(node: Node, path: str) -> timedelta:
    return parse_duration(scalar(node))


def positive_duration(node: Node, path: str) -> timedelta:
    value = duration(node, path)
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


# How long each kind of duration may be: beyond these a clock is a typo (and 99999999d overflowed datetimes).
SLA_LONGEST = timedelta(days=365)  # first_response, next_response, reminder offsets, escalation steps
HOLD_LONGEST = timedelta(hours=1)  # relay.hold: a reply held longer than this is a reply forgotten
STORM_LONGEST = timedelta(days=1)  # storm.window, storm.quiet
PACE_LONGEST = timedelta(hours=1)  # storm.pace
POST_WINDOW_LONGEST = timedelta(days=1)  # x.post_limits[].per: X's longest posting window is 24 h
RETENTION_SHORTEST, RETENTION_LONGEST = timedelta(days=1), timedelta(days=3650)


def bounded(longest: timedelta, shortest: timedelta = timedelta(0)) -> Parser:
    """A duration parser refusing values outside [shortest, longest]."""
    return lambda node, path: parse_bounded(scalar(node), longest, shortest)


def positive_upto(longest: timedelta) -> Parser:
    """A duration longer than 0s and at most `longest`."""

    def parse(node: Node, path: str) -> timedelta:
        value = parse_bounded(scalar(node), longest)
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    return parse


def time_of_day(node: Node, path: str) -> time:
    return parse_time_of_day(scalar(node))


def timezone(node: Node, path: str) -> ZoneInfo:
    name = scalar(node).strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r} (use an IANA name such as Asia/Seoul)") from None


# The `sla` section: named policies.


def policy_section(node: Node, path: str) -> dict[str, Policy]:
    found = {name: read(value, join(path, name), _policy(name)) 
             for name, (_, value) in pairs(node, path).items()}
    if not found:
        raise ValueError("define at least one policy, like standard: {first_response: 24h}")
    return found


def policy_ref(known: Mapping[str, Policy]) -> Callable[[Node, str], str]:
    """A parser for a policy name; `known` is filled when the `sla` section is read, before any reference."""

    def parse(node: Node, path: str) -> str:
        name = scalar(node)
        if name not in known:
            raise ValueError(unknown("policy", name, known))
        return name

    return parse


def _escalation_target(node: Node, path: str) -> tuple[str, ...]:
    """A list of user ids, or "managers" (as an empty tuple)."""
    if isinstance(node, ScalarNode) and node.value == "managers":
        return ()
    if isinstance(node, SequenceNode) and node.value:
        if any(isinstance(item, ScalarNode) and item.value == "managers" for item in node.value):
            raise ValueError("write `to: managers`, not in a list, to call the managers channel")
        return list_of(user_id)(node, path)
    raise ValueError('expected a list of Slack user ids, like [U0HEAD], or "managers"')


def _business_hours(hours: tuple[time, time], days: tuple[int, ...] = (0, 1, 2, 3, 4),
                    holidays: str | None = None) -> BusinessHours:
    return BusinessHours(frozenset(days), hours[0], hours[1], holidays)


def _escalation_step(after: timedelta, to: tuple[str, ...]) -> EscalationStep:
    return EscalationStep(after, to=to, to_managers=not to)


def _reminder(node: Node, path: str) -> Reminder:
    reminder = Reminder.parse(scalar(node))
    if reminder.offset is not None and reminder.offset > SLA_LONGEST:
        raise ValueError(f"{scalar(node).strip()} is too long: at most {notation(SLA_LONGEST)}")
    return reminder


_POLICY = {
    "first_response": Field(positive_upto(SLA_LONGEST), required=True),
    "remind": Field(list_of(_reminder)),
    "next_response": Field(positive_upto(SLA_LONGEST)),
    "business_hours": Field(record(_business_hours, {
        "days": Field(list_of(lambda node, path: parse_day(scalar(node)), non_empty="list at least one day")),
        "hours": Field(lambda node, path: parse_opening_hours(scalar(node)), required=True),
        "holidays": Field(lambda node, path: check_holiday_country(scalar(node).strip().upper())),
    })),
    "escalate": Field(list_of(record(_escalation_step, {
        "after": Field(bounded(SLA_LONGEST), required=True),
        "to": Field(_escalation_target, required=True),
    }))),
}


def _policy(name: str) -> Callable[[Node, str], Policy]:
    def parse(node: Node, path: str) -> Policy:
        policy = Policy(name=name, **fields(_POLICY)(node, path))
        late = [r for r in policy.remind if r.offset is not None and r.offset >= policy.first_response]
        if late and policy.business_hours is None:
            deadline = notation(policy.first_response)
            raise ValueError(f"reminder {late[0]} is at or after the {deadline} first response deadline, "
                             "so it would never be sent")
        return policy

    return parse


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "an empty value" if node.tag == _NULL_TAG else repr(node.value)
