"""Charts: real PNGs, Hangul drawn with a font that has it (never boxes), quick enough for a cron job."""

from __future__ import annotations

import io
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib.image

from bot import charts
from bot.domain.figures import DepartmentFigures, FastTrackFigures, Figures, TicketRow, Totals, Window
from bot.routing import load_routing

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROUTING = load_routing(Path(__file__).parent / "data" / "routing.yaml")
KST = ZoneInfo("Asia/Seoul")
SLAS = {"iphone": timedelta(hours=1), "wibro": timedelta(hours=24), "triage": timedelta(hours=24)}


def report() -> Figures:
    """Figures with known first responses per department and tickets at known hours."""
    def dept(id_: str, p50: float | None, p90: float | None) -> DepartmentFigures:
        return DepartmentFigures(id_, 1, 1, 0, 0, 0, p50, p90, None)

    def row(n: int, created: str, fast: bool) -> TicketRow:
        at = datetime.fromisoformat(created)
        return TicketRow(str(n), "wibro", "standard", "open", at, at, None, False, fast, "u", (), "default")

    tickets = (row(1, "2026-11-27T09:10:00+09:00", False), row(2, "2026-11-27T09:50:00+09:00", True),
               row(3, "2026-11-27T00:10:00+00:00", False),  # 09:10 in Seoul
               row(4, "2026-11-27T23:59:00+09:00", False))
    since = datetime(2026, 11, 27, tzinfo=KST)
    return Figures(Window(since, since + timedelta(days=1)), since, KST,
                   (dept("iphone", 840.0, 5100.0), dept("wibro", 18000.0, 100800.0), dept("triage", None, None)),
                   tickets, Totals(4, 0, 4, 0, 0, None, None, None), FastTrackFigures(1, 0, 0, 0, 1, None, None), ())


def size(png: bytes) -> tuple[int, int]:
    height, width = matplotlib.image.imread(io.BytesIO(png), format="png").shape[:2]
    return width, height


def test_both_charts_are_pngs() -> None:
    first = charts.first_response_chart(report(), ROUTING, SLAS)
    volume = charts.volume_by_hour_chart(report(), KST)
    for png in (first, volume):
        assert png.startswith(PNG_SIGNATURE)
        width, height = size(png)
        assert 500 < width < 1000 and 150 < height < 700


def test_mentions_are_counted_by_local_hour() -> None:
    other, fast = charts.mentions_by_hour(report(), KST)
    assert other[9] == 2 and fast[9] == 1 and other[23] == 1 and sum(other) + sum(fast) == 4


def test_hangul_labels_have_a_font_with_hangul() -> None:
    font = charts.hangul_font()
    assert font is not None, "koreanize-matplotlib's NanumGothic should be installed with the bot"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph")  # "Glyph ... missing from font(s)": a box
        charts.first_response_chart(report(), ROUTING, SLAS)
        charts.volume_by_hour_chart(report(), KST, "ko")


def test_labels_fall_back_to_ids_without_a_hangul_font() -> None:
    assert charts.department_label("wibro", ROUTING, "ko", hangul=False) == "wibro"
    assert charts.department_label("iphone", ROUTING, "ko", hangul=True) == "아이폰 고객센터"
    assert charts.department_label("triage", ROUTING, "ko", hangul=False) == "triage"
    assert charts.department_label("gone", ROUTING, "ko", hangul=True) == "gone"


def test_charts_render_in_well_under_a_second() -> None:
    charts.first_response_chart(report(), ROUTING, SLAS)  # the first call registers the font
    started = time.perf_counter()
    charts.first_response_chart(report(), ROUTING, SLAS)
    charts.volume_by_hour_chart(report(), KST)
    assert time.perf_counter() - started < 1.0
