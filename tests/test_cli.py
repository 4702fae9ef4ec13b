"""`python -m bot` as an operator runs it: check and report, through the contract's environment only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.tickets import Author, Ticket
from tests.harness import make_context

ROOT = Path(__file__).resolve().parent.parent
CREDS = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "X_API_KEY": "k", "X_API_SECRET": "s",
         "X_ACCESS_TOKEN": "a", "X_ACCESS_TOKEN_SECRET": "as"}


def bot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "ROUTING"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_check_passes_with_the_shipped_routing_and_credentials(redis_url):
    done = bot("check", REDIS_URL=redis_url, **CREDS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "routing.yaml: ok (4 departments" in done.stdout


def test_check_names_the_missing_variable():
    done = bot("check", REDIS_URL="redis://127.0.0.1:1/0", **{k: v for k, v in CREDS.items() if k != "X_API_KEY"})
    assert done.returncode == 1
    assert "missing environment variable X_API_KEY" in done.stdout


def test_check_refuses_a_broken_routing_file_naming_file_line_and_key(tmp_path):
    broken = tmp_path / "routing.yaml"
    broken.write_text((ROOT / "routing.yaml").read_text(encoding="utf-8").replace("sla: office", "sla: offfice"),
                      encoding="utf-8")
    done = bot("check", ROUTING_FILE=str(broken), **CREDS)
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[-1]
    expected_line = next(i for i, text in enumerate(broken.read_text(encoding="utf-8").splitlines(), 1)
                         if "offfice" in text)
    assert f"{broken}:{expected_line}: departments[2].sla: unknown policy 'offfice'" in line, line


def test_report_json_has_the_contract_shape_and_numbers(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, ROOT / "routing.yaml")
    now = datetime.now(UTC)
    base = now.astimezone(ctx.routing.timezone).replace(hour=0, minute=30)
    answered = Ticket("11", "와이브로", Author("1", "a"), base, "standard", base + timedelta(hours=24),
                      department="wibro", opened_at=base, first_due_at=base + timedelta(hours=24))
    late = Ticket("12", "와이브로", Author("2", "b"), base, "standard", base + timedelta(minutes=1),
                  department="wibro", opened_at=base, first_due_at=base + timedelta(minutes=1))
    ctx.store.create_tickets([answered, late], now.timestamp())
    from dataclasses import replace

    from bot.domain.tickets import State
    ctx.store.save(replace(answered, state=State.ANSWERED, first_response_at=base + timedelta(seconds=840)))
    done = bot("report", "--format", "json", REDIS_URL=redis_url, ROUTING_FILE=str(ROOT / "routing.yaml"))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) >= {"window", "departments", "tickets"}
    assert datetime.fromisoformat(data["window"]["since"]).utcoffset() == timedelta(hours=9)
    wibro = next(d for d in data["departments"] if d["id"] == "wibro")
    assert (wibro["received"], wibro["answered"], wibro["open"], wibro["breached"]) == (2, 1, 1, 1)
    assert wibro["first_response_p50_s"] == 840.0 and wibro["sla_met_pct"] == 50.0
    row = next(t for t in data["tickets"] if t["tweet_id"] == "11")
    assert row["first_response_s"] == 840.0 and row["state"] == "answered" and row["breached"] is False
    csv = bot("report", "--format", "csv", REDIS_URL=redis_url, ROUTING_FILE=str(ROOT / "routing.yaml"))
    assert csv.stdout.splitlines()[0].startswith("tweet_id,department,sla,state")
    assert len(csv.stdout.splitlines()) == 3


# -- issue 14: the CLI as the README writes it ------------------------------------------------------------

def _tickets_today(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, ROOT / "routing.yaml")
    now = datetime.now(UTC)
    base = now.astimezone(ctx.routing.timezone).replace(hour=0, minute=30)
    answered = Ticket("21", "와이브로", Author("1", "a"), base, "standard", base + timedelta(hours=24),
                      department="wibro", opened_at=base, first_due_at=base + timedelta(hours=24))
    unmatched = Ticket("22", "hello", Author("2", "b"), base, "standard", base + timedelta(minutes=1),
                       department=None, opened_at=base, first_due_at=base + timedelta(minutes=1))
    ctx.store.create_tickets([answered, unmatched], now.timestamp())
    from dataclasses import replace

    from bot.domain.tickets import State
    ctx.store.save(replace(answered, state=State.ANSWERED, first_response_at=base + timedelta(seconds=600)))


def test_check_lists_every_missing_and_malformed_variable_at_once(redis_url):
    done = bot("check", REDIS_URL=redis_url, SLACK_BOT_TOKEN="abc", SLACK_APP_TOKEN="xoxb-not-an-app-token",
               X_POLL_SECONDS="soon")
    assert done.returncode == 1
    for line in ("missing environment variable SLACK_SIGNING_SECRET", "missing environment variable X_API_KEY",
                 "missing environment variable X_API_SECRET", "missing environment variable X_ACCESS_TOKEN",
                 "missing environment variable X_ACCESS_TOKEN_SECRET", "SLACK_BOT_TOKEN must start with xoxb-",
                 "SLACK_APP_TOKEN must start with xapp-", "X_POLL_SECONDS must be a whole number"):
        assert line in done.stdout, done.stdout
    assert "and 5 more" not in done.stdout and "abc" not in done.stdout.replace("'abc'", "")


def test_check_fails_when_redis_is_unreachable():
    done = bot("check", REDIS_URL="redis://127.0.0.1:1/0", **CREDS)
    assert done.returncode == 1
    assert "redis: not reachable" in done.stdout and "environment: ok" in done.stdout


def test_version_help_and_exit_codes_are_documented():
    assert bot("--version").stdout.strip().startswith("escalator ")
    top = bot("--help").stdout
    assert "exit codes:" in top and "2    the configuration cannot be used" in top
    report = bot("report", "--help").stdout
    for option in ("--since", "--until", "--format", "--post"):
        line = next(line for line in report.splitlines() if line.strip().startswith(option))
        assert len(line.split(maxsplit=2)) == 3 or option in ("--format",), f"{option} has no help: {report}"


def test_report_table_uses_the_json_words_with_closed_triage_and_total(redis_url, slack, x):
    _tickets_today(redis_url, slack, x)
    done = bot("report", REDIS_URL=redis_url, ROUTING_FILE=str(ROOT / "routing.yaml"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("department"))
    assert header.split()[:6] == ["department", "received", "answered", "open", "closed", "breached"]
    assert "late" not in header
    wibro = next(line.split() for line in lines if line.startswith("wibro "))
    triage = next(line.split() for line in lines if line.startswith("triage "))
    total = next(line.split() for line in lines if line.startswith("total "))
    assert wibro[1:6] == ["1", "1", "0", "0", "0"]
    assert triage[1:6] == ["1", "0", "1", "0", "1"]
    assert total[1:6] == ["2", "1", "1", "0", "1"]


def test_report_post_without_a_token_says_what_to_set_once(redis_url):
    done = bot("report", "--post", REDIS_URL=redis_url, ROUTING_FILE=str(ROOT / "routing.yaml"))
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert errors == ["error: missing environment variable SLACK_BOT_TOKEN"], done.stderr


def test_report_post_says_what_it_posted_where(redis_url, slack, x):
    _tickets_today(redis_url, slack, x)
    done = bot("report", "--post", REDIS_URL=redis_url, ROUTING_FILE=str(ROOT / "routing.yaml"),
               SLACK_BOT_TOKEN=slack.bot_token, SLACK_API_URL=slack.url + "/api/")
    assert done.returncode == 0, done.stderr
    assert "posted the summary to the managers channel C0MANAGERS" in done.stdout
    assert slack.messages("C0MANAGERS"), "nothing reached the managers channel"


def test_report_post_refused_by_slack_prints_one_line_with_the_right_hint(redis_url, slack, x):
    _tickets_today(redis_url, slack, x)
    done = bot("report", "--post", REDIS_URL=redis_url, ROUTING_FILE=str(ROOT / "routing.yaml"),
               SLACK_BOT_TOKEN="xoxb-wrong", SLACK_API_URL=slack.url + "/api/")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "invalid_auth" in errors[0] and "check SLACK_BOT_TOKEN" in errors[0], done.stderr
    assert "bot is in that channel" not in errors[0]


def test_a_redis_that_does_not_answer_is_one_line_saying_what_to_do():
    done = bot("report", REDIS_URL="redis://127.0.0.1:1/0", ROUTING_FILE=str(ROOT / "routing.yaml"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: Redis at redis://127.0.0.1:1/0 does not answer: start `make run` (it starts one), or set REDIS_URL"]


def test_an_embedded_redis_that_cannot_start_says_why_in_one_line(tmp_path, redis_server):
    from bot.embedded_redis import RedisStartError, start_redis

    try:
        start_redis(tmp_path, port=redis_server.port)  # the port is taken
    except RedisStartError as exc:
        assert "\n" not in str(exc) and "redis.log" in str(exc)
        assert "listening on port" in str(exc) and "another program holds that port" in str(exc), str(exc)
    else:
        raise AssertionError("a second redis-server on a taken port started")


def test_check_refuses_what_cannot_run_with_one_line_and_no_traceback(tmp_path):
    shipped = (ROOT / "routing.yaml").read_text(encoding="utf-8")
    cases = {"overflow": shipped.replace("first_response: 24h", "first_response: 99999999d"),
             "hold": shipped.replace("hold: 15s", "hold: 99999999d"),
             "deep": shipped + "x: " + "[" * 5000 + "]" * 5000 + "\n"}
    for name, text in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        done = bot("check", ROUTING_FILE=str(path), **CREDS)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.strip().startswith(f"error: {path}:"), (name, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (name, done.stderr)
