"""The managers' summary, rendered (pure): report Figures -> Slack blocks, plain text and HTML from one set of
lines, so Slack, the email and its text part say the same thing. The Slack shapes come from
bot/adapters/slack_blocks."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import time, timedelta
from typing import Any

from bot.adapters import slack_blocks
from bot.adapters.slack_syntax import tweet_url
from bot.domain.durations import format_duration
from bot.domain.figures import DepartmentFigures, Figures, Totals
from bot.flows.report import day_window, first_response_sla
from bot.messages import t
from bot.routing import Routing

# file names in Slack and Content-IDs in the email -> their titles in the catalog
CHARTS = {"first-response": "chart_first_response", "volume-by-hour": "chart_volume"}
MAX_BREACHES = 10  # listed one by one; the rest are counted
NONE = "―"  # a figure there is nothing to compute from


@dataclass(frozen=True)
class Summary:
    title: str
    text: str  # Slack mrkdwn: the message's fallback text
    blocks: list[dict[str, Any]]
    html: str  # for email; shows the charts by Content-ID (cid:first-response, cid:volume-by-hour)
    plain: str  # the email's text part


@dataclass(frozen=True)
class _Markup:
    esc: Callable[[str], str]
    bold: Callable[[str], str]
    link: Callable[[str, str], str]  # (url, escaped label)


_SLACK = _Markup(slack_blocks.escape, slack_blocks.bold, slack_blocks.link)
_HTML = _Markup(html.escape, lambda s: f"<b>{s}</b>",
                lambda u, label: f'<a href="{html.escape(u)}">{label}</a>')
_PLAIN = _Markup(lambda s: s, lambda s: s, lambda u, label: f"{label} {u}")


def fmt_duration(seconds: float | timedelta | None, locale: str) -> str:
    """The summary's durations: bot.domain.durations.format_duration, with ― for none."""
    return format_duration(seconds, locale, missing=NONE)


def _pct(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}%"


def _delta(now: float | None, before: float | None, unit: str = "", digits: int = 0) -> str:
    if now is None or before is None:
        return NONE
    diff = round(now - before, digits)
    text = f"{abs(diff):.{digits}f}{unit}"
    return f"▲{text}" if diff > 0 else f"▼{text}" if diff < 0 else f"±{text}"


def _is_day(figures: Figures) -> bool:
    tz = figures.tz
    since, until = figures.window.since.astimezone(tz), figures.window.until.astimezone(tz)
    return since.time() == time(0) and until == day_window(since, tz)[1]


def _title(figures: Figures, locale: str) -> str:
    tz = figures.tz
    since, until = figures.window.since.astimezone(tz), figures.window.until.astimezone(tz)
    as_of = figures.as_of.astimezone(tz).replace(microsecond=0)
    if _is_day(figures):
        return t(locale, "summary_title_day", date=since.date().isoformat(),
                 time=as_of.strftime("%H:%M") if as_of < until else "24:00")
    midnight = since.time() == time(0) and until.time() == time(0)
    fmt = (lambda d: d.date().isoformat()) if midnight else (lambda d: d.strftime("%Y-%m-%d %H:%M"))
    return t(locale, "summary_title_span", since=fmt(since), until=fmt(until - timedelta(days=1) if midnight
                                                                          else until))


Counts = DepartmentFigures | Totals


def _counts(locale: str, d: Counts) -> str:
    return t(locale, "summary_counts", received=d.received, answered=d.answered, open=d.open, breached=d.breached)


def _changes(cur: Counts, others: Sequence[tuple[str, Counts | None, bool]], locale: str) -> list[str]:
    """One line per comparison (label, its figures, whether it was loaded): ▲/▼ received and SLA met %."""
    pp = t(locale, "summary_pp")
    return [t(locale, "summary_change", label=label, received=_delta(cur.received, old.received if old else 0),
              met=_delta(cur.sla_met_pct, old.sla_met_pct if old else None, pp, 1))
            for label, old, loaded in others if loaded]


