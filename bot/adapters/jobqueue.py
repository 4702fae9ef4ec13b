"""RQ as the bot uses it: the only place that knows RQ.

Every enqueue goes through `JobQueue` (ctx.queue), which decides in one place:
- the queue: work a person is waiting for (relays, clicks, slash commands, approvals, undo-window sends) and
  the SLA timers go to PEOPLE; ticket posting, polling, the sweeper and reports go to BULK. The worker lists
  PEOPLE first (the Procfile), and RQ takes the first queue that has a job, so a reply never waits behind a
  burst of ticket posts;
- the lifetimes: a result is kept RESULT_TTL, a failed job FAILURE_TTL (long enough to look into after a
  weekend and a holiday, short enough that failures do not pile up in Redis);
- the description RQ logs for each job: the function's name only, never its arguments (a response_url is a
  credential: whoever holds it can post as the bot in that channel for 30 minutes). A response_url travels
  sealed: the job gets a reference, the URL waits in Redis for as long as Slack honours it.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Queue, Retry, get_current_job
from rq.job import Job, JobStatus

PEOPLE = "escalator"  # the name the single queue had: jobs and timers already scheduled there keep running
BULK = "escalator-bulk"
QUEUES = (PEOPLE, BULK)  # the worker's order: the first queue that has a job is served first
RESULT_TTL = 86400  # a day
FAILURE_TTL = 14 * 86400  # two weeks
SEALED_TTL = 1800  # Slack honours a response_url for 30 minutes
_SEALED = "sealed:"

# Jobs that no person waits for; every other job is served first.
BULK_JOBS = frozenset({
    "bot.jobs.poll_mentions", "bot.jobs.poll_tick", "bot.jobs.post_lane", "bot.jobs.sweep",
    "bot.jobs.daily_report", "bot.jobs.storm_broadcast", "bot.jobs.purge_retention",
})

WAITING = (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.DEFERRED)


def retry(*intervals: int) -> Retry:
    """Retry a failed job once per interval (seconds), each gap the next in the list."""
    return Retry(max=len(intervals), interval=list(intervals))


def cancel_waiting(queue: Queue, job_ids: Iterable[str]) -> int:
    """Delete those of these jobs that exist and have not started; returns how many. A running job finishes."""
    removed = 0
    for job in Job.fetch_many(list(job_ids), connection=queue.connection):
        if job is not None and job.get_status() in WAITING:
            job.delete()
            removed += 1
    return removed


# A transaction on the queue's Redis: jobs it schedules and store writes given it land in one MULTI/EXEC.
Transaction = Pipeline

# Jobs by dotted path: flows enqueue them without importing bot.jobs (which imports the flows).
SEND_REPLY = "bot.jobs.send_reply"
STORM_BROADCAST = "bot.jobs.storm_broadcast"
POST_LANE = "bot.jobs.post_lane"
ESCALATE_TWEET = "bot.jobs.escalate_tweet"
DECLARE_STORM = "bot.jobs.declare_storm"
SLA_SUMMARY = "bot.jobs.sla_summary"
TIMER_JOBS = "bot.jobs_timers"  # + ".remind", ".breach", ".escalate"
BROADCAST_TIMEOUT_S = 600  # a broadcast works in slices of seconds; this only catches a hung request


def job_id(*parts: str) -> str:
    """A deterministic job id from its parts (RQ allows letters, digits, "_" and "-")."""
    return "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts)


def job_name(func: Callable[..., Any] | str) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"


class ExactQueue(Queue):
    """A queue whose scheduled jobs keep their instant to the millisecond.

    RQ scores a scheduled job in whole seconds, truncated: a job meant for 12:00:00.7 became due at 12:00:00,
    which is early for an undo window and a second late-or-early for Slack's per-channel pace."""

    def schedule_job(self, job: Job, datetime: datetime, pipeline: Pipeline | None = None,
                     unique: bool = False) -> Job:
        if unique:
            return super().schedule_job(job, datetime, pipeline, unique)
        pipe = pipeline if pipeline is not None else self.connection.pipeline()
        super().schedule_job(job, datetime, pipeline=pipe)
        pipe.zadd(self.scheduled_job_registry.key, {job.id: datetime.timestamp()})
        if pipeline is None:
            pipe.execute()
        return job


