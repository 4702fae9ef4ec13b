"""The managers' summary: posting it with charts (and email), and the daily job; its figures come from
bot.flows.report.load.

Rendering is in summary_render.

Comparisons (the previous day, the same weekday last week) cover the same span of those days as the report,
so a summary at 17:30 is set against yesterday up to 17:30; each ticket counts with its outcome as now stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import charts
from bot.adapters import email, slack_blocks
from bot.adapters.slack import SlackError
from bot.domain.figures import Figures
from bot.errors import BotError, ConfigError
from bot.flows import report, xusage
from bot.flows.report import Replies, Window, comparison_windows, day_window
from bot.flows.summary_render import CHARTS, Summary, build_summary, fmt_duration  # noqa: F401 - re-exported
from bot.messages import t
from bot.routing import Routing

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

GUARD_TTL = 3 * 86400


class SummaryError(BotError):
    """The summary did not fully reach the managers."""


class SummaryNotPosted(SummaryError):
    """Slack did not take the summary message; nothing reached the managers channel."""


class ChartUploadFailed(SummaryError):
    """The summary was posted but its charts could not be uploaded to its thread."""


def chart_files(data: Figures, routing: Routing) -> dict[str, bytes]:
    slas = {d.id: report.first_response_sla(routing, d.id) for d in data.departments}
    return {"first-response": charts.first_response_chart(data, routing, slas),
            "volume-by-hour": charts.volume_by_hour_chart(data, routing.timezone, routing.locale)}


def post_summary(ctx: Context, data: Figures, now: datetime | None = None,
                 guard: str | None = None) -> str | None:
    """Post the summary to the managers channel, its charts in the thread, and email it; the message's ts.

    Every part is tried: a failed email does not stop the Slack post, nor a failed Slack post the email. The
    first failure is raised afterwards. With `guard`, the email goes out once per guard name.
    """
    now = now or datetime.now(UTC)
    routing, tz = ctx.routing, ctx.routing.timezone
    previous, last_week = comparison_windows(data.window, now, tz)
    summary = build_summary(data, report.load(ctx, previous, previous.until),
                            report.load(ctx, last_week, last_week.until) if last_week else None,
                            routing, routing.locale)
    images = chart_files(data, routing)
    errors: list[BotError] = []
    ts = None
    blocks = list(summary.blocks)
    x_lines = xusage.lines(ctx, now)  # X reads against the cap, and the posting budget left
    if x_lines:
        blocks.append(slack_blocks.context(x_lines))
    try:
        ts = ctx.slack.post(routing.managers_channel, summary.text, blocks)
    except BotError as exc:
        errors.append(SummaryNotPosted(f"the summary was not posted to {routing.managers_channel}: {exc}; "
                                       f"{post_hint(getattr(exc, 'error', ''))}"))
    else:
        try:
            ctx.slack.upload(routing.managers_channel, ts, [
                (f"{name}.png", t(routing.locale, CHARTS[name]), png) for name, png in images.items()])
        except SlackError as exc:
            errors.append(ChartUploadFailed(f"the summary was posted but its charts were not uploaded: "
                                            f"{exc}; the bot needs the files:write scope"))
    if routing.report.email and ctx.settings.smtp_url and (guard is None or ctx.store.once(f"{guard}:email",
                                                                                           GUARD_TTL)):
        try:
            config = email.parse_smtp_url(ctx.settings.smtp_url)
            email.send(config, email.html_message(config.sender, routing.report.email, summary.title,
                                                  summary.plain, summary.html, images))
        except (email.EmailError, ConfigError) as exc:
            errors.append(exc)
    for error in errors:
        log.error("daily summary: %s", error)
    if errors:
        raise errors[0]
    return ts


def daily_report_due(now: datetime, daily_at: time, tz: ZoneInfo, last_sent_date: date | None) -> date | None:
    """The local date to report on, once local time has reached daily_at and that date is not yet sent."""
    local = now.astimezone(tz)
    if local.time() < daily_at:
        return None
    today = local.date()
    return None if last_sent_date is not None and last_sent_date >= today else today


def run_daily_report(ctx: Context, now: datetime, replies: Replies | None = None) -> str | None:
    """Cron (every minute): post today's summary once, at report.daily_at; the ts, or None when not due/sent.

    A SET NX per local date makes overlapping ticks post once. If Slack took nothing, the guard is dropped so
    the next tick tries again (the email, guarded on its own, is not sent twice).
    """
    routing = ctx.routing
    day = daily_report_due(now, routing.report.daily_at, routing.timezone, None)
    if day is None:
        return None
    key = f"daily-report:{day.isoformat()}"
    if not ctx.store.once(key, ttl=GUARD_TTL):
        return None
    since = datetime.combine(day, time(0), tzinfo=routing.timezone)
    data = report.load(ctx, Window(since, day_window(since, routing.timezone)[1]), now, replies)
    try:
        return post_summary(ctx, data, now, guard=key)
    except SummaryNotPosted:
        ctx.store.forget(key)
        raise


def post_hint(error: str) -> str:
    """What to do about Slack refusing the summary, by Slack's error name."""
    if error in ("not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired",
                 "not_allowed_token_type"):
        return "check SLACK_BOT_TOKEN (the app's Bot User OAuth Token, xoxb-…)"
    if error in ("missing_scope",):
        return "the app needs the chat:write scope: reinstall it from slack-manifest.yml"
    if error in ("channel_not_found", "not_in_channel", "is_archived"):
        return "check managers.channel in routing.yaml and invite the bot to that channel (/invite @escalator)"
    return "try again; if it persists, check Slack's status and the bot's log"
