"""python -m bot <command>: check, run, report, bench."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from bot.errors import BotError, ConfigError, SettingsError

EXIT_CODES = """exit codes:
  0    done (check: the bot can start)
  1    something to fix outside the configuration: Redis unreachable, Slack refused a post; and every
       `check` that finds a missing or malformed variable
  2    the configuration cannot be used: routing.yaml (file:line: key: what is wrong), or a variable this
       command needs is missing or malformed
  130  interrupted (Ctrl-C)"""


def cmd_check(args: argparse.Namespace) -> int:
    # Each command imports what it needs when it runs: `python -m bot check` loads no Slack, RQ or matplotlib.
    import redis

    from bot.adapters.redis_url import connect, problem  # REDIS_URL's forms (Sentinel, TLS): as below
    from bot.routing import load_routing  # the YAML loader and schema: only `check` and the processes need them
    from bot.settings import load_settings, problems  # as above

    failed = False
    try:
        settings = load_settings()
    except SettingsError:
        settings = None
    routing_file = settings.routing_file if settings else (os.environ.get("ROUTING_FILE") or "routing.yaml")
    routing = load_routing(routing_file)  # a broken file: ConfigError, exit 2, `file:line: key: what`
    print(f"{routing_file}: ok ({len(routing.departments)} departments, {len(routing.policies)} SLA policies, "
          f"timezone {routing.timezone})")
    if settings is not None:
        try:
            connect(settings.redis_url, retry_for=0, socket_connect_timeout=2).ping()
            print("redis: reachable")
        except (redis.RedisError, ValueError, SettingsError) as exc:
            print(f"redis: not reachable at REDIS_URL ({type(exc).__name__}): start it, or fix REDIS_URL")
            failed = True
    found = problems(accounts=[(a.id, a.env_prefix) for a in routing.accounts])
    url_problem = problem(os.environ.get("REDIS_URL") or "redis://localhost:6379/0")
    if url_problem and not any(line.startswith("REDIS_URL") for line in found):
        found.append(url_problem)
    for line in found:
        print(line)
    if not found:
        print("environment: ok")
    return 1 if failed or found else 0


def needs_checkout(command: str, package: str) -> bool:
    """`run` and `bench` live in a checkout (the Procfile, the stand-ins, the bench), not in the wheel."""
    if importlib.util.find_spec(package) is not None:
        return False
    print(f"escalator: `python -m bot {command}` needs a checkout of the repository (git clone, then make {command})",
          file=sys.stderr)
    return True


def cmd_run(args: argparse.Namespace) -> int:
    if needs_checkout("run", "sandbox"):
        return 2
    from bot.launcher import run  # the process manager and the stand-ins: only `run` loads them

    return run(demo=not args.no_demo, exit_after_demo=args.exit_after_demo)


def cmd_report(args: argparse.Namespace) -> int:
    from bot.report_cli import main  # the figures and Redis: only `report` loads them

    return main(args)


def cmd_bench(args: argparse.Namespace) -> int:
    if needs_checkout("bench", "bench"):
        return 2
    from bench import main  # dev-only: a checkout's package, not the wheel's

    return main(args)


def cmd_socket(args: argparse.Namespace) -> int:
    from bot.socket_mode import main  # Bolt and Flask: only `socket` loads them

    return main()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot", description="Escalator: X mentions -> Slack -> X",
                                epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="validate ROUTING_FILE, every environment variable and Redis; exit 0 when "
                       "the bot can start", epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--strict", action="store_true",
                   help="kept for old scripts: an unreachable Redis now always fails the check")
    c.set_defaults(fn=cmd_check)
    r = sub.add_parser("run", help="run the whole bot (on local stand-ins when no credentials are set)")
    r.add_argument("--no-demo", action="store_true", help="do not feed the sample mentions")
    r.add_argument("--exit-after-demo", action="store_true", help="stop once the demo has run (smoke test)")
    r.set_defaults(fn=cmd_run)
    rep = sub.add_parser("report", help="the SLA summary for a window (default: today)")
    rep.add_argument("--since", help="first day (2026-11-01) or ISO time; naive times are in the routing timezone")
    rep.add_argument("--until", help="last day, included (2026-11-30), or ISO time; default: the end of --since's day")
    rep.add_argument("--format", choices=["text", "json", "csv"], default="text",
                     help="text: a table; json: departments and tickets; csv: one row per ticket")
    rep.add_argument("--post", action="store_true",
                     help="also post the summary, with its charts, to the managers channel (needs SLACK_BOT_TOKEN)")
    rep.set_defaults(fn=cmd_report)
    b = sub.add_parser("bench", help="measure the bot against the floor of its own work")
    b.add_argument("--mentions", type=int, default=1000, help="mentions in the ingest figure (default 1000)")
    b.add_argument("--quick", action="store_true", help="tiny numbers (smoke test)")
    b.add_argument("--only", choices=["routing", "round trips", "report", "ingest and relay", "memory", "burst",
                                      "x limits", "latency"],
                   action="append", help="run just this figure (repeatable)")
    b.set_defaults(fn=cmd_bench)
    so = sub.add_parser("socket", help="Slack over Socket Mode (needs SLACK_APP_TOKEN), in place of web")
    so.set_defaults(fn=cmd_socket)
    return p


class _VersionAction(argparse.Action):
    """argparse's "version" action, but the version is read only when asked for (not on every start)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"escalator {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~20 ms: only --version reads it

    try:
        return version("escalator")
    except PackageNotFoundError:
        return "unknown"


def use_running_make_run() -> None:
    """Without REDIS_URL, the CLI uses the Redis (and, on the stand-ins, the stand-ins) of the `make run`
    running from this checkout, whatever port it got."""
    if os.environ.get("REDIS_URL"):
        return
    from bot.launcher import ROOT, read_dotenv, running_env  # only when REDIS_URL is unset

    if read_dotenv(ROOT / ".env").get("REDIS_URL"):
        return
    for key, value in running_env().items():
        os.environ.setdefault(key, value)


def _redis_unreachable(exc: BaseException) -> bool:
    """Redis did not answer: redis-py's ConnectionError (when a command imported it: `report` does not, so
    it is looked up, not imported) or the report's own RESP client's."""
    from bot.adapters.resp import RedisUnreachable  # light (socket + hiredis), and only on an error

    redis = sys.modules.get("redis")
    return isinstance(exc, RedisUnreachable) or (redis is not None and isinstance(exc, redis.ConnectionError))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("check", "report"):
        use_running_make_run()
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - re-raised below unless it says Redis does not answer
        if not _redis_unreachable(exc):
            raise
        url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0 (the default)"
        print(f"error: Redis at {url} does not answer: start `make run` (it starts one), or set REDIS_URL",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