def _sections(figures: Figures, previous: Figures | None, last_week: Figures | None, routing: Routing,
              locale: str, m: _Markup) -> list[list[str]]:
    """The summary as sections of lines in one markup: overview, one per department, (accounts), breaches, the
    rest."""
    labels = [t(locale, "summary_vs_day" if _is_day(figures) else "summary_vs_period"), t(locale, "summary_vs_week")]
    earlier = (previous, last_week)
    overall = figures.totals
    overview = [f"{m.bold(m.esc(t(locale, 'summary_all')))} " + m.esc(_counts(locale, overall))
                + " · " + m.esc(t(locale, "summary_met", pct=_pct(overall.sla_met_pct)))]
    overview += [m.esc(line) for line in _changes(overall, [
        (label, old.totals if old else None, old is not None) for label, old in zip(labels, earlier, strict=True)],
        locale)]
    if not figures.tickets:
        overview.append(m.esc(t(locale, "summary_empty")))
    sections = [overview]
    for d in figures.departments:
        olds = [(label, old.department(d.id) if old else None, old is not None)
                for label, old in zip(labels, earlier, strict=True)]
        sections.append([
            f"{m.bold(m.esc(routing.department_name(d.id, t(locale, 'triage'))))} ({m.esc(d.id)})",
            m.esc(_counts(locale, d)),
            m.esc(t(locale, "summary_first_response", p50=fmt_duration(d.first_response_p50_s, locale),
                    p90=fmt_duration(d.first_response_p90_s, locale),
                    sla=fmt_duration(first_response_sla(routing, d.id), locale))),
            m.esc(t(locale, "summary_met", pct=_pct(d.sla_met_pct))),
            *(m.esc(line) for line in _changes(d, olds, locale)),
        ])
    if figures.by_account:
        sections.append([m.bold(m.esc(t(locale, "figures_accounts_title")))] + [
            m.esc(f"{t(locale, 'figures_account', id=a.id)}: {_counts(locale, a)} · "
                  + t(locale, "summary_met", pct=_pct(a.sla_met_pct))) for a in figures.accounts])
    sections.append(_breaches(figures, routing, locale, m))
    sections.append([m.esc(_fast_track(figures, routing, locale)), m.esc(_topics(figures, locale))])
    if figures.saved_replies:
        shared = t(locale, "figures_replies_shared")
        sections[-1] += [m.bold(m.esc(t(locale, "figures_replies_title")))] + [
            m.esc(t(locale, "figures_replies_line",
                    department=routing.department_name(s.department, t(locale, "triage")) if s.department else shared,
                    used=" · ".join(f"{u.name} ({u.count})" for u in s.used))) for s in figures.saved_replies]
    return sections


def _breaches(figures: Figures, routing: Routing, locale: str, m: _Markup) -> list[str]:
    late = sorted((r for r in figures.tickets if r.breached), key=lambda r: (r.due_at, r.tweet_id))
    if not late:
        return [m.esc(t(locale, "summary_no_breaches"))]
    lines = [m.bold(m.esc(t(locale, "summary_breached_title", n=len(late))))]
    for r in late[:MAX_BREACHES]:
        url = tweet_url(r.author, r.tweet_id)
        due = r.due_at.astimezone(routing.timezone)
        if r.first_response_s is None:
            outcome = t(locale, "summary_unanswered")
        else:
            answered = r.created_at + timedelta(seconds=r.first_response_s)
            outcome = t(locale, "summary_late", late=fmt_duration((answered - due).total_seconds(), locale))
        lines.append("• " + m.link(url, m.esc("@" + (r.author or r.tweet_id))) + " · " + m.esc(
            f"{routing.department_name(r.department, t(locale, 'triage'))} · "
            f"{t(locale, 'summary_due', due=due.strftime('%m-%d %H:%M'))} · {outcome}"))
    if len(late) > MAX_BREACHES:
        lines.append(m.esc(t(locale, "summary_more", n=len(late) - MAX_BREACHES)))
    return lines


def _fast_track(figures: Figures, routing: Routing, locale: str) -> str:
    f = figures.fast_track
    if not f.count:
        return t(locale, "summary_no_fast_track")
    within = routing.policy(routing.fast_track.policy).first_response.total_seconds() if routing.fast_track \
        else None
    return t(locale, "summary_fast_track", within=fmt_duration(within, locale),
             p50=fmt_duration(f.first_response_p50_s, locale), **asdict(f))


def _topics(figures: Figures, locale: str) -> str:
    if not figures.top_keywords:
        return t(locale, "summary_no_topics")
    return t(locale, "summary_topics", topics=" · ".join(f"{k} ({n})" for k, n in figures.top_keywords))


def build_summary(figures: Figures, previous_day: Figures | None, same_weekday_last_week: Figures | None,
                  routing: Routing, locale: str) -> Summary:
    """The summary of one report, compared with earlier ones (None: no comparison), in `locale` (ko or en)."""
    title = _title(figures, locale)

    def render(m: _Markup) -> list[list[str]]:
        return _sections(figures, previous_day, same_weekday_last_week, routing, locale, m)

    slack = render(_SLACK)
    rest = 3 if figures.by_account else 2
    blocks = slack_blocks.summary_blocks(title, slack[0], slack[1:-rest], slack[-rest:], t(locale, "summary_charts"))
    text = "\n\n".join([_SLACK.bold(_SLACK.esc(title)), *("\n".join(s) for s in slack)])
    plain = "\n\n".join([title, *("\n".join(s) for s in render(_PLAIN))])
    body = "".join(f'<p style="margin:0 0 14px">{"<br>".join(s)}</p>' for s in render(_HTML))
    images = "".join(f'<p><img src="cid:{name}" alt="{html.escape(t(locale, key))}" '
                     'style="max-width:100%"></p>' for name, key in CHARTS.items())
    page = (f'<!doctype html><html><body style="font-family:-apple-system,\'Malgun Gothic\',sans-serif;'
            f'font-size:14px;color:#1d1c1d"><h2>{html.escape(title)}</h2>{body}{images}</body></html>')
    return Summary(title=title, text=text, blocks=blocks, html=page, plain=plain)


# -- posting ---------------------------------------------------------------------------------------------
