"""The worker's scheduler and the enqueue wrapper, on the session's real Redis."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from rq.job import Job

from bot.adapters.jobqueue import BULK, FAILURE_TTL, PEOPLE, RESULT_TTL, JobQueue
from bot.worker import Scheduler


def test_two_schedulers_that_both_think_they_hold_the_lock_enqueue_each_due_job_once(redis_url):
    import redis

    conn = redis.Redis.from_url(redis_url)
    queue = JobQueue(conn)
    for n in range(200):
        queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), "bot.jobs_timers.breach", str(n), "due", 0,
                         job_id=f"t{n}")
    schedulers = []
    for _ in range(2):
        s = Scheduler([PEOPLE], connection=conn)
        s._acquired_locks = {PEOPLE}  # a paused holder whose lock expired, and the one that took it over
        schedulers.append(s)
    start = threading.Barrier(2)

    def move(s: Scheduler) -> None:
        start.wait()
        s.enqueue_scheduled_jobs()

    threads = [threading.Thread(target=move, args=(s,)) for s in schedulers]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    queued = [j.decode() for j in conn.lrange(f"rq:queue:{PEOPLE}", 0, -1)]
    assert len(queued) == 200 and len(set(queued)) == 200, f"{len(queued)} enqueued for 200 timers"
    assert queue.scheduled_job_registry.count == 0


def test_every_job_gets_its_queue_lifetimes_and_a_description_without_its_arguments(redis_url):
    import redis

    queue = JobQueue(redis.Redis.from_url(redis_url))
    url = queue.seal("https://hooks.slack.com/actions/T0/1/secret")
    click = queue.enqueue("bot.jobs.ticket_action", "ticket_claim", "C0", "1.0", "U0", "1", url)
    poll = queue.enqueue("bot.jobs.poll_mentions")
    later = queue.enqueue_in(timedelta(seconds=1.5), "bot.jobs.post_lane", "C0", "token")
    assert (click.origin, poll.origin, later.origin) == (PEOPLE, BULK, BULK)
    for job in (click, poll, later):
        fetched = Job.fetch(job.id, connection=queue.connection)
        assert (fetched.result_ttl, fetched.failure_ttl) == (RESULT_TTL, FAILURE_TTL)
        assert fetched.description == fetched.func_name
    assert "hooks.slack.com" not in repr(Job.fetch(click.id, connection=queue.connection).args)
    assert queue.unseal(url) == "https://hooks.slack.com/actions/T0/1/secret"
    # RQ keeps whole seconds (truncated); the lane's slot keeps its milliseconds.
    score = queue.connection.zscore(queue.bulk.scheduled_job_registry.key, later.id)
    assert score is not None and score % 1 != 0 and abs(score - (time.time() + 1.5)) < 1
