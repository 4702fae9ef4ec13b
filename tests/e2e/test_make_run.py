"""`make run` as a newcomer runs it, in a copy of the checkout: twice in a row, stopped with Ctrl-C each time.

The demo's reply reaches X both times (the second run used to skip every demo tweet as older than the stored
cursor); Ctrl-C stops every process, Redis last, with no traceback; while it runs, the CLI finds its Redis by
itself and a mention sent with curl is narrated, with no access log in between.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.embedded_redis import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
RELAYED = "the Slack thread shows what was sent"


class MakeRun:
    """`make run` in its own process group (as a terminal runs it), its output collected line by line."""

    def __init__(self, clone: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(["make", "--no-print-directory", "run", f"VENV={ROOT / '.venv'}"], cwd=clone,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip("\n")))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in self.lines if text in line), None)
            if found is not None:
                return found
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in make run's output:\n{self.output[-4000:]}")

    def ctrl_c(self) -> int:
        """What Ctrl-C in the terminal does: SIGINT to the foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(60)
        self._reader.join(10)
        return code


def processes_of(clone: Path) -> list[str]:
    """Processes started from the copy: working directory or arguments inside it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if cwd.startswith(str(clone)) or str(clone) in cmdline:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def kill_processes_of(clone: Path) -> None:
    for line in processes_of(clone):
        try:
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    """A copy of the checkout's tracked files, as a fresh clone has them (no data/, no .venv)."""
    target = tmp_path / "escalator"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    try:
        yield target
    finally:
        kill_processes_of(target)  # whatever a failed run left behind


def test_make_run_twice_relays_the_demo_reply_each_time_and_ctrl_c_leaves_nothing(clone: Path) -> None:
    routing = clone / "routing.yaml"
    routing.write_text(routing.read_text(encoding="utf-8").replace("hold: 15s", "hold: 1s"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "X_", "REDIS_URL", "ROUTING_FILE", "MAKE", "LOG_LEVEL"))}
    env.update(X_POLL_SECONDS="1", PYTHONUNBUFFERED="1")
    for attempt in (1, 2):
        env.update(PORT=str(free_port()), PLAYGROUND_PORT=str(free_port()))
        run = MakeRun(clone, env)
        try:
            run.wait_for("playground: open http://127.0.0.1:")
            run.wait_for(RELAYED)
            assert "✗" not in run.output, run.output[-3000:]
            if attempt == 2:
                # the CLI, with no REDIS_URL, finds this run's Redis by itself and sees the demo's tickets
                report = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "bot", "report",
                                         "--format", "json"], cwd=clone, env=env, capture_output=True,
                                        text=True, timeout=60)
                assert report.returncode == 0, report.stderr
                assert sum(d["received"] for d in json.loads(report.stdout)["departments"]) == 4
                # a mention sent with the printed curl command is narrated, tweet and ticket
                x_url = re.search(r"curl -s -X POST (\S+)/_sandbox/mentions", run.output)
                assert x_url, run.output[-2000:]
                body = json.dumps({"text": "@escalator_kr 요금 청구서가 이상해요", "username": "curl_user"}).encode()
                urllib.request.urlopen(urllib.request.Request(
                    x_url.group(1) + "/_sandbox/mentions", body, {"content-type": "application/json"}), timeout=10)
                run.wait_for("@curl_user tweets:")
                assert "curl_user" in run.wait_for("#C0BILLING (요금/데이터 요금제): the bot posts")
        finally:
            run.ctrl_c()
        out = run.output
        assert "Traceback" not in out and "Error 111" not in out, out[-4000:]
        assert "HTTP/1.1" not in out, "gunicorn's access log reached the demo"
        assert "stopped; Redis last" in out, out[-2000:]
        deadline = time.monotonic() + 10
        while processes_of(clone) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_of(clone) == [], f"run {attempt} left processes behind"
