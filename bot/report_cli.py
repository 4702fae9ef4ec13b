"""`python -m bot report`: the SLA summary as text, JSON or CSV; --post sends it to the managers channel."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.adapters.slack_syntax import tweet_url
from bot.errors import BotError
from bot.flows.report import TRIAGE, Window, day_window, load, percentile, totals
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


def fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    value = int(value)
    h, rest = divmod(value, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


COUNTS = ("received", "answered", "open", "closed", "breached")


def as_text(data: dict[str, Any]) -> str:
    """The JSON's figures as a table, in the JSON's words: a row per department, triage, and the total."""
    w = data["window"]
    rows = list(data["departments"])
    if not any(d["id"] == TRIAGE for d in rows):
        rows.append({"id": TRIAGE, **dict.fromkeys(COUNTS, 0), "first_response_p50_s": None,
                     "first_response_p90_s": None, "sla_met_pct": None})
    firsts = [t["first_response_s"] for t in data["tickets"] if t["first_response_s"] is not None]
    rows.append({"id": "total", **{k: sum(d.get(k, 0) for d in rows) for k in COUNTS},
                 "first_response_p50_s": percentile(firsts, 50), "first_response_p90_s": percentile(firsts, 90),
                 "sla_met_pct": totals(data)["sla_met_pct"]})
    width = max(12, *(len(d["id"]) for d in rows))
    head = (f"{'department':<{width}} " + " ".join(f"{k:>8}" for k in COUNTS)
            + f" {'p50':>8} {'p90':>8} {'sla_met':>8}")
    lines = [f"SLA summary {w['since']} → {w['until']}", "", head, "-" * len(head)]
    for d in rows:
        if d["id"] == "total":
            lines.append("-" * len(head))
        met = "-" if d["sla_met_pct"] is None else f"{d['sla_met_pct']:.1f}%"
        lines.append(f"{d['id']:<{width}} " + " ".join(f"{d.get(k, 0):>8}" for k in COUNTS)
                     + f" {fmt_s(d['first_response_p50_s']):>8} {fmt_s(d['first_response_p90_s']):>8} {met:>8}")
    lines += ["", "p50/p90: time to the first answer; sla_met: share of answered or overdue tickets answered in "
                  "time; closed: resolved without an answer"]
    if data.get("retention"):
        lines += ["", f"note: {data['retention']['note']}"]
    late = [t for t in data["tickets"] if t["breached"]]
    if late:
        lines += ["", "Breached:"] + [f"  {t['department']:<10} {tweet_url('', t['tweet_id'])} "
                                      f"(due {t['due_at']})" for t in late]
    return "\n".join(lines)


def as_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in data["tickets"]:
        writer.writerow({**row, "breached": "true" if row["breached"] else "false",
                         "fast_track": "true" if row["fast_track"] else "false",
                         "first_response_s": "" if row["first_response_s"] is None else row["first_response_s"]})
    return out.getvalue()


def build(now: datetime | None = None, args: argparse.Namespace | None = None) -> dict[str, Any]:
    ctx = report_context()  # light: no redis-py, routing from its cache (bot/report_context.py)
    now = now or datetime.now(UTC)
    window = window_for(args or argparse.Namespace(since=None, until=None), ctx.routing.timezone, now)
    return load(ctx, window, now)


def main(args: argparse.Namespace) -> int:
    data = build(args=args)
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False))
    elif args.format == "csv":
        print(as_csv(data), end="")
    else:
        print(as_text(data))
    if args.post:
        return post(data)
    return 0


def post(data: dict[str, Any]) -> int:
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
