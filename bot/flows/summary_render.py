"""The managers' summary, rendered (pure): report figures -> Slack blocks, plain text and HTML from one set of
lines, so Slack, the email and its text part say the same thing."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.adapters.slack_syntax import tweet_url
from bot.errors import UnknownDepartment
from bot.flows.report import TRIAGE, day_window, fast_track_figures, top_keywords, totals
from bot.messages import t
from bot.routing import Routing

# file names in Slack and Content-IDs in the email -> their titles in the catalog
CHARTS = {"first-response": "chart_first_response", "volume-by-hour": "chart_volume"}
MAX_BREACHES = 10  # listed one by one; the rest are counted
SECTION_LIMIT = 3000  # Slack's limit for a section block's text
_UNITS = {"ko": ("일", "시간", "분", "초", " "), "en": ("d", "h", "m", "s", " ")}


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


# Slack wants exactly &, < and > escaped: what html.escape does without quotes.
_SLACK = _Markup(lambda s: html.escape(s, quote=False), lambda s: f"*{s}*", lambda u, label: f"<{u}|{label}>")
_HTML = _Markup(html.escape, lambda s: f"<b>{s}</b>",
                lambda u, label: f'<a href="{html.escape(u)}">{label}</a>')
_PLAIN = _Markup(lambda s: s, lambda s: s, lambda u, label: f"{label} {u}")


def fmt_duration(seconds: float | None, locale: str) -> str:
    """At most two units, rounded to the minute past one: 840 -> 14분, 5100 -> 1시간 25분, 86400 -> 24시간."""
    if seconds is None:
        return "―"
    d_, h_, m_, s_, sep = _UNITS.get(locale, _UNITS["en"])
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}{s_}"
    days, minutes = divmod(round(whole / 60), 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, d_), (hours, h_)] if days >= 2 else [(hours + 24 * days, h_), (minutes, m_)]
    return sep.join(f"{n}{unit}" for n, unit in parts if n) or f"0{m_}"


def _pct(value: float | None) -> str:
    return "―" if value is None else f"{value:.1f}%"


def _delta(now: float | None, before: float | None, unit: str = "", digits: int = 0) -> str:
    if now is None or before is None:
        return "―"
    diff = round(now - before, digits)
    text = f"{abs(diff):.{digits}f}{unit}"
    return f"▲{text}" if diff > 0 else f"▼{text}" if diff < 0 else f"±{text}"


def _local(value: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(value).astimezone(tz)


def _is_day(data: dict[str, Any], tz: ZoneInfo) -> bool:
    since, until = (_local(data["window"][k], tz) for k in ("since", "until"))
    return since.time() == time(0) and until == day_window(since, tz)[1]


def _title(data: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    since, until = (_local(data["window"][k], tz) for k in ("since", "until"))
    as_of = _local(data.get("as_of") or data["window"]["until"], tz)
    if _is_day(data, tz):
        return t(locale, "summary_title_day", date=since.date().isoformat(),
                 time=as_of.strftime("%H:%M") if as_of < until else "24:00")
    midnight = since.time() == time(0) and until.time() == time(0)
    fmt = (lambda d: d.date().isoformat()) if midnight else (lambda d: d.strftime("%Y-%m-%d %H:%M"))
    return t(locale, "summary_title_span", since=fmt(since), until=fmt(until - timedelta(days=1) if midnight
                                                                          else until))


def _sla_s(dept_id: str, routing: Routing) -> float | None:
    try:
        name = routing.triage_policy if dept_id == TRIAGE else routing.department(dept_id).sla
    except UnknownDepartment:
        return None
    return routing.policy(name).first_response.total_seconds()


def _changes(cur: dict[str, Any], others: Sequence[tuple[str, dict[str, Any] | None]],
             locale: str) -> list[str]:
    """One line per comparison: ▲/▼ received and SLA met % (in points)."""
    pp = t(locale, "summary_pp")
    return [t(locale, "summary_change", label=label, received=_delta(cur["received"], old["received"]),
              met=_delta(cur["sla_met_pct"], old["sla_met_pct"], pp, 1))
            for label, old in others if old is not None]


def _sections(data: dict[str, Any], previous: dict[str, Any] | None, last_week: dict[str, Any] | None,
              routing: Routing, locale: str, m: _Markup) -> list[list[str]]:
    """The summary as sections of lines in one markup: overview, one per department, breaches, the rest."""
    tz = routing.timezone
    labels = [t(locale, "summary_vs_day" if _is_day(data, tz) else "summary_vs_period"),
              t(locale, "summary_vs_week")]
    empty = {"received": 0, "sla_met_pct": None}
    overall = totals(data)
    overview = [f"{m.bold(m.esc(t(locale, 'summary_all')))} " + m.esc(t(locale, "summary_counts", **overall))
                + " · " + m.esc(t(locale, "summary_met", pct=_pct(overall["sla_met_pct"])))]
    earlier = [totals(old) if old else None for old in (previous, last_week)]
    overview += [m.esc(line) for line in _changes(overall, list(zip(labels, earlier, strict=True)), locale)]
    if not data["tickets"]:
        overview.append(m.esc(t(locale, "summary_empty")))
    sections = [overview]
    before = [{d["id"]: d for d in (old or {}).get("departments", [])} for old in (previous, last_week)]
    for d in data["departments"]:
        olds = [(label, (b.get(d["id"], empty) if old else None))
                for label, b, old in zip(labels, before, (previous, last_week), strict=True)]
        sections.append([
            f"{m.bold(m.esc(routing.department_name(d['id'], t(locale, 'triage'))))} ({m.esc(d['id'])})",
            m.esc(t(locale, "summary_counts", **d)),
            m.esc(t(locale, "summary_first_response", p50=fmt_duration(d["first_response_p50_s"], locale),
                    p90=fmt_duration(d["first_response_p90_s"], locale),
                    sla=fmt_duration(_sla_s(d["id"], routing), locale))),
            m.esc(t(locale, "summary_met", pct=_pct(d["sla_met_pct"]))),
            *(m.esc(line) for line in _changes(d, olds, locale)),
        ])
    sections.append(_breaches(data, routing, locale, m))
    sections.append([m.esc(_fast_track(data, routing, locale)), m.esc(_topics(data, locale))])
    return sections


def _breaches(data: dict[str, Any], routing: Routing, locale: str, m: _Markup) -> list[str]:
    late = sorted((r for r in data["tickets"] if r["breached"]), key=lambda r: (r["due_at"], r["tweet_id"]))
    if not late:
        return [m.esc(t(locale, "summary_no_breaches"))]
    lines = [m.bold(m.esc(t(locale, "summary_breached_title", n=len(late))))]
    for r in late[:MAX_BREACHES]:
        url = tweet_url(r["author"], r["tweet_id"])
        due = _local(r["due_at"], routing.timezone)
        if r["first_response_s"] is None:
            outcome = t(locale, "summary_unanswered")
        else:
            answered = datetime.fromisoformat(r["created_at"]) + timedelta(seconds=r["first_response_s"])
            outcome = t(locale, "summary_late", late=fmt_duration((answered - due).total_seconds(), locale))
        lines.append("• " + m.link(url, m.esc("@" + (r["author"] or r["tweet_id"]))) + " · " + m.esc(
            f"{routing.department_name(r['department'], t(locale, 'triage'))} · "
            f"{t(locale, 'summary_due', due=due.strftime('%m-%d %H:%M'))} · {outcome}"))
    if len(late) > MAX_BREACHES:
        lines.append(m.esc(t(locale, "summary_more", n=len(late) - MAX_BREACHES)))
    return lines


def _fast_track(data: dict[str, Any], routing: Routing, locale: str) -> str:
    f = fast_track_figures(data)
    if not f["count"]:
        return t(locale, "summary_no_fast_track")
    within = routing.policy(routing.fast_track.policy).first_response.total_seconds() if routing.fast_track \
        else None
    return t(locale, "summary_fast_track", within=fmt_duration(within, locale),
             p50=fmt_duration(f["first_response_p50_s"], locale), **f)


def _topics(data: dict[str, Any], locale: str) -> str:
    top = top_keywords(data)
    if not top:
        return t(locale, "summary_no_topics")
    return t(locale, "summary_topics", topics=" · ".join(f"{k} ({n})" for k, n in top))


def _chunks(lines: Sequence[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Join lines into texts no longer than Slack allows for one section (a longer line is cut)."""
    out: list[str] = []
    for line in lines:
        line = line[:limit]
        if out and len(out[-1]) + 1 + len(line) <= limit:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def build_summary(data: dict[str, Any], previous_day: dict[str, Any] | None,
                  same_weekday_last_week: dict[str, Any] | None, routing: Routing, locale: str) -> Summary:
    """The summary of one report, compared with earlier ones (None: no comparison), in `locale` (ko or en)."""
    title = _title(data, locale, routing.timezone)

    def render(m: _Markup) -> list[list[str]]:
        return _sections(data, previous_day, same_weekday_last_week, routing, locale, m)

    slack = render(_SLACK)
    overview, depts, rest = slack[0], slack[1:-2], slack[-2:]
    section = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}
               for text in _chunks(overview)]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
                                    *section, {"type": "divider"}]
    dept_lines = [line for i, dept in enumerate(depts) for line in ([""] if i else []) + dept]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in _chunks(dept_lines)]
    blocks.append({"type": "divider"})
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for part in rest
               for text in _chunks(part)]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t(locale, "summary_charts")}]})
    text = "\n\n".join([_SLACK.bold(_SLACK.esc(title)), *("\n".join(s) for s in slack)])
    plain = "\n\n".join([title, *("\n".join(s) for s in render(_PLAIN))])
    body = "".join(f'<p style="margin:0 0 14px">{"<br>".join(s)}</p>' for s in render(_HTML))
    images = "".join(f'<p><img src="cid:{name}" alt="{html.escape(t(locale, key))}" '
                     'style="max-width:100%"></p>' for name, key in CHARTS.items())
    page = (f'<!doctype html><html><body style="font-family:-apple-system,\'Malgun Gothic\',sans-serif;'
            f'font-size:14px;color:#1d1c1d"><h2>{html.escape(title)}</h2>{body}{images}</body></html>')
    return Summary(title=title, text=text, blocks=blocks, html=page, plain=plain)


# -- posting ---------------------------------------------------------------------------------------------
