"""Jobs for tests/e2e/test_worker_threads.py: each notes in Redis when it started and when it ended."""

from __future__ import annotations

import time

from rq import get_current_job

LOG = "test:worker-threads"


def _note(what: str, name: str) -> None:
    job = get_current_job()
    assert job is not None
    job.connection.rpush(LOG, f"{what}:{name}")


def slow(name: str, seconds: float) -> str:
    """Start, wait `seconds` (as a Slack or X round trip does), end."""
    _note("start", name)
    time.sleep(seconds)
    _note("end", name)
    return name


def hang(name: str) -> str:
    """Start and never end on its own: the job's timeout has to stop it."""
    _note("start", name)
    while True:
        time.sleep(0.05)
