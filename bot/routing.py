"""routing.yaml -> a frozen, validated Routing: departments, SLA policies, and the keyword router.

Decisions the file format leaves open:
- Department order is priority: a mention goes to the first department (in file order) with a keyword in it.
- A mention with a fast_track keyword gets the fast-track policy whatever its department (or triage).
- Triage tickets use `triage.sla`; without it the policy named "standard", else the first policy in the file.
- Department ids must be unique; two departments may share a channel (the first one answers for the channel).
- Department ids are lowercase slugs, and "fast" and "triage" are reserved: /escalate reads them as words.
- An empty `operators` or `staff` list is refused: it would lock everyone out; leave the key out for "anyone".
- Key paths in errors count list items from 0: departments[1] is the second department.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from yaml.nodes import Node

from bot.domain.durations import notation
from bot.domain.matcher import KeywordMatcher
from bot.domain.replies import (
    MAX_PER_DEPARTMENT,
    SavedReply,
    available,
    check_name,
    check_text,
    longest_form,
)
from bot.domain.sla import Policy
from bot.errors import RoutingError, UnknownDepartment, UnknownPolicy
from bot.routing_accounts import DEFAULT_ACCOUNT, Account, parse_accounts
from bot.routing_schema import (
    HOLD_LONGEST,
    MAX_BYTES,
    PACE_LONGEST,
    POST_WINDOW_LONGEST,
    RETENTION_LONGEST,
    RETENTION_SHORTEST,
    STORM_LONGEST,
    Field,
    Parser,
    SchemaError,
    bounded,
    channel_id,
    choice,
    compose,
    email,
    fields,
    integer,
    join,
    line_of,
    list_of,
    pairs,
    pattern,
    policy_ref,
    policy_section,
    positive_upto,
    read,
    record,
    scalar,
    time_of_day,
    timezone,
    user_id,
    user_or_group_id,
)

RESERVED_DEPARTMENT_IDS = frozenset({"fast", "triage"})


@dataclass(frozen=True)
class RelayConfig:
    hold: timedelta = timedelta(seconds=15)  # the undo window before a thread reply goes to X
    note_prefix: str = "//"  # thread replies starting with this are internal notes
    mode: str = "send"  # "send": replies go out after the hold; "approve": a lead approves each one


@dataclass(frozen=True)
class PostLimit:
    per: timedelta  # a sliding window ...
    max: int  # ... in which the account may post this many times


SELF_SERVE, ENTERPRISE = "self-serve", "enterprise"


@dataclass(frozen=True)
class XConfig:
    """The account's X access: who it may reply to, and its posting budget (X's documented self-serve limits)."""

    access: str = SELF_SERVE  # self-serve: replies only to posts that @mention or quote the account
    post_limits: tuple[PostLimit, ...] = (PostLimit(timedelta(minutes=15), 100), PostLimit(timedelta(hours=3), 300))
    reserve: int = 50  # posts per longest window kept for ticket replies; storm broadcasts use the rest

    def __post_init__(self) -> None:
        longest = max(self.post_limits, key=lambda w: w.per).max
        if self.reserve >= longest:
            raise ValueError(f"reserve ({self.reserve}) must be below the longest window's max ({longest}): "
                             "a storm broadcast would never be sent")

    @property
    def summoned_only(self) -> bool:
        return self.access != ENTERPRISE

    def windows(self) -> list[tuple[float, int]]:
        """The posting windows as (seconds, posts)."""
        return [(w.per.total_seconds(), w.max) for w in self.post_limits]


@dataclass(frozen=True)
class FastTrack:
    keywords: tuple[str, ...]
    policy: str


@dataclass(frozen=True)
class ReportConfig:
    daily_at: time = time(17, 30)
    email: tuple[str, ...] = ()


@dataclass(frozen=True)
class StormConfig:
    threshold: int  # this many mentions ...
    window: timedelta  # ... within this long make a storm,
    quiet: timedelta  # which ends after this long below the threshold
    pace: timedelta = timedelta(seconds=1)  # between the replies of a broadcast, within X's posting limits


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    channel: str
    sla: str
    keywords: tuple[str, ...] = ()
    leads: tuple[str, ...] = ()
    staff: frozenset[str] | None = None  # None: anyone in the channel may relay
    relay_mode: str | None = None  # None: the routing-wide relay.mode
    phone: str | None = None  # the {phone} of its saved replies
    replies: tuple[SavedReply, ...] = ()  # its own saved replies; they win over shared ones of the same name


@dataclass(frozen=True)
class Route:
    department: Department | None  # None: triage
    policy: Policy
    fast_track: bool
    keywords: tuple[str, ...]  # the department's matched keywords, then the fast-track ones


@dataclass(frozen=True)
class Routing:
    timezone: ZoneInfo
    triage_channel: str
    managers_channel: str
    policies: Mapping[str, Policy]
    departments: tuple[Department, ...]
    relay: RelayConfig = RelayConfig()
    fast_track: FastTrack | None = None
    report: ReportConfig = ReportConfig()
    operators: frozenset[str] | None = None  # None: anyone in the workspace may /escalate
    storm: StormConfig | None = None
    locale: str = "ko"
    retention: timedelta = timedelta(days=90)  # a ticket and everything about it stay this long in Redis
    x: XConfig = XConfig()
    source: str = "<routing>"
    triage_policy: str = ""  # "" picks the default: "standard" when defined, else the first policy
    replies: tuple[SavedReply, ...] = ()  # saved replies every department may use
    accounts: tuple[Account, ...] = ()  # () means one account, from X_USER_ID and the unprefixed X_* variables
    _matcher: KeywordMatcher = field(init=False, repr=False, compare=False)
    _fast_matcher: KeywordMatcher = field(init=False, repr=False, compare=False)
    _by_id: Mapping[str, Department] = field(init=False, repr=False, compare=False)
    _account_matchers: Mapping[str, KeywordMatcher] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        policies = MappingProxyType(dict(self.policies))
        if not policies:
            raise ValueError("a routing needs at least one SLA policy")
        triage_policy = self.triage_policy or ("standard" if "standard" in policies else next(iter(policies)))
        named = [triage_policy, *(d.sla for d in self.departments)]
        for name in named + ([self.fast_track.policy] if self.fast_track else []):
            if name not in policies:
                raise UnknownPolicy(name, policies)
        set_ = object.__setattr__  # frozen: derived state is set once, here
        set_(self, "policies", policies)
        set_(self, "triage_policy", triage_policy)
        set_(self, "_by_id", MappingProxyType({d.id: d for d in self.departments}))
        set_(self, "_matcher", KeywordMatcher([(d.id, d.keywords) for d in self.departments]))
        fast_keywords = self.fast_track.keywords if self.fast_track else ()
        set_(self, "_fast_matcher", KeywordMatcher([("fast_track", fast_keywords)]))
        accounts = self.accounts or (Account(DEFAULT_ACCOUNT),)
        for acc in accounts:
            for dept_id in acc.departments or ():
                if dept_id not in self._by_id:
                    raise UnknownDepartment(dept_id, self._by_id)
        set_(self, "accounts", accounts)
        set_(self, "_account_matchers", MappingProxyType({
            a.id: KeywordMatcher([(d.id, d.keywords) for d in self.departments if d.id in a.departments])
            for a in accounts if a.departments is not None}))

    def route(self, text: str, account: str | None = None) -> Route:
        """Where a mention goes and which SLA it runs on; `account` (an id) keeps it to that account's departments."""
        found = self._account_matchers.get(account or "", self._matcher).match(text)
        department = self._by_id[found.group_id] if found.group_id else None
        fast = self._fast_matcher.any_match(text)
        keywords = tuple(dict.fromkeys(found.keywords + fast))
        return Route(department, self.policy_for(department, fast=bool(fast)), bool(fast), keywords)

    def policy_for(self, department: Department | None, *, fast: bool = False) -> Policy:
        """The policy for a ticket of this department (None: triage), fast-tracked or not."""
        if fast and self.fast_track:
            return self.policies[self.fast_track.policy]
        return self.policies[department.sla if department else self.triage_policy]

    def department(self, department_id: str) -> Department:
        try:
            return self._by_id[department_id]
        except KeyError:
            raise UnknownDepartment(department_id, self._by_id) from None

    def department_or_none(self, department_id: str | None) -> Department | None:
        """A ticket's department; None for triage (no id, or "triage"). An id since removed: UnknownDepartment."""
        if not department_id or department_id == "triage":
            return None
        return self.department(department_id)

    def department_name(self, department_id: str | None, triage: str) -> str:
        """What people read for a ticket's department: its name, `triage`, or the id of one since removed."""
        if not department_id or department_id == "triage":
            return triage
        found = self._by_id.get(department_id)
        return found.name if found else department_id

    def department_for_channel(self, channel: str) -> Department | None:
        """The first department (in file order) posting to this channel."""
        return next((d for d in self.departments if d.channel == channel), None)

    def policy(self, name: str) -> Policy:
        try:
            return self.policies[name]
        except KeyError:
            raise UnknownPolicy(name, self.policies) from None

    def channel_for(self, department: Department | None, account: str | None = None) -> str:
        """The department's channel; for triage, the account's own triage channel when it has one."""
        if department:
            return department.channel
        return self.account(account).triage or self.triage_channel

    def account(self, account_id: str | None = None) -> Account:
        """An account by id; None (or "") is the first one. An id since removed from the file: the first one."""
        return next((a for a in self.accounts if a.id == account_id), self.accounts[0])

    def account_key(self, account_id: str | None) -> str:
        """How an account is told apart in Redis keys and on tickets: "" for the first one (today's keys)."""
        acc = self.account(account_id)
        return "" if acc is self.accounts[0] else acc.id

    @property
    def multi_account(self) -> bool:
        return len(self.accounts) > 1

    def relay_mode_for(self, department: Department | None) -> str:
        return (department.relay_mode if department else None) or self.relay.mode

    def replies_for(self, department: Department | None) -> dict[str, SavedReply]:
        """The saved replies a ticket of this department (None: triage) may use, by name, in menu order."""
        return available(self.replies, department.replies if department else (),
                         department.phone if department else None)


