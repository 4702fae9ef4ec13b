"""The summary's charts as PNG bytes: first response against the SLA per department, and mentions by hour.

Fonts: Hangul needs a font that has it, and most servers have none (DejaVu, matplotlib's own, has no
Hangul and would draw boxes). The NanumGothic that the koreanize-matplotlib package ships (a dependency) is
registered by file, without importing that package: importing it changes matplotlib's global settings and
needs distutils, gone from Python 3.12. A system font with Hangul (Noto Sans CJK KR, Nanum, Malgun Gothic,
...) is used when that file is missing. With no Hangul font at all, charts fall back to English titles and
department ids (ASCII by the routing schema) for labels, rather than boxes.
"""

from __future__ import annotations

import importlib.util
import io
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # headless: workers have no display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bot.domain.figures import TRIAGE, DepartmentFigures, Figures  # noqa: E402
from bot.messages import t  # noqa: E402
from bot.routing import Routing  # noqa: E402

log = logging.getLogger(__name__)

HANGUL_FAMILIES = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans KR", "Malgun Gothic",
                   "Apple SD Gothic Neo", "AppleGothic", "NanumBarunGothic", "UnDotum", "Baekmuk Gulim")
P50, P90, SLA = "#4C78A8", "#9ECAE9", "#E45756"
DPI = 100


def _has_hangul(path: str) -> bool:
    try:
        return 0xAC00 in FT2Font(path).get_charmap()  # 가
    except (OSError, RuntimeError, ValueError):
        return False


def _bundled_fonts() -> list[Path]:
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(Path(next(iter(spec.submodule_search_locations)), "fonts").glob("NanumGothic.ttf"))


@lru_cache(maxsize=1)
def hangul_font() -> str | None:
    """The family name of a font that draws Hangul, registered with matplotlib; None when there is none."""
    for path in _bundled_fonts():
        if _has_hangul(str(path)):
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in HANGUL_FAMILIES:
        if family in installed and _has_hangul(installed[family]):
            return family
    log.warning("no font with Hangul found; charts use English and department ids")
    return None


def _style(locale: str) -> tuple[str, dict[Any, Any]]:
    """The chart language and rc settings: the routing's locale when Hangul can be drawn, else English."""
    font = hangul_font()
    rc: dict[Any, Any] = {"axes.unicode_minus": False, "font.size": 10,
                          "axes.spines.top": False, "axes.spines.right": False}
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
        return locale, rc
    return "en", rc


def department_label(dept_id: str, routing: Routing, locale: str, hangul: bool) -> str:
    """A department's name when it can be drawn; its id (ASCII by the routing schema) otherwise."""
    name = routing.department_name(dept_id, t(locale, "triage") if hangul else TRIAGE)
    return name if hangul or name.isascii() else dept_id


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def first_response_chart(figures: Figures, routing: Routing, slas: Mapping[str, timedelta | None]) -> bytes:
    """Horizontal bars per department: p50 and p90 first response (hours), and a red mark at its SLA (`slas`:
    department id -> first-response SLA, as bot.flows.report.first_response_sla gives it)."""
    locale, rc = _style(routing.locale)
    depts: Sequence[DepartmentFigures] = figures.departments
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * max(1, len(depts))))
        labels = [department_label(d.id, routing, locale, hangul_font() is not None) for d in depts]
        ys = list(range(len(depts)))
        p50 = [(d.first_response_p50_s or 0) / 3600 for d in depts]
        p90 = [(d.first_response_p90_s or 0) / 3600 for d in depts]
        ax.barh([y + 0.18 for y in ys], p90, height=0.36, color=P90, label="p90")
        ax.barh([y - 0.18 for y in ys], p50, height=0.36, color=P50, label="p50")
        marks = [_hours(slas.get(d.id)) for d in depts]
        for y, hours in zip(ys, marks, strict=True):
            if hours is not None:
                ax.plot([hours, hours], [y - 0.45, y + 0.45], color=SLA, linewidth=2.5)
        ax.plot([], [], color=SLA, linewidth=2.5, label="SLA")  # one legend entry for every marker
        ax.set_yticks(ys, labels)
        ax.invert_yaxis()
        ax.set_xlabel(t(locale, "chart_hours"))
        ax.set_xlim(0, max([*p90, *(m for m in marks if m is not None), 1.0]) * 1.08)
        ax.set_title(t(locale, "chart_first_response"), loc="left")
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1), frameon=False, ncols=3)
        return _png(fig)


def mentions_by_hour(figures: Figures, tz: ZoneInfo) -> tuple[list[int], list[int]]:
    """Tickets per local hour of day (0-23): (not fast-tracked, fast-tracked)."""
    other, fast = [0] * 24, [0] * 24
    for row in figures.tickets:
        (fast if row.fast_track else other)[row.created_at.astimezone(tz).hour] += 1
    return other, fast


def volume_by_hour_chart(figures: Figures, tz: ZoneInfo, locale: str = "ko") -> bytes:
    """Mentions per local hour of day, fast-tracked ones stacked on top of the rest."""
    locale, rc = _style(locale)
    other, fast = mentions_by_hour(figures, tz)
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(8, 3))
        hours = list(range(24))
        ax.bar(hours, other, color=P50, label=t(locale, "chart_other"))
        ax.bar(hours, fast, bottom=other, color="#F58518", label=t(locale, "chart_fast_track"))
        ax.set_xticks(hours[::2])
        ax.set_xlim(-0.6, 23.6)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(t(locale, "chart_hour_of_day", tz=str(tz)))
        ax.set_ylabel(t(locale, "chart_mentions"))
        ax.set_title(t(locale, "chart_volume"), loc="left")
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1), frameon=False, ncols=2)
        return _png(fig)
