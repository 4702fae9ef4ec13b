"""`make run` for a newcomer: with no credentials, the narrated demo runs end to end and says what happened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.embedded_redis import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_on_the_stand_ins_and_narrates_every_step(tmp_path, redis_url):
    routing = tmp_path / "routing.yaml"
    routing.write_text((ROOT / "routing.yaml").read_text(encoding="utf-8").replace("hold: 15s", "hold: 1s"),
                       encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))}
    env.update(REDIS_URL=redis_url, ROUTING_FILE=str(routing), PORT=str(free_port()), X_POLL_SECONDS="1")
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--exit-after-demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-2000:]
    for step in ("running on the local stand-ins", "→ Slack #C0IPHONE", "→ Slack #C0WIBRO", "→ Slack #C0BILLING",
                 "→ X: @escalator_kr replied", "https://shop.example.com/track 🙏",
                 "the Slack thread shows what was sent"):
        assert step in out, f"{step!r} missing from the demo's narration"
    assert "물류팀" not in out.split("→ X:")[1].splitlines()[0], "the internal note reached X"
