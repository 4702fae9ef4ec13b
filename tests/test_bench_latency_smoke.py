"""`python -m bot bench --quick --only latency` runs end to end: the stand-ins' round trip, 1, 2 and 4 workers,
the burst over 20 channels and the relay at 0 and 150 ms all print their rows. No figure is checked against its
target here (timings belong to the bench's table): only that every row is there and the bot kept up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ROWS = [f"latency: tickets/s to Slack, {ms} ms round trip, {n} worker(s) (40 mentions over 20 channels"
        for n in (1, 2, 4) for ms in (0, 150)] + [
    f"latency: 60-mention burst over 20 channels fully visible, {ms} ms round trip, 4 workers" for ms in (0, 150)] + [
    f"latency: relay p{p} signed event -> POST /2/tweets, {ms} ms round trip, 20 replies/s, 4 workers (20/20 on X)"
    for p in (50, 99) for ms in (0, 150)]


def test_quick_latency_bench_prints_every_row() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "bench", "--quick", "--only", "latency"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for row in ROWS:
        matching = [line for line in table if row in line]
        assert len(matching) == 1, f"no row {row!r} in:\n{done.stdout}"
        cells = [c.strip() for c in matching[0].strip("|").split("|")]
        assert len(cells) == 6 and cells[1] and cells[5] in ("yes", "MISSED", "-"), matching[0]
    assert "FAILED" not in done.stdout, done.stdout
