"""One worker process runs several jobs at once (WORKER_THREADS), in RQ's queue order, and stops warmly.

The Procfile's worker line, a real Redis; the jobs (tests/e2e/worker_jobs.py) note when they start and end."""

from __future__ import annotations

import signal

import redis
from rq import Queue
from rq.job import Job, JobStatus

from bot.adapters.jobqueue import BULK, PEOPLE
from tests.e2e.conftest import ROUTING
from tests.e2e.worker_jobs import LOG
from tests.harness import wait_for

SLOW = "tests.e2e.worker_jobs.slow"


def _log(conn: redis.Redis) -> list[str]:
    return [x.decode() for x in conn.lrange(LOG, 0, -1)]


def test_two_slow_jobs_overlap_in_one_worker(start_bot, redis_url):
    conn = redis.Redis.from_url(redis_url)
    start_bot(ROUTING, {"WORKER_THREADS": "4"}, "worker")
    people = Queue(PEOPLE, connection=conn)
    a = people.enqueue(SLOW, "a", 1.5)
    b = people.enqueue(SLOW, "b", 1.5)
    wait_for(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in (a, b)), 30, 0.05,
             "both jobs to finish")
    log = _log(conn)
    # Both started before either ended: one worker ran them at once.
    assert log.index("start:b") < log.index("end:a") and log.index("start:a") < log.index("end:b"), log


def test_a_job_is_taken_only_when_a_thread_is_free_and_people_come_before_bulk(start_bot, redis_url):
    conn = redis.Redis.from_url(redis_url)
    bulk, people = Queue(BULK, connection=conn), Queue(PEOPLE, connection=conn)
    for n in range(4):
        bulk.enqueue(SLOW, f"bulk{n}", 1.0)
    start_bot(ROUTING, {"WORKER_THREADS": "2"}, "worker")
    wait_for(lambda: len([x for x in _log(conn) if x.startswith("start:")]) >= 2, 30, 0.02, "two bulk jobs running")
    reply = people.enqueue(SLOW, "reply", 0.1)  # a person waits for this one
    wait_for(lambda: reply.get_status(refresh=True) == JobStatus.FINISHED, 30, 0.05, "the reply's job")
    wait_for(lambda: len(bulk) == 0 and "end:bulk3" in _log(conn), 30, 0.05, "the bulk jobs")
    starts = [x for x in _log(conn) if x.startswith("start:")]
    # Two threads: two bulk jobs ran; the third waited for a free thread, and by then the reply was queued
    # and went first.
    assert starts[:2] == ["start:bulk0", "start:bulk1"], starts
    assert starts[2] == "start:reply", starts
    assert sorted(starts[3:]) == ["start:bulk2", "start:bulk3"], starts


def test_sigterm_lets_running_jobs_finish_and_takes_no_new_one(start_bot, redis_url):
    conn = redis.Redis.from_url(redis_url)
    people = Queue(PEOPLE, connection=conn)
    bot = start_bot(ROUTING, {"WORKER_THREADS": "4"}, "worker")
    running = [people.enqueue(SLOW, f"run{n}", 2.0) for n in range(2)]
    wait_for(lambda: {"start:run0", "start:run1"} <= set(_log(conn)), 30, 0.02, "both jobs started")
    bot.kill("worker", signal.SIGTERM)  # returns once the worker's process group is gone
    later = people.enqueue(SLOW, "later", 0.1)
    assert {"end:run0", "end:run1"} <= set(_log(conn)), _log(conn)
    assert all(j.get_status(refresh=True) == JobStatus.FINISHED for j in running)
    assert "start:later" not in _log(conn) and Job.fetch(later.id, connection=conn).get_status() == JobStatus.QUEUED


def test_a_job_past_its_timeout_is_stopped_in_its_thread_and_the_worker_goes_on(start_bot, redis_url):
    conn = redis.Redis.from_url(redis_url)
    people = Queue(PEOPLE, connection=conn)
    start_bot(ROUTING, {"WORKER_THREADS": "2"}, "worker")
    hung = people.enqueue("tests.e2e.worker_jobs.hang", "hung", job_timeout=1)
    wait_for(lambda: hung.get_status(refresh=True) == JobStatus.FAILED, 30, 0.05, "the hung job's timeout")
    assert "JobTimeoutException" in (Job.fetch(hung.id, connection=conn).latest_result().exc_string or "")
    after = people.enqueue(SLOW, "after", 0.1)
    wait_for(lambda: after.get_status(refresh=True) == JobStatus.FINISHED, 30, 0.05, "a job after it")
