"""The bench's output: one row per figure, each beside the floor for the same work, and the machine."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass

from bot.embedded_redis import find_redis_server


@dataclass(frozen=True)
class Row:
    figure: str
    bot: str
    floor: str
    ratio: str
    target: str
    met: bool | None  # None: no target for this row

    @property
    def verdict(self) -> str:
        return "-" if self.met is None else "yes" if self.met else "MISSED"


def ratio(bot: float, floor: float) -> str:
    return f"{bot / floor:.1f}x" if floor and math.isfinite(bot / floor) else "-"


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    try:
        redis_version = subprocess.run([find_redis_server(), "--version"], capture_output=True, text=True,
                                       timeout=5).stdout.split()[2].removeprefix("v=")
    except (OSError, IndexError, subprocess.SubprocessError):
        redis_version = "?"
    return (f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, redis-server {redis_version}")


def markdown(rows: list[Row]) -> str:
    header = ["figure", "bot", "floor (same run)", "time vs floor", "target", "met"]
    cells = [header] + [[r.figure, r.bot, r.floor, r.ratio, r.target, r.verdict] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
