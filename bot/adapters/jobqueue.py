"""RQ as the flows use it beyond enqueueing (ctx.queue): retry policies, and removing jobs not yet started."""

from __future__ import annotations

from collections.abc import Iterable

from rq import Queue, Retry
from rq.job import Job, JobStatus

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


# -- issue 12, finding 2: who holds a send, and is it alive ----------------------------------------------

def current_worker_name() -> str:
    """The RQ worker running the current job (outside a job: this process), to record who claimed a send.

    A pid is added: a restarted worker may come back under the same name, and must not inherit a dead claim."""
    import os
    import socket

    from rq import get_current_job

    job = get_current_job()
    name = job.worker_name if job is not None and job.worker_name else socket.gethostname()
    return f"{name}:{os.getpid()}"

