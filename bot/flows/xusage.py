"""X usage as people see it: posts read against the monthly cap (GET /2/usage/tweets) and the posting budget
left, for App Home and the daily summary; and the usage cap's pause, told once and lifted by itself."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from bot.adapters.slack import SlackError
from bot.adapters.slack_syntax import mention
from bot.adapters.x import XError, XUnavailable
from bot.context import Context
from bot.domain.durations import notation
from bot.domain.text import escape_slack
from bot.domain.xlimits import XUsage
from bot.messages import t

log = logging.getLogger(__name__)

CAP_RETRY_S = 900  # while capped, mentions are tried again this often (credits may be added, the cycle may turn)


def usage(ctx: Context) -> XUsage | None:
    """The project's usage, cached for 5 minutes (the endpoint allows 50 calls per 15 min); None if X won't say."""
    cached = ctx.store.cached_usage()
    if cached is not None:
        return XUsage(**cached)
    try:
        found = ctx.x.usage()
    except (XError, XUnavailable) as exc:
        log.warning("could not read X usage: %s", exc)
        return None
    if found is not None:
        ctx.store.cache_usage(asdict(found))
    return found


def lines(ctx: Context, now: datetime) -> list[str]:
    """X usage and the posting budget left, one line each."""
    out = []
    found = usage(ctx)
    if found is not None and found.cap:
        out.append(t(ctx.locale, "x_usage_line", today=f"{found.today:,}", cycle=f"{found.cycle:,}",
                     cap=f"{found.cap:,}", pct=f"{100 * found.cycle / found.cap:.1f}",
                     days="?" if found.reset_in_days is None else found.reset_in_days))
    windows = ctx.routing.x.windows()
    for acc in ctx.routing.accounts:  # each account posts within its own budget
        try:
            user_id, username = ctx.account(acc.id)
        except (XError, XUnavailable):
            continue
        used = ctx.store.posts_in(user_id, windows, now.timestamp())
        parts = [f"{max(0, most - n)}/{most} ({notation(timedelta(seconds=per))})"
                 for (per, most), n in zip(windows, used, strict=True)]
        line = t(ctx.locale, "x_budget_line", windows=", ".join(parts), reserve=ctx.routing.x.reserve)
        out.append(f"@{escape_slack(username)}: {line}" if ctx.routing.multi_account else line)
    return out


def capped(ctx: Context, detail: str) -> None:
    """Reads hit X's usage cap: triage and the operators hear it once, with what it means and when it lifts."""
    if not ctx.store.mark_usage_capped():
        return
    found = usage(ctx)
    days = found.reset_in_days if found is not None and found.reset_in_days is not None else "?"
    ops = " ".join(mention(u) for u in sorted(ctx.routing.operators or ()))
    try:
        ctx.slack.post(ctx.routing.triage_channel, t(ctx.locale, "x_usage_capped", days=days, ops=ops,
                                                     minutes=CAP_RETRY_S // 60, detail=escape_slack(detail)))
    except SlackError as exc:
        log.error("could not tell triage about X's usage cap: %s", exc)


def lifted(ctx: Context) -> None:
    """A read went through again after a cap: said once."""
    if not ctx.store.clear_usage_capped():
        return
    try:
        ctx.slack.post(ctx.routing.triage_channel, t(ctx.locale, "x_usage_lifted"))
    except SlackError as exc:
        log.error("could not tell triage that X's usage cap lifted: %s", exc)
