"""`python -m bot report`: the SLA summary as text, JSON or CSV; --post sends it to the managers channel."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.adapters.slack_syntax import tweet_url
from bot.domain.durations import format_duration
from bot.domain.figures import TRIAGE, DepartmentFigures, Figures, Totals, Window
from bot.errors import BotError
from bot.flows.report import day_window, load
from bot.report_context import report_context

CSV_COLUMNS = ["tweet_id", "department", "sla", "state", "created_at", "due_at", "first_response_s", "breached",
               "fast_track", "author"]


class BadTime(BotError):
    pass


def parse_time(value: str, tz: ZoneInfo, end: bool = False) -> datetime:
    """A date (whole day; as --until, the day is included) or an ISO time; naive means the routing zone."""
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime.combine(d + timedelta(days=1 if end else 0), time(0), tzinfo=tz)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadTime(f"{value!r} is not a date (2026-11-28) or an ISO time (2026-11-28T09:00+09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def window_for(args: argparse.Namespace, tz: ZoneInfo, now: datetime) -> Window:
    since, until = day_window(now, tz)
    if args.since:
        since = parse_time(args.since, tz)
        if not args.until:
            until = max(until, since + timedelta(days=1))
    if args.until:
        until = parse_time(args.until, tz, end=True)
    if until <= since:
        raise BadTime("--until must be after --since")
    return Window(since, until)


COUNTS = ("received", "answered", "open", "closed", "breached")


def _table(title: str, rows: Sequence[DepartmentFigures | Totals], names: Sequence[str]) -> list[str]:
    """A row per department (or account) and the total, in the JSON's words; durations in English units."""
    width = max(12, *(len(name) for name in names))
    head = (f"{title:<{width}} " + " ".join(f"{k:>8}" for k in COUNTS) + f" {'p50':>8} {'p90':>8} {'sla_met':>8}")
    lines = [head, "-" * len(head)]
    for name, d in zip(names, rows, strict=True):
        if isinstance(d, Totals):
            lines.append("-" * len(head))
        met = "-" if d.sla_met_pct is None else f"{d.sla_met_pct:.1f}%"
        lines.append(f"{name:<{width}} " + " ".join(f"{getattr(d, k):>8}" for k in COUNTS)
                     + f" {format_duration(d.first_response_p50_s, 'en'):>8}"
                     f" {format_duration(d.first_response_p90_s, 'en'):>8} {met:>8}")
    return lines


def as_text(figures: Figures) -> str:
    """The report as tables: a row per department, triage, and the total (and per account when several)."""
    data = figures.to_json()
    w = data["window"]
    rows: list[DepartmentFigures | Totals] = list(figures.departments)
    if figures.department(TRIAGE) is None:
        rows.append(DepartmentFigures(TRIAGE, 0, 0, 0, 0, 0, None, None, None))
    rows.append(figures.totals)
    lines = [f"SLA summary {w['since']} → {w['until']}", ""]
    lines += _table("department", rows, [*(d.id for d in rows if isinstance(d, DepartmentFigures)), "total"])
    if figures.by_account:
        lines += [""] + _table("account", [*figures.accounts, figures.totals],
                               [*(a.id for a in figures.accounts), "total"])
    lines += ["", "p50/p90: time to the first answer; sla_met: share of answered or overdue tickets answered in "
                  "time; closed: resolved without an answer"]
    if figures.retention:
        lines += ["", f"note: {figures.retention.note}"]
    if figures.saved_replies:
        lines += ["", "Saved replies used:"] + [
            f"  {s.department or 'shared':<10} {u.name:<20} {u.count:>5}" for s in figures.saved_replies
            for u in s.used]
    late = [r for r in data["tickets"] if r["breached"]]
    if late:
        lines += ["", "Breached:"] + [f"  {t['department']:<10} {tweet_url('', t['tweet_id'])} "
                                      f"(due {t['due_at']})" for t in late]
    return "\n".join(lines)


def as_csv(figures: Figures) -> str:
    """A row per ticket; an account column only when the window's tickets came in on several accounts."""
    columns = CSV_COLUMNS + (["account"] if figures.by_account else [])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in figures.to_json()["tickets"]:
        writer.writerow({**row, "breached": "true" if row["breached"] else "false",
                         "fast_track": "true" if row["fast_track"] else "false",
                         "first_response_s": "" if row["first_response_s"] is None else row["first_response_s"]})
    return out.getvalue()


def build(now: datetime | None = None, args: argparse.Namespace | None = None) -> Figures:
    ctx = report_context()  # light: no redis-py, routing from its cache (bot/report_context.py)
    now = now or datetime.now(UTC)
    window = window_for(args or argparse.Namespace(since=None, until=None), ctx.routing.timezone, now)
    return load(ctx, window, now)


def main(args: argparse.Namespace) -> int:
    data = build(args=args)
    if args.format == "json":
        print(json.dumps(data.to_json(), ensure_ascii=False))
    elif args.format == "csv":
        print(as_csv(data), end="")
    else:
        print(as_text(data))
    if args.post:
        return post(data)
    return 0


def post(data: Figures) -> int:
    """--post: the summary to the managers channel; says where it went, or one line on what to fix."""
    from bot.context import get_context  # Slack and redis-py: only --post pays for them
    from bot.flows.summary import post_summary  # loads matplotlib: only --post pays for it

    ctx = get_context()
    ctx.settings.require("SLACK_BOT_TOKEN")
    logging.getLogger("bot.flows.summary").propagate = False  # its error comes back here and is printed once
    logging.getLogger("bot.flows.summary").addHandler(logging.NullHandler())
    ts = post_summary(ctx, data)
    channel = ctx.routing.managers_channel
    print(f"posted the summary to the managers channel {channel} (message ts {ts}, charts in its thread)"
          + (f" and mailed it to {', '.join(ctx.routing.report.email)}" if ctx.routing.report.email
             and ctx.settings.smtp_url else ""))
    return 0
