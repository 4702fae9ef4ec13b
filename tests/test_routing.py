"""routing.yaml: the shipped file loads, every broken file names its line and key, route() picks the SLA."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.errors import BotError, RoutingError, UnknownDepartment
from bot.routing import load_routing, parse_routing

SHIPPED = Path(__file__).resolve().parents[1] / "routing.yaml"

# Line numbers in the cases below refer to this file.
BASE = """\
timezone: Asia/Seoul
triage: {channel: C0TRIAGE}
managers: {channel: C0MANAGERS}
sla:
  standard: {first_response: 24h, remind: ["50%", "90%"]}
  fast_track: {first_response: 3h, remind: ["1h", "2h"]}
  office:
    first_response: 8h
    business_hours: {days: [mon, tue, wed, thu, fri], hours: "09:00-18:00", holidays: KR}
    escalate: [{after: 1h, to: [U0HEAD]}, {after: 3h, to: managers}]
fast_track: {keywords: [개통, 장애], sla: fast_track}
departments:
  - id: wibro
    name: WiBro 고객센터
    channel: C0WIBRO
    keywords: [와이브로, wibro]
    sla: standard
  - id: network
    name: 네트워크
    channel: C0NETWORK
    keywords: [장애, 먹통]
    sla: office
"""


def broken(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_the_shipped_routing_file_loads() -> None:
    routing = load_routing(SHIPPED)
    assert str(routing.timezone) == "Asia/Seoul"
    assert [d.id for d in routing.departments] == ["iphone", "wibro", "billing", "network"]
    assert set(routing.policies) == {"standard", "fast_track", "office"}
    assert routing.fast_track is not None and routing.fast_track.keywords == ("개통", "장애")
    assert routing.report.daily_at == time(17, 30)
    assert routing.storm is not None and routing.storm.window == timedelta(minutes=10)
    assert routing.department("billing").relay_mode == "approve"
    assert routing.source == str(SHIPPED)


def test_the_error_names_file_line_and_key() -> None:
    with pytest.raises(RoutingError) as caught:
        parse_routing(broken("    sla: office", "    sla: fastt"), "routing.yaml")
    assert str(caught.value) == (
        "routing.yaml:22: departments[1].sla: unknown policy 'fastt' (known: standard, fast_track, office)")
    error = caught.value
    assert (error.file, error.line, error.key) == ("routing.yaml", 22, "departments[1].sla")


@pytest.mark.parametrize(("text", "line", "key", "message"), [
    # unknown keys, at any level
    (BASE + "colour: blue\n", 23, "colour", "unknown key 'colour'"),
    (broken("    channel: C0WIBRO", "    chanel: C0WIBRO"),
     15, "departments[0].chanel", "unknown key 'chanel'"),
    (broken("holidays: KR}", "holidays: KR, tz: UTC}"), 9, "sla.office.business_hours.tz", "unknown key"),
    (broken("[{after: 1h, to: [U0HEAD]}", "[{after: 1h, to: [U0HEAD], wait: 1h}"),
     10, "sla.office.escalate[0].wait", "unknown key"),
    # missing required keys: reported at the mapping that lacks them
    (broken("timezone: Asia/Seoul\n", ""), 1, "timezone", "missing required key 'timezone'"),
    (broken("triage: {channel: C0TRIAGE}", "triage: {sla: standard}"),
     2, "triage.channel", "missing required"),
    (broken("managers: {channel: C0MANAGERS}\n", ""), 1, "managers", "missing required key"),
    (broken("    channel: C0WIBRO\n", ""), 13, "departments[0].channel", "missing required key 'channel'"),
    (broken("    name: 네트워크\n", ""),
     18, "departments[1].name", "missing required key 'name'"),
    (broken("  - id: wibro\n", "  - ident: wibro\n"), 13, "departments[0].ident", "unknown key"),
    (BASE[:BASE.index("departments:")], 1, "departments", "missing required key"),
    (broken("    first_response: 8h\n", ""), 8, "sla.office.first_response", "missing required"),
    # bad values
    (broken("first_response: 8h", "first_response: 8 hours"),
     8, "sla.office.first_response", "bad duration '8 hours'"),
    (broken("first_response: 3h,", "first_response: 0s,"),
     6, "sla.fast_track.first_response", "longer than 0s"),
    (broken("timezone: Asia/Seoul", "timezone: Asia/Seol"), 1, "timezone", "unknown timezone 'Asia/Seol'"),
    (broken('"90%"', '"150%"'), 5, "sla.standard.remind[1]", "bad percentage '150%'"),
    (broken('"50%"', '"0%"'), 5, "sla.standard.remind[0]", "bad percentage"),
    (broken('remind: ["1h", "2h"]', 'remind: ["1h", "4h"]'),
     6, "sla.fast_track", "reminder 4h is at or after"),
    (broken('"09:00-18:00"', '"18:00-09:00"'),
     9, "sla.office.business_hours.hours", "close before they open"),
    (broken('"09:00-18:00"', '"9am-6pm"'), 9, "sla.office.business_hours.hours", "opening hours like"),
    (broken("mon, tue,", "mon, tues,"), 9, "sla.office.business_hours.days[1]", "unknown day 'tues'"),
    (broken("holidays: KR", "holidays: XX"),
     9, "sla.office.business_hours.holidays", "unknown holiday country"),
    (broken("to: managers", "to: boss"), 10, "sla.office.escalate[1].to", 'or "managers"'),
    (broken("to: managers", "to: [managers]"), 10, "sla.office.escalate[1].to", "write `to: managers`"),
    (broken("to: [U0HEAD]", "to: [kim]"), 10, "sla.office.escalate[0].to[0]", "Slack user id"),
    (broken("sla: fast_track}", "sla: fast}"), 11, "fast_track.sla", "unknown policy 'fast'"),
    (broken("triage: {channel: C0TRIAGE}", "triage: {channel: C0TRIAGE, sla: nope}"),
     2, "triage.sla", "unknown policy"),
    (broken("  - id: network", "  - id: wibro"),
     18, "departments[1].id", "duplicate department id 'wibro' (first at departments[0])"),
    (broken("  - id: network", "  - id: fast"), 18, "departments[1].id", "reserved"),
    (broken("  - id: network", "  - id: Network Team"), 18, "departments[1].id", "lowercase id"),
    (broken("    channel: C0WIBRO", "    channel: wibro-team"), 15, "departments[0].channel", "channel id"),
    (broken("    channel: C0WIBRO", "    channel: #wibro"), 15, "departments[0].channel", "empty value"),
    (broken("keywords: [와이브로, wibro]", "keywords: 와이브로"),
     16, "departments[0].keywords", "expected a list"),
    (broken("    sla: standard\n", "    sla: standard\n    staff: []\n"),
     18, "departments[0].staff", "leave staff out"),
    (broken("    name: WiBro 고객센터\n", "    name: WiBro 고객센터\n    name: again\n"),
     15, "departments[0].name", "duplicate key (first at line 14)"),
    (BASE + 'report: {daily_at: "25:00"}\n', 23, "report.daily_at", "HH:MM"),
    (BASE + "report: {email: [managers]}\n", 23, "report.email[0]", "email address"),
    (BASE + "relay: {mode: auto}\n", 23, "relay.mode", "expected one of send, approve"),
    (BASE + "relay: {hold: 15}\n", 23, "relay.hold", "bad duration '15'"),
    (BASE + "operators: []\n", 23, "operators", "leave operators out"),
    (BASE + "storm: {threshold: 0, window: 5m, quiet: 10m}\n", 23, "storm.threshold", "at least 1"),
    (BASE + "storm: {threshold: 5, window: 5m}\n", 23, "storm.quiet", "missing required key"),
    (BASE + "locale: jp\n", 23, "locale", "expected one of ko, en"),
    (BASE[:BASE.index("departments:")] + "departments: []\n", 12, "departments", "at least one department"),
    (BASE[:BASE.index("sla:")] + "sla: {}\ndepartments: []\n", 4, "sla", "at least one policy"),
])
def test_a_broken_file_is_refused_with_its_line_and_key(text: str, line: int, key: str, message: str) -> None:
    with pytest.raises(RoutingError) as caught:
        parse_routing(text, "routing.yaml")
    error = caught.value
    assert (error.line, error.key) == (line, key), str(error)
    assert message in error.message
    assert str(error).startswith(f"routing.yaml:{line}: {key}: ")


@pytest.mark.parametrize(("text", "line", "message"), [
    (broken("    name: WiBro 고객센터", "    name: WiBro: 고객센터"), 14, "mapping values are not allowed"),
    # the problem shows where the parser noticed it; the context names the line where the list began
    (broken("keywords: [와이브로, wibro]", "keywords: [와이브로, wibro"), 17, "sequence started at line 16"),
    (broken("    sla: standard", "\tsla: standard"), 17, "'\\t'"),
])
def test_yaml_syntax_errors_carry_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(RoutingError) as caught:
        parse_routing(text, "routing.yaml")
    assert caught.value.line == line and caught.value.key == ""
    assert caught.value.message.startswith("YAML syntax error: ") and message in caught.value.message


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("- a\n- b\n", "expected a mapping, found a list"),
])
def test_an_empty_or_non_mapping_file_is_refused(text: str, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        parse_routing(text, "routing.yaml")


def test_load_routing_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(broken("timezone: Asia/Seoul", "timezone: Mars/Olympus"), encoding="utf-8")
    with pytest.raises(RoutingError, match=rf"^{path}:1: timezone: unknown timezone"):
        load_routing(path)
    with pytest.raises(RoutingError, match="cannot read"):
        load_routing(tmp_path / "missing.yaml")


def test_defaults() -> None:
    routing = parse_routing(BASE, "routing.yaml")
    assert routing.relay.hold == timedelta(seconds=15)
    assert (routing.relay.note_prefix, routing.relay.mode) == ("//", "send")
    assert routing.report.daily_at == time(17, 30) and routing.report.email == ()
    assert routing.operators is None and routing.storm is None and routing.locale == "ko"
    wibro = routing.department("wibro")
    assert wibro.staff is None and wibro.leads == () and wibro.relay_mode is None
    assert routing.triage_policy == "standard"
    renamed = broken("  standard:", "  normal:").replace("sla: standard", "sla: normal")
    without_standard = parse_routing(renamed, "routing.yaml")
    assert without_standard.triage_policy == "normal"


def test_planned_extensions_are_parsed() -> None:
    routing = parse_routing(BASE + """\
