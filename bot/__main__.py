"""python -m bot <command>: check, run, report, bench."""

from __future__ import annotations

import argparse
import sys

from bot.errors import BotError, ConfigError


def cmd_check(args: argparse.Namespace) -> int:
    import redis

    from bot.routing import load_routing
    from bot.settings import load_settings

    settings = load_settings()
    routing = load_routing(settings.routing_file)
    missing = [n for n in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "X_API_KEY", "X_API_SECRET",
                           "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET") if not getattr(settings, n.lower())]
    print(f"{settings.routing_file}: ok ({len(routing.departments)} departments, "
          f"{len(routing.policies)} SLA policies, timezone {routing.timezone})")
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2).ping()
        print("redis: reachable")
    except redis.RedisError as exc:
        print(f"redis: not reachable at the REDIS_URL host ({type(exc).__name__})")
        if args.strict:
            return 1
    if missing:
        print(f"missing environment variable {missing[0]}" + (f" (and {len(missing) - 1} more)"
                                                               if len(missing) > 1 else ""))
        return 1
    print("environment: ok")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.launcher import run

    return run(demo=not args.no_demo, exit_after_demo=args.exit_after_demo)


def cmd_report(args: argparse.Namespace) -> int:
    from bot.report_cli import main

    return main(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench import main

    return main(args)


def cmd_socket(args: argparse.Namespace) -> int:
    from bot.socket_mode import main

    return main()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot", description="Escalator: X mentions -> Slack -> X")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="validate ROUTING_FILE and the environment; exit 0 when the bot can start")
    c.add_argument("--strict", action="store_true", help="also fail when Redis is unreachable")
    c.set_defaults(fn=cmd_check)
    r = sub.add_parser("run", help="run the whole bot (on local stand-ins when no credentials are set)")
    r.add_argument("--no-demo", action="store_true", help="do not feed the sample mentions")
    r.add_argument("--exit-after-demo", action="store_true", help="stop once the demo has run (smoke test)")
    r.set_defaults(fn=cmd_run)
    rep = sub.add_parser("report", help="the SLA summary for a window (default: today)")
    rep.add_argument("--since")
    rep.add_argument("--until")
    rep.add_argument("--format", choices=["text", "json", "csv"], default="text")
    rep.add_argument("--post", action="store_true", help="post it, with a chart, to the managers channel")
    rep.set_defaults(fn=cmd_report)
    b = sub.add_parser("bench", help="measure the bot against the floor of its own work")
    b.add_argument("--mentions", type=int, default=1000)
    b.add_argument("--quick", action="store_true", help="tiny numbers (smoke test)")
    b.add_argument("--only", choices=["routing", "round trips", "report", "ingest and relay", "burst"], action="append",
                   help="run just this figure (repeatable)")
    b.set_defaults(fn=cmd_bench)
    so = sub.add_parser("socket", help="Slack over Socket Mode (needs SLACK_APP_TOKEN), in place of web")
    so.set_defaults(fn=cmd_socket)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
