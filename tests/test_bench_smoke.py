"""`python -m bot bench --quick` runs end to end and prints every row, so the bench cannot rot unnoticed.

No figure is checked against its target here: timings belong to the bench's table, not to the test suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ROWS = [
    "ingest: 20 mentions -> 20 Slack posts",
    "relay: 20 replies/s offered",
    "relay: p50 signed event -> POST /2/tweets",
    "relay: p99 signed event -> POST /2/tweets",
    "relay: ceiling (60/s offered",
    "routing: Routing.route, 500 departments",
    "routing: KeywordMatcher.match",
    "report: today's build + JSON in process (2,000 tickets",
    "report: `python -m bot report --format json`, whole process",
    "report: Redis memory per ticket",
    "ingest: Redis commands per mention",
    "ingest: Redis round trips per mention",
    "memory: Redis bytes per mention, the bot's keys (50 mentions",
    "memory: left per mention after the 90-day retention purge",
    "memory: steady state at 1,000 mentions/day",
    "memory: steady state at 100,000 mentions/day",
    "burst: p99 staff reply -> POST /2/tweets during a 20-mention burst",
    "burst: Claim click -> its ticket message updated",
    "burst: a breach due during a 20-mention burst",
    "burst: all 20 tickets in Slack",
    "x: p50 tweet -> Slack",
    "x: p99 tweet -> Slack",
    "x: 429s while live",
    "x: 429s over a simulated hour at 450/15 min",
    "x: 429s over a simulated hour at Basic's 10/15 min",
]


def test_quick_bench_prints_the_whole_table() -> None:
    # Every figure but `latency`, which has its own smoke run (tests/test_bench_latency_smoke.py).
    only = [arg for name in ("routing", "round trips", "report", "ingest and relay", "memory", "burst",
                            "x limits")
            for arg in ("--only", name)]
    done = subprocess.run([sys.executable, "-m", "bot", "bench", "--quick", *only], cwd=ROOT, capture_output=True,
                          text=True, timeout=360)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("Escalator bench"), out
    assert "Machine: " in out and "Python 3." in out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].split("|")[1].strip() == "figure", out
    for row in ROWS:
        matching = [line for line in table if row in line]
        assert len(matching) == 1, f"no row {row!r} in:\n{out}"
        cells = [c.strip() for c in matching[0].strip("|").split("|")]
        assert len(cells) == 6 and cells[1] and cells[5] in ("yes", "MISSED", "-"), matching[0]
    assert "FAILED" not in out, out
    assert "target(s) missed" in out