relay: {hold: 0s, note_prefix: "#note", mode: approve}
report: {daily_at: 09:05, email: [cs@example.com, boss@example.co.kr]}
operators: [U0OPS1]
storm: {threshold: 30, window: 10m, quiet: 30m}
locale: en
""", "routing.yaml")
    assert routing.relay.hold == timedelta(0) and routing.relay.mode == "approve"
    assert routing.report.daily_at == time(9, 5)  # unquoted: read as written, not as YAML 1.1's base 60
    assert routing.report.email == ("cs@example.com", "boss@example.co.kr")
    assert routing.operators == frozenset({"U0OPS1"}) and routing.locale == "en"
    assert routing.storm is not None
    assert (routing.storm.threshold, routing.storm.quiet) == (30, timedelta(minutes=30))
    office = routing.policy("office")
    assert office.business_hours is not None and office.business_hours.days == frozenset(range(5))
    assert [(s.after, s.to, s.to_managers) for s in office.escalate] == [
        (timedelta(hours=1), ("U0HEAD",), False), (timedelta(hours=3), (), True)]


@pytest.mark.parametrize(("text", "department", "policy", "fast", "keywords"), [
    ("와이브로가 안 돼요", "wibro", "standard", False, ("와이브로",)),
    ("ＷｉＢｒｏ 요금 문의", "wibro", "standard", False, ("wibro",)),
    ("집 앞 기지국 먹통", "network", "office", False, ("먹통",)),
    ("와이브로 장애인가요?", "wibro", "fast_track", True, ("와이브로", "장애")),
    ("개통 언제 돼요", None, "fast_track", True, ("개통",)),
    ("안녕하세요", None, "standard", False, ()),
])
def test_route(text: str, department: str | None, policy: str, fast: bool, keywords: tuple[str, ...]) -> None:
    route = parse_routing(BASE, "routing.yaml").route(text)
    assert (route.department.id if route.department else None) == department
    assert (route.policy.name, route.fast_track, route.keywords) == (policy, fast, keywords)


def test_shipped_routing_routes_the_story() -> None:
    routing = load_routing(SHIPPED)
    route = routing.route("아이폰으로 와이브로 에그 연결이 안돼요")
    assert route.department is not None and route.department.id == "iphone"
    assert routing.route("통신 장애 언제 복구되나요").policy.name == "fast_track"
    assert routing.channel_for(routing.route("청소년 요금제 문의").department) == "C0BILLING"


def test_lookups() -> None:
    routing = parse_routing(BASE, "routing.yaml")
    assert routing.department_for_channel("C0NETWORK") == routing.department("network")
    assert routing.department_for_channel("C0OTHER") is None
    assert routing.channel_for(None) == "C0TRIAGE"
    assert routing.policy_for(routing.department("network"), fast=True).name == "fast_track"
    assert routing.relay_mode_for(None) == "send"
    with pytest.raises(UnknownDepartment) as caught:
        routing.department("sales")
    assert isinstance(caught.value, BotError) and isinstance(caught.value, KeyError)
    assert str(caught.value) == "unknown department 'sales' (known: wibro, network)"
    with pytest.raises(BotError, match="unknown policy 'gold'"):
        routing.policy("gold")


# -- issue 12, finding 7: `check` refuses what cannot run ------------------------------------------------

@pytest.mark.parametrize(("old", "new", "line", "key"), [
    ("standard: {first_response: 24h,", "standard: {first_response: 99999999d,", 5, "sla.standard.first_response"),
    ("fast_track: {first_response: 3h, remind: [\"1h\", \"2h\"]}",
     "fast_track: {first_response: 3h, remind: [\"1h\", \"99999999d\"]}", 6, "sla.fast_track.remind[1]"),
    ("escalate: [{after: 1h,", "escalate: [{after: 99999999d,", 10, "sla.office.escalate[0].after"),
    ("managers: {channel: C0MANAGERS}\n", "managers: {channel: C0MANAGERS}\nrelay: {hold: 99999999d}\n", 4,
     "relay.hold"),
    ("managers: {channel: C0MANAGERS}\n", "managers: {channel: C0MANAGERS}\nrelay: {hold: 2h}\n", 4, "relay.hold"),
    ("managers: {channel: C0MANAGERS}\n", "managers: {channel: C0MANAGERS}\nretention: 99999999d\n", 4,
     "retention"),
    ("managers: {channel: C0MANAGERS}\n",
     "managers: {channel: C0MANAGERS}\nstorm: {threshold: 3, window: 99999999d, quiet: 1m}\n", 4, "storm.window"),
])
def test_durations_that_would_overflow_a_clock_are_refused_with_file_line_and_key(old, new, line, key) -> None:
    with pytest.raises(RoutingError) as err:
        parse_routing(broken(old, new), "routing.yaml")
    assert str(err.value).startswith(f"routing.yaml:{line}: {key}: "), str(err.value)
    assert "at most" in str(err.value)


def test_a_duration_too_big_for_python_is_refused_not_raised() -> None:
    with pytest.raises(RoutingError) as err:
        parse_routing(broken("first_response: 24h,", "first_response: 99999999999999999999d,"), "routing.yaml")
    assert str(err.value).startswith("routing.yaml:5: sla.standard.first_response: "), str(err.value)


def test_yaml_nested_thousands_deep_is_refused_with_a_line_not_a_recursion_error() -> None:
    deep = BASE + "x: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(RoutingError) as err:
        parse_routing(deep, "routing.yaml")
    line = BASE.count("\n") + 1
    assert str(err.value).startswith(f"routing.yaml:{line}: nested deeper than 64 levels"), str(err.value)
    assert "nested deeper than" in str(err.value)
    block = BASE + "".join("  " * i + f"k{i}:\n" for i in range(700))
    with pytest.raises(RoutingError) as err:
        parse_routing(block, "routing.yaml")
    assert "nested deeper than" in str(err.value)


def test_a_huge_routing_file_is_refused_before_it_is_parsed(tmp_path) -> None:
    huge = tmp_path / "routing.yaml"
    huge.write_text(BASE + "# " + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(RoutingError) as err:
        load_routing(huge)
    assert str(err.value).startswith(f"{huge}: ") and "larger than" in str(err.value), str(err.value)


def test_retention_defaults_to_90_days_and_must_outlive_the_longest_sla_clock() -> None:
    assert parse_routing(BASE).retention == timedelta(days=90)
    assert parse_routing(broken("managers: {channel: C0MANAGERS}\n",
                                "managers: {channel: C0MANAGERS}\nretention: 30d\n")).retention == timedelta(days=30)
    with pytest.raises(RoutingError) as err:
        parse_routing(broken("managers: {channel: C0MANAGERS}\n", "managers: {channel: C0MANAGERS}\nretention: 2d\n"),
                      "routing.yaml")
    assert str(err.value).startswith("routing.yaml:4: retention: 2d is too short: tickets of sla.standard run 1d"), \
        str(err.value)
