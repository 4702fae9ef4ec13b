"""Figures a person asks for inside Slack: `/sla [department] [today|week]` and the App Home tab.

Both read the report's own Figures (bot.flows.report.load), so Slack, the CLI report and the daily summary
never disagree; the Slack shapes are built in bot/adapters/slack_blocks. The App Home lists open tickets
whose clock started in the last OPEN_LOOKBACK.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.adapters import slack_blocks
from bot.adapters.jobqueue import SLA_SUMMARY
from bot.adapters.slack import STATE_ICONS, SlackError, local_time
from bot.adapters.slack_syntax import mention, tweet_url
from bot.context import Context
from bot.domain.durations import format_duration
from bot.domain.figures import TRIAGE, DepartmentFigures, Figures, Window
from bot.domain.text import escape_slack, truncate_for_slack
from bot.domain.tickets import Ticket
from bot.flows import report, xusage
from bot.flows.report import day_window
from bot.messages import t

log = logging.getLogger(__name__)

PERIODS = ("today", "week")
OPEN_LOOKBACK = timedelta(days=30)
HOME_TICKETS = 40  # a Home view holds 100 blocks; one permalink call per ticket shown


@dataclass(frozen=True)
class SlaRequest:
    department: str | None  # None: every department
    period: str


class SlaUsage(ValueError):
    pass


def parse_sla(text: str, known: list[str]) -> SlaRequest:
    """`[department] [today|week]` in either order; unknown words get the usage or the known departments."""
    department, period = None, "today"
    for word in text.split():
        low = word.lower()
        if low in PERIODS:
            period = low
        elif low in known or low == TRIAGE:
            department = low
        elif low in ("help", "도움말"):
            raise SlaUsage("sla_usage")
        else:
            raise SlaUsage(word[:40])
    return SlaRequest(department, period)


def sla_accept(ctx: Context, command: dict[str, Any]) -> dict[str, Any] | None:
    """The ack of /sla: None (an empty ack) when the summary is on its way, else the problem, privately."""
    known = [d.id for d in ctx.routing.departments]
    try:
        req = parse_sla(command.get("text", ""), known)
    except SlaUsage as exc:
        word = str(exc)
        text = t(ctx.locale, "sla_usage") if word == "sla_usage" else \
            t(ctx.locale, "unknown_department", name=escape_slack(word),
              known=slack_blocks.code_list([*known, TRIAGE])) + "\n" + t(ctx.locale, "sla_usage")
        return slack_blocks.ephemeral(text)
    ctx.queue.enqueue(SLA_SUMMARY, req.department, req.period, command.get("user_id", ""),
                      ctx.queue.seal(command.get("response_url", "")))
    return None


def window_for(period: str, now: datetime, ctx: Context) -> Window:
    since, until = day_window(now, ctx.routing.timezone)
    if period == "week":
        since = datetime.combine(since.date() - timedelta(days=6), since.timetz())
    return Window(since, until)


def _figures(ctx: Context, window: Window, now: datetime, replies: report.Replies | None = None) -> Figures:
    """The report's figures of the tickets still in Redis (no per-day aggregates: a day or a week is recent)."""
    return report.load(ctx, window, now, replies, aggregate=False)


def _line(ctx: Context, d: DepartmentFigures, name: str) -> str:
    met = "-" if d.sla_met_pct is None else f"{d.sla_met_pct:.1f}%"
    return t(ctx.locale, "sla_line", name=escape_slack(name), id=d.id, received=d.received, answered=d.answered,
             open=d.open, closed=d.closed, breached=d.breached,
             p50=format_duration(d.first_response_p50_s, ctx.locale),
             p90=format_duration(d.first_response_p90_s, ctx.locale), met=met)


def figure_lines(ctx: Context, figures: Figures, department: str | None = None) -> list[str]:
    """A line per department (or the one asked for); with several accounts, a line per account and the total."""
    lines = [_line(ctx, d, ctx.department_name(d.id)) for d in figures.departments
             if not department or d.id == department]
    if figures.by_account and not department:
        total = DepartmentFigures("total", **{k: getattr(figures.totals, k) for k in (
            "received", "answered", "open", "closed", "breached", "first_response_p50_s", "first_response_p90_s",
            "sla_met_pct")})
        lines += [_line(ctx, a, t(ctx.locale, "figures_account", id=a.id)) for a in figures.accounts]
        lines.append(_line(ctx, total, t(ctx.locale, "summary_all")))
    return lines


