"""routing.yaml's `accounts:`: the X accounts one bot serves (issue 16), each with its credentials' prefix.

- Absent: one account, X_USER_ID (else GET /2/users/me) and today's unprefixed X_* variables.
- The first account's prefix is X_, so a file that adds accounts keeps the variables a one-account set-up has.
- Ids and prefixes are unique; each account gives exactly one of username (resolved once) and user_id.
- `departments` (default: all) keeps an account's mentions to those departments; the rest go to its `triage`
  channel (default: the shared one). The departments must be defined above, in `departments:`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from yaml.nodes import Node

from bot.routing_schema import (
    Field,
    Parser,
    SchemaError,
    channel_id,
    fields,
    join,
    line_of,
    list_of,
    pairs,
    pattern,
    record,
    scalar,
    unknown,
)

DEFAULT_ACCOUNT = "main"  # the id of the one account a file without `accounts:` serves
FIRST_PREFIX = "X_"  # the first account's credentials: today's unprefixed X_API_KEY, X_ACCESS_TOKEN, ...


@dataclass(frozen=True)
class Account:
    """One X account the bot watches and answers from; its credentials are `{env_prefix}API_KEY` and so on."""

    id: str
    env_prefix: str = FIRST_PREFIX
    username: str | None = None  # resolved to a user id once (GET /2/users/by/username), cached in Redis
    user_id: str | None = None  # None with no username either: X_USER_ID, else GET /2/users/me
    departments: tuple[str, ...] | None = None  # None: every department
    triage: str | None = None  # its own triage channel; None: the shared one


_SLUG = pattern(r"[a-z0-9][a-z0-9_-]*", "a short lowercase id like show (letters, digits, - and _)")
_ENV_PREFIX = pattern(r"X_[A-Z0-9_]*", "an environment prefix like X_SHOW_ (X_, capitals, digits and _)")
_USERNAME = pattern(r"@?[A-Za-z0-9_]{1,15}", "an X username like show_tweet (up to 15 letters, digits or _)")
_X_USER_ID = pattern(r"[0-9]{1,19}", "an X user id (digits), quoted: \"1234567890\"")


def _account(departments_seen: list[str]) -> Parser:
    def department_ref(node: Node, path: str) -> str:
        name = scalar(node)
        if name not in departments_seen:
            raise ValueError(unknown("department", name, departments_seen))
        return name

    def build(id: str, env_prefix: str, username: str | None = None, user_id: str | None = None,
              departments: tuple[str, ...] | None = None, triage: Mapping[str, str] | None = None) -> Account:
        if (username is None) == (user_id is None):
            raise ValueError("give exactly one of username and user_id")
        return Account(id, env_prefix, username.lstrip("@") if username else None, user_id, departments,
                       triage["channel"] if triage else None)

    return record(build, {
        "id": Field(_SLUG, required=True),
        "username": Field(_USERNAME),
        "user_id": Field(_X_USER_ID),
        "env_prefix": Field(_ENV_PREFIX, required=True),
        "departments": Field(list_of(department_ref, non_empty="list at least one department, or leave "
                                                               "departments out for all of them")),
        "triage": Field(fields({"channel": Field(channel_id, required=True)})),
    })


def parse_accounts(departments_seen: list[str]) -> Callable[[Node, str], tuple[Account, ...]]:
    """The accounts; ids and prefixes unique, and the first one on X_ (today's variables stay as they are)."""
    account = _account(departments_seen)

    def parse(node: Node, path: str) -> tuple[Account, ...]:
        result = list_of(lambda n, p: (n, account(n, p)), non_empty="list at least one account, or leave "
                                                                    "accounts out for one account")(node, path)
        ids: dict[str, int] = {}
        prefixes: dict[str, int] = {}
        for index, (item, acc) in enumerate(result):
            found = pairs(item, join(path, index))
            for key, value, seen in (("id", acc.id, ids), ("env_prefix", acc.env_prefix, prefixes)):
                if value in seen:
                    raise SchemaError(line_of(found[key][1]), join(join(path, index), key),
                                      f"duplicate {key} {value!r} (first at {join(path, seen[value])})")
                seen[value] = index
            if index == 0 and acc.env_prefix != FIRST_PREFIX:
                raise SchemaError(line_of(found["env_prefix"][1]), join(join(path, 0), "env_prefix"),
                                  f"the first account uses {FIRST_PREFIX} (X_API_KEY, X_ACCESS_TOKEN, ...), "
                                  f"not {acc.env_prefix!r}: list the account on those variables first")
        return tuple(acc for _, acc in result)

    return parse