def load_routing(path: str | Path) -> Routing:
    """Read and validate a routing file; RoutingError names the file, line and key of the first problem."""
    try:
        if Path(path).stat().st_size > MAX_BYTES:
            raise RoutingError(str(path), None, "", f"the file is larger than {MAX_BYTES // 1024} KB; "
                               "a routing file is a few KB")
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RoutingError(str(path), None, "", f"cannot read the routing file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise RoutingError(str(path), None, "", "the routing file is not UTF-8 text") from None
    return parse_routing(text, str(path))


def parse_routing(text: str, filename: str = "routing.yaml") -> Routing:
    """Validate routing YAML given as text; `filename` is only used in error messages and `Routing.source`."""
    try:
        root = compose(text)
        if root is None:
            raise SchemaError(1, "", "the file is empty; see the shipped routing.yaml for an example")
        values = read(root, "", fields(_schema()))
        _check_saved_replies(values.get("replies", ()), values["departments"])
    except SchemaError as error:
        raise RoutingError(filename, error.line, error.key, error.message) from None
    triage, managers = values.pop("triage"), values.pop("managers")
    return Routing(
        triage_channel=triage["channel"],
        triage_policy=triage.get("sla", ""),
        managers_channel=managers["channel"],
        source=filename,
        **values,
    )


# The file's schema. Keys are read in the order written here, so `sla` comes before every policy reference.

_RELAY_MODE = choice("send", "approve")
_SLUG = pattern(r"[a-z0-9][a-z0-9_-]*", "a short lowercase id like wibro (letters, digits, - and _)")


def _schema() -> dict[str, Field]:
    known: dict[str, Policy] = {}
    policy_name = policy_ref(known)
    departments_seen: list[str] = []  # filled when `departments` is read, before `accounts`

    def sla(node: Node, path: str) -> dict[str, Policy]:
        known.update(policy_section(node, path))
        return dict(known)

    department = record(Department, {
        "id": Field(_department_id, required=True),
        "name": Field(scalar, required=True),
        "channel": Field(channel_id, required=True),
        "keywords": Field(list_of(scalar)),
        "sla": Field(policy_name, required=True),
        "leads": Field(list_of(user_id)),
        "staff": Field(_someone("staff", "anyone in the channel may relay")),
        "relay": Field(record(lambda mode: mode, {"mode": Field(_RELAY_MODE, required=True)}),
                       attr="relay_mode"),
        "phone": Field(_phone),
        "replies": Field(_saved_replies),
    })
    return {
        "timezone": Field(timezone, required=True),
        "sla": Field(sla, required=True, attr="policies"),
        "triage": Field(fields({
            "channel": Field(channel_id, required=True),
            "sla": Field(policy_name),
        }), required=True),
        "managers": Field(fields({"channel": Field(channel_id, required=True)}), required=True),
        "relay": Field(record(RelayConfig, {
            "hold": Field(bounded(HOLD_LONGEST)),
            "note_prefix": Field(scalar),
            "mode": Field(_RELAY_MODE),
        })),
        "fast_track": Field(record(FastTrack, {
            "keywords": Field(list_of(scalar, non_empty="list at least one keyword"), required=True),
            "sla": Field(policy_name, required=True, attr="policy"),
        })),
        "report": Field(record(ReportConfig, {
            "daily_at": Field(time_of_day),
            "email": Field(list_of(email)),
        })),
        "operators": Field(_someone("operators", "anyone in the workspace may /escalate", user_or_group_id)),
        "departments": Field(_departments(department, seen=departments_seen), required=True),
        "storm": Field(record(StormConfig, {
            "threshold": Field(integer(1), required=True),
            "window": Field(positive_upto(STORM_LONGEST), required=True),
            "quiet": Field(positive_upto(STORM_LONGEST), required=True),
            "pace": Field(bounded(PACE_LONGEST)),
        })),
        "locale": Field(choice("ko", "en")),
        "retention": Field(_retention(known)),
        "x": Field(record(XConfig, {
            "access": Field(choice(SELF_SERVE, ENTERPRISE)),
            "post_limits": Field(list_of(record(PostLimit, {
                "per": Field(positive_upto(POST_WINDOW_LONGEST), required=True),
                "max": Field(integer(1), required=True),
            }), non_empty="list at least one window, e.g. [{per: 15m, max: 100}]")),
            "reserve": Field(integer(0)),
        })),
        "replies": Field(_saved_replies),
        "accounts": Field(parse_accounts(departments_seen)),
    }


RETENTION_MARGIN = timedelta(days=7)


def _retention(known: Mapping[str, Policy]) -> Parser:
    """A ticket must outlive its clocks (with a week to spare): one purged while open would lose its breach."""
    within = bounded(RETENTION_LONGEST, RETENTION_SHORTEST)

    def parse(node: Node, path: str) -> timedelta:
        value: timedelta = within(node, path)
        clocks = {name: max(p.first_response, p.next_response or timedelta(0))
                  + max((step.after for step in p.escalate), default=timedelta(0)) for name, p in known.items()}
        name = max(clocks, key=lambda n: clocks[n], default="")
        if name and value < clocks[name] + RETENTION_MARGIN:
            raise ValueError(f"{notation(value)} is too short: tickets of sla.{name} run "
                             f"{notation(clocks[name])}; keep them at least "
                             f"{notation(clocks[name] + RETENTION_MARGIN)}")
        return value

    return parse


def _department_id(node: Node, path: str) -> str:
    value = _SLUG(node, path)
    if value in RESERVED_DEPARTMENT_IDS:
        raise ValueError(f"{value!r} is reserved (/escalate reads it as a word); choose another id")
    return value


def _someone(key: str, absent: str, ids: Parser = user_id) -> Callable[[Node, str], frozenset[str]]:
    """A set of user ids that may not be empty: an empty list would lock everyone out."""
    message = f"an empty {key} list would let no one in; leave {key} out and {absent}"
    return lambda node, path: frozenset(list_of(ids, non_empty=message)(node, path))


def _departments(department: Parser, seen: list[str] | None = None) -> Callable[[Node, str], tuple[Department, ...]]:
    def parse(node: Node, path: str) -> tuple[Department, ...]:
        result = list_of(department, non_empty="define at least one department")(node, path)
        if seen is not None:
            seen[:] = [d.id for d in result]
        first: dict[str, int] = {}
        for index, (item, dept) in enumerate(zip(node.value, result, strict=True)):
            if dept.id in first:
                where = join(join(path, index), "id")
                also = join(path, first[dept.id])
                raise SchemaError(line_of(pairs(item, path)["id"][1]), where,
                                  f"duplicate department id {dept.id!r} (first at {also})")
            first[dept.id] = index
        return result

    return parse


# -- saved replies (issue 16): `replies:` at the top level and per department, and a department's `phone:` --

_PHONE = pattern(r"\+?[0-9][0-9 ()-]{1,30}", "a phone number like 080-123-4567 or 114 (digits, spaces, - and ())")


def _phone(node: Node, path: str) -> str:
    return str(_PHONE(node, path)).strip()


def _saved_replies(node: Node, path: str) -> tuple[SavedReply, ...]:
    """name: text pairs, each checked on its own line; checks that need the departments come after."""
    found = []
    for name, (key_node, value_node) in pairs(node, path).items():
        where = join(path, name)
        try:
            check_name(name)
        except ValueError as error:
            raise SchemaError(line_of(key_node), where, str(error)) from None
        text = read(value_node, where, _saved_text)
        found.append(SavedReply(name, text, line_of(value_node), where))
    if not found:
        raise SchemaError(line_of(node), path, "list at least one saved reply (name: text), or leave it out")
    return tuple(found)


def _saved_text(node: Node, path: str) -> str:
    text = scalar(node)
    check_text(text)
    return text


def _check_saved_replies(shared: tuple[SavedReply, ...], departments: tuple[Department, ...]) -> None:
    """Per department, what it may pick: a phone for every {phone}, each within X's length with the longest
    expansion and the duplicate rule's reference, and at most MAX_PER_DEPARTMENT (Slack's menu)."""
    from bot.domain.text import tweet_length  # twitter-text: ~200 ms to import; a cached routing skips it

    for dept in departments:
        mine = available(shared, dept.replies, dept.phone or "-")
        if len(mine) > MAX_PER_DEPARTMENT:
            where = (dept.replies or shared)[-1]
            raise SchemaError(where.line, where.key, f"department {dept.id!r} has {len(mine)} saved replies "
                              f"(shared and its own); at most {MAX_PER_DEPARTMENT} fit in Slack's menu")
        for reply in mine.values():
            if reply.needs_phone and not dept.phone:
                whose = "its department" if reply in dept.replies else f"department {dept.id!r}"
                raise SchemaError(reply.line, reply.key, f"uses {{phone}} but {whose} has no phone: "
                                  "add `phone:` to the department")
            length = tweet_length(longest_form(reply, dept.phone))
            if not length.valid:
                raise SchemaError(reply.line, reply.key, f"too long for X: {length.weighted}/{length.limit} "
                                  "weighted characters at its longest (Hangul counts 2, a link 23), counting "
                                  "the {ticket}/{time} values and the ' (#123456)' the relay may add")
    for reply in shared:
        if not reply.needs_phone:
            length = tweet_length(longest_form(reply, None))
            if not length.valid:
                raise SchemaError(reply.line, reply.key, f"too long for X: {length.weighted}/{length.limit} "
                                  "weighted characters at its longest (Hangul counts 2, a link 23)")
    if len(available(shared, (), "-")) > MAX_PER_DEPARTMENT:
        raise SchemaError(shared[-1].line, shared[-1].key, f"at most {MAX_PER_DEPARTMENT} shared saved replies "
                          "fit in Slack's menu")