def reply_lines(ctx: Context, figures: Figures, department: str | None = None) -> list[str]:
    """The saved replies used, most first, per department ("" = the shared ones): none when none were used."""
    tables = [s for s in figures.saved_replies if not department or s.department in (department, "")]
    if not tables:
        return []
    shared = t(ctx.locale, "figures_replies_shared")
    return [t(ctx.locale, "figures_replies_title")] + [
        t(ctx.locale, "figures_replies_line", department=escape_slack(
            ctx.department_name(s.department) if s.department else shared),
          used=" · ".join(f"{escape_slack(u.name)} ({u.count})" for u in s.used)) for s in tables]


def sla_text(ctx: Context, department: str | None, period: str, now: datetime,
             replies: report.Replies | None = None) -> str:
    """The /sla answer: one line per department (or the one asked for), for today or the last 7 days, and the
    saved replies used when any were (`replies` as report.load takes them)."""
    window = window_for(period, now, ctx)
    tz = ctx.routing.timezone
    data = _figures(ctx, window, now, replies)
    at = now.astimezone(tz).strftime("%H:%M")
    if period == "week":
        title = t(ctx.locale, "sla_title_week", since=window.since.date().isoformat(),
                  until=(window.until - timedelta(days=1)).date().isoformat(), time=at)
    else:
        title = t(ctx.locale, "sla_title_today", date=window.since.date().isoformat(), time=at)
    lines = figure_lines(ctx, data, department)
    if department == TRIAGE and not lines:  # triage shows only when it had tickets
        lines = [t(ctx.locale, "summary_empty")]
    return "\n".join([title, *lines, *reply_lines(ctx, data, department)])


# -- App Home ----------------------------------------------------------------------------------------------

def _ticket_line(ctx: Context, ticket: Ticket, now: datetime) -> str:
    try:
        link = ctx.slack.permalink(ticket.channel or "", ticket.message_ts or "")
    except SlackError:
        link = tweet_url(ticket.author.username, ticket.tweet_id)
    late = t(ctx.locale, "home_late", late=format_duration(ticket.late_by(now), ctx.locale)) \
        if now > ticket.due_at else ""
    text = truncate_for_slack(escape_slack(" ".join(ticket.text.split())), 80)
    claimed = f" · {mention(ticket.claimed_by)}" if ticket.claimed_by else ""
    return t(ctx.locale, "home_ticket", icon=STATE_ICONS.get(ticket.state.value, ""),
             username=escape_slack(ticket.author.username), link=link, text=text,
             due=local_time(ticket.due_at, ctx.routing.timezone), late=late) + claimed


def home_view(ctx: Context, now: datetime) -> dict[str, Any]:
    """Open tickets by department (soonest due first) and today's figures."""
    local = now.astimezone(ctx.routing.timezone)
    today = _figures(ctx, Window(*day_window(now, ctx.routing.timezone)), now)
    title = t(ctx.locale, "home_today", date=local.date().isoformat(), time=local.strftime("%H:%M"))
    since, until = now - OPEN_LOOKBACK, now + timedelta(days=1)
    ids = ctx.store.ticket_ids_between(since.timestamp(), until.timestamp())
    waiting = sorted((x for x in ctx.store.tickets(ids) if x.is_open and x.message_ts),
                     key=lambda x: x.due_at)
    groups: list[tuple[str, int, list[str]]] = []
    shown = 0
    for dept_id in [d.id for d in ctx.routing.departments] + [TRIAGE]:
        mine = [x for x in waiting if (x.department or TRIAGE) == dept_id]
        if not mine:
            continue
        room = max(0, HOME_TICKETS - shown)
        lines = [_ticket_line(ctx, x, now) for x in mine[:room]]
        shown += len(lines)
        groups.append((escape_slack(ctx.department_name(dept_id)), len(mine), lines))
    return slack_blocks.home_view(t(ctx.locale, "home_title"), [title, *figure_lines(ctx, today)],
                                  t(ctx.locale, "home_open"), groups, t(ctx.locale, "home_none"),
                                  lambda n: t(ctx.locale, "home_more", n=n), xusage.lines(ctx, now))


def publish_home(ctx: Context, user: str, now: datetime) -> None:
    ctx.slack.publish_home(user, home_view(ctx, now))