class JobQueue(ExactQueue):
    """ctx.queue: RQ's enqueue, enqueue_at and enqueue_in, each job sent to its queue with its lifetimes."""

    def __init__(self, connection: Redis) -> None:
        super().__init__(PEOPLE, connection=connection)
        self.bulk = ExactQueue(BULK, connection=connection)

    def _route(self, func: Callable[..., Any] | str, kwargs: dict[str, Any]) -> Queue:
        name = job_name(func)
        kwargs.setdefault("result_ttl", RESULT_TTL)
        kwargs.setdefault("failure_ttl", FAILURE_TTL)
        kwargs.setdefault("description", name)
        return self.bulk if name in BULK_JOBS else self

    def enqueue(self, f: Any, *args: Any, **kwargs: Any) -> Job:
        queue = self._route(f, kwargs)
        return Queue.enqueue(queue, f, *args, **kwargs)

    def enqueue_at(self, datetime: datetime, f: Any, *args: Any, **kwargs: Any) -> Job:
        queue = self._route(f, kwargs)
        return Queue.enqueue_at(queue, datetime, f, *args, **kwargs)

    def enqueue_in(self, time_delta: timedelta, func: Any, *args: Any, **kwargs: Any) -> Job:
        queue = self._route(func, kwargs)
        return Queue.enqueue_in(queue, time_delta, func, *args, **kwargs)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One MULTI/EXEC for the jobs scheduled and the store writes made with it; nothing is sent on error."""
        pipe = self.connection.pipeline(transaction=True)
        yield pipe
        pipe.execute()

    def schedule_send(self, channel: str, ts: str, delay_s: float, tag: str = "0") -> None:
        """A timer for a relay; each retry gets its own job id (a job must not re-schedule itself)."""
        self.enqueue_in(timedelta(seconds=delay_s), SEND_REPLY, channel, ts, job_id=job_id("send", channel, ts, tag))

    def schedule_broadcast(self, key: str, delay_s: float) -> None:
        """The next slice of a broadcast (or its retry after a rate limit); its own job id each time."""
        jid = job_id("bc", key, f"{time.time() + delay_s:.3f}")
        if delay_s <= 0:
            self.enqueue(STORM_BROADCAST, key, job_timeout=BROADCAST_TIMEOUT_S, job_id=jid)
        else:
            self.enqueue_in(timedelta(seconds=delay_s), STORM_BROADCAST, key, job_timeout=BROADCAST_TIMEOUT_S,
                            job_id=jid)

    def waiting(self) -> dict[str, int]:
        """Jobs ready to run, by queue."""
        return {PEOPLE: len(self), BULK: len(self.bulk)}

    # -- credentials kept out of job arguments ---------------------------------------------------------
    def seal(self, value: str) -> str:
        """A reference to pass in a job's arguments instead of `value` (a response_url)."""
        if not value:
            return ""
        ref = secrets.token_urlsafe(12)
        self.connection.set(f"esc:sealed:{ref}", value, ex=SEALED_TTL)
        return _SEALED + ref

    def unseal(self, ref: str) -> str:
        """The value behind a reference ("" once it expired); a value that was never sealed comes back as is."""
        if not ref.startswith(_SEALED):
            return ref
        value = self.connection.get(f"esc:sealed:{ref.removeprefix(_SEALED)}")
        return value.decode() if isinstance(value, bytes) else str(value or "")


# -- issue 12, finding 2: who holds a send, and is it alive ----------------------------------------------

def current_worker_name() -> str:
    """The RQ worker running the current job (outside a job: this process), to record who claimed a send.

    A pid is added: a restarted worker may come back under the same name, and must not inherit a dead claim."""
    job = get_current_job()
    name = job.worker_name if job is not None and job.worker_name else socket.gethostname()
    return f"{name}:{os.getpid()}"

