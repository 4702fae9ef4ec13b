"""The worker class the Procfile runs (`rq worker -w bot.worker.Worker --with-scheduler`), and its scheduler.

RQ's own scheduler could be orphaned: a SIGKILL (an OOM kill, a lost host) took the worker and its scheduler
process down and left the scheduler's lock in Redis for 61 s, and a restarted worker only tried to take the
lock again in its maintenance pass, every 10 minutes. No reminder, breach, escalation step, held reply or retry
fired meanwhile. Here:

- every worker runs a scheduler process, whether or not it got the lock at start; a scheduler without the lock
  tries again every LOCK_RETRY_S, and the lock lives LOCK_TTL_S, renewed every tick by its holder. A killed
  holder's lock is taken over within LOCK_TTL_S + LOCK_RETRY_S, on this host or another one;
- a due job is moved to its queue under a per-job claim (SET NX), so two schedulers that both believe they
  hold the lock (a paused holder whose lock expired) never enqueue the same job twice. RQ's own
  enqueue_scheduled_jobs reads and then removes, which two callers can both do;
- due times are read to the millisecond and the scheduler wakes when the next job is due (at most TICK_S
  apart), so a ticket lane rescheduled for its channel's next slot runs on time, not up to two seconds late.

A worker runs up to WORKER_THREADS jobs at once (default 16), each in a thread of its own through RQ's own
job-running code (perform_job: bookkeeping, result, retries, failure registry), because the bot's jobs spend
their time waiting on Slack and X: at a 150 ms round trip a worker that ran one job at a time posted at most
~5 tickets a second and held a relay behind every slow call of the job before it. It takes a job from its
queues only when a thread is free, so RQ's queue order (people's work before bulk work) still decides what
runs next. A job's timeout is a timer that raises in its thread (SIGALRM reaches only the main thread). A
SIGTERM (warm stop) takes no new job and lets the running ones finish; a second one stops at once.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis
from rq import Queue
from rq.exceptions import StopRequested
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker, WorkerStatus

from bot.adapters.jobqueue import QUEUES
from bot.adapters.redis_url import connect
from bot.settings import load_settings

LOCK_TTL_S = 10
LOCK_RETRY_S = 2.0
TICK_S = 0.2  # longest sleep between two looks at the scheduled jobs
HEARTBEAT_S = 1.0
CLAIM_TTL_S = 30  # a scheduler that claimed a job and died before moving it frees it after this
DEFAULT_THREADS = 16  # jobs one worker process runs at once (WORKER_THREADS)
SLOT_WAIT_S = 1.0  # while every thread is busy, the worker looks at its stop flag and heartbeat this often
# Jobs that touch process-wide state that is not thread-safe: one at a time per process. The daily summary
# draws its charts with matplotlib's pyplot (a global figure manager and rc parameters).
SERIAL_JOBS = frozenset({"bot.jobs.daily_report"})


class Scheduler(RQScheduler):
    """RQ's scheduler with a short, heartbeat-kept lock that a live worker takes over within seconds."""

    _last_try = 0.0
    _last_beat = 0.0

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._given = kwargs.get("connection") if "connection" in kwargs else args[1]
        self._pid = os.getpid()

    @property
    def connection(self) -> redis.Redis:
        """The worker's client in the worker's process; in the scheduler's own process a client of its own from
        REDIS_URL like every other (RQ's rebuilds one from the worker's pool arguments, which a Sentinel-managed
        pool cannot be rebuilt from)."""
        if self._connection is None:
            same = os.getpid() == self._pid
            self._connection = self._given if same else connect(load_settings().redis_url)  # type: ignore[assignment]
        return self._connection  # type: ignore[return-value]

    @property
    def should_reacquire_locks(self) -> bool:
        return self._queue_names != self.acquired_locks and time.monotonic() - self._last_try >= LOCK_RETRY_S

    def acquire_locks(self, auto_start: bool = False) -> set[str]:
        self._last_try = time.monotonic()
        held = set()
        for name in self._queue_names:
            outcome = acquire_or_refresh_lock(self.connection, self.get_locking_key(name), self.name, LOCK_TTL_S)
            if outcome in ("acquired", "refreshed"):
                if outcome == "acquired":
                    self.log.info("Scheduler %s: took the scheduler lock for %s", self.name, name)
                held.add(name)
        self._scheduled_job_registries = []
        self._acquired_locks = held
        self.lock_acquisition_time = None
        if auto_start and (not self._process or not self._process.is_alive()):
            self.start()
        return held

    def heartbeat(self) -> None:
        """Renew the locks held (a lock taken over meanwhile is given up), at most once a HEARTBEAT_S."""
        if time.monotonic() - self._last_beat < HEARTBEAT_S:
            return
        self._last_beat = time.monotonic()
        kept = set()
        for name in sorted(self._acquired_locks):
            if acquire_or_refresh_lock(self.connection, self.get_locking_key(name), self.name, LOCK_TTL_S) != "taken":
                kept.add(name)
            else:
                self.log.warning("Scheduler %s: the lock for %s was taken over", self.name, name)
        if kept != self._acquired_locks:
            self._acquired_locks = kept
            self._scheduled_job_registries = []
        self.connection.expire(self.key, LOCK_TTL_S + 60)

    def enqueue_scheduled_jobs(self) -> None:
        """Move every due job to its queue, each under its own claim: once, whoever else is trying."""
        self._status = self.Status.WORKING
        for name in sorted(self._acquired_locks):
            registry = ScheduledJobRegistry(name, connection=self.connection, serializer=self.serializer)
            queue = self._queue(name)
            due = self.connection.zrangebyscore(registry.key, 0, time.time(), start=0, num=1000, withscores=True)
            for raw_id, score in due:
                job_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                claim = f"rq:escalator-claim:{job_id}:{score!r}"
                if not self.connection.set(claim, self.name, nx=True, ex=CLAIM_TTL_S):
                    continue  # another scheduler is moving it
                job = queue.fetch_job(job_id)
                with self.connection.pipeline() as pipe:
                    if job is not None:
                        queue._enqueue_job(job, pipeline=pipe, at_front=job.should_enqueue_at_front())
                    registry.remove(job_id, pipeline=pipe)
                    pipe.execute()
        self._status = self.Status.STARTED

    def _queue(self, name: str):  # type: ignore[no-untyped-def]
        return Queue(name, connection=self.connection, serializer=self.serializer)

    def _next_due_in(self) -> float:
        soonest = None
        for name in self._acquired_locks:
            first = self.connection.zrange(ScheduledJobRegistry(name, connection=self.connection).key, 0, 0,
                                           withscores=True)
            if first and (soonest is None or first[0][1] < soonest):
                soonest = first[0][1]
        return TICK_S if soonest is None else min(TICK_S, max(0.0, soonest - time.time()))

    def work(self) -> None:
        self._install_signal_handlers()
        self.register_birth()
        while True:
            if self._stop_requested:
                self.stop()
                break
            if self.should_reacquire_locks:
                self.acquire_locks()
            self.heartbeat()
            if self._acquired_locks:
                self.enqueue_scheduled_jobs()
                time.sleep(max(0.005, self._next_due_in()))
            else:
                time.sleep(TICK_S)


def worker_threads() -> int:
    """WORKER_THREADS from the environment (at least 1), else DEFAULT_THREADS."""
    raw = os.environ.get("WORKER_THREADS", "").strip()
    try:
        return max(1, int(raw)) if raw else DEFAULT_THREADS
    except ValueError:
        return DEFAULT_THREADS


class Worker(SimpleWorker):
    """RQ's SimpleWorker (no fork per job) running up to WORKER_THREADS jobs at once, in threads, with a
    scheduler process that runs whether or not it holds the lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.death_penalty_class = TimerDeathPenalty  # the job runs in a thread: no SIGALRM there
        self.threads = worker_threads()
        self._free = threading.BoundedSemaphore(self.threads)
        self._running: set[threading.Thread] = set()
        self._running_lock = threading.Lock()
        self._serial = threading.Lock()
        self._waiting_for_job = False

    # -- one job per free thread -------------------------------------------------------------------------
    def dequeue_job_and_maintain_ttl(self, timeout: int | None,
                                     max_idle_time: int | None = None) -> tuple[Job, Queue] | None:
        """Wait for a free thread, then for a job (RQ's own dequeue, in queue order)."""
        while not self._free.acquire(timeout=SLOT_WAIT_S):
            if self._stop_requested:
                return None
            self.heartbeat()
        if self._stop_requested:
            self._free.release()
            return None
        self._waiting_for_job = True
        try:
            while True:
                try:
                    result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
                    break
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    # Outside RQ's own retry loop (its bookkeeping before the wait for a job): a failover
                    # longer than the client's retries must not stop the worker and its running jobs.
                    self.log.warning("Worker %s: Redis did not answer (%s); trying again", self.name, exc)
                    time.sleep(SLOT_WAIT_S)
                    if self._stop_requested:
                        result = None
                        break
        except BaseException:
            self._free.release()
            raise
        finally:
            self._waiting_for_job = False
        if result is None:
            self._free.release()
        elif self.busy:
            self.set_state(WorkerStatus.BUSY)  # RQ's dequeue marked the worker idle while jobs run
        return result

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Start the job in a thread (its slot was taken by dequeue_job_and_maintain_ttl) and return at once.

        RQ's bookkeeping before the job starts runs outside its retry loop: a failover longer than the client's
        retries (Sentinel electing a leader twice takes longer) made it raise, and the worker quit with the job
        it had just taken. It is tried again until Redis answers (a warm stop gives up: the job is left for
        RQ's cleanup of abandoned jobs and the bot's sweeps)."""
        while True:
            try:
                execution = self.prepare_execution(job)
                break
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self.log.warning("Worker %s: Redis did not answer before job %s started (%s); trying again",
                                 self.name, job.id, exc)
                if self._stop_requested:
                    self._free.release()
                    return
                time.sleep(SLOT_WAIT_S)
        thread = threading.Thread(target=self._run, args=(job, queue, execution), name=f"job {job.id}",
                                  daemon=True)
        with self._running_lock:
            self._running.add(thread)
        thread.start()

    def _run(self, job: Job, queue: Queue, execution: Any) -> None:
        try:
            if job.func_name in SERIAL_JOBS:
                with self._serial:
                    self.perform_job(job, queue, execution)
            else:
                self.perform_job(job, queue, execution)
        except Exception:  # noqa: BLE001 - perform_job records a job's failure; this is RQ's own bookkeeping
            self.log.exception("Worker %s: running job %s failed outside the job", self.name, job.id)
        finally:
            with self._running_lock:
                self._running.discard(threading.current_thread())
                idle = not self._running
            if idle and not self._stop_requested:
                try:
                    self.set_state(WorkerStatus.IDLE)
                except redis.RedisError:
                    pass  # the next dequeue sets it again
            self._free.release()

    def set_state(self, state: str, pipeline: Any = None) -> None:
        """RQ's set_state; Redis not answering is logged, as for the heartbeat below (the state is shown by
        `rq info`, nothing depends on it)."""
        if pipeline is not None:
            return super().set_state(state, pipeline)
        try:
            super().set_state(state)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._state = state
            self.log.warning("Worker %s: state %s not recorded, Redis did not answer (%s)", self.name, state, exc)
        return None

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ's heartbeat, except that Redis not answering (a failover longer than the client's retries) is
        logged rather than raised: RQ sends one right after taking a job, outside its own retry loop, and an
        error there stopped the whole worker, its running jobs and the job just taken with it."""
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        try:
            super().heartbeat(timeout, pipeline)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.log.warning("Worker %s: heartbeat not recorded, Redis did not answer (%s)", self.name, exc)
        return None

    @property
    def busy(self) -> bool:
        with self._running_lock:
            return bool(self._running)

    def running_jobs(self) -> int:
        with self._running_lock:
            return len(self._running)

    # -- stopping: a warm stop lets the running jobs finish ----------------------------------------------
    def _shutdown(self) -> None:
        """SIGTERM: take no new job; running jobs finish (teardown waits for them)."""
        self._stop_requested = True
        self.set_shutdown_requested_date()
        if self.scheduler:
            self.stop_scheduler()
        if self.busy:
            self.log.info("Worker %s: stopping after the %d running job(s) finish", self.name, self.running_jobs())
        if self._waiting_for_job:
            raise StopRequested()  # out of the blocking dequeue; nothing was taken

    def teardown(self) -> None:
        self._wait_for_running()
        super().teardown()

    def _wait_for_running(self) -> None:
        while True:
            with self._running_lock:
                running = list(self._running)
            if not running:
                return
            for thread in running:
                thread.join(SLOT_WAIT_S)
            try:
                self.heartbeat()
            except redis.RedisError:
                pass

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                         date_format: str = "%H:%M:%S", log_format: str = "%(asctime)s %(message)s") -> None:
        self.scheduler = Scheduler(self.queues, connection=self.connection,
                                   logging_level=logging_level if logging_level is not None else self.log.level,
                                   date_format=date_format, log_format=log_format, serializer=self.serializer)
        self.scheduler.acquire_locks()
        if burst:
            if self.scheduler.acquired_locks:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            return
        self.scheduler.start()

    def run_maintenance_tasks(self) -> None:
        if self.last_cleaned_at and self.scheduler and (not self.scheduler._process
                                                        or not self.scheduler._process.is_alive()):
            self.scheduler.start()  # it died on its own: a new one contends for the lock again
        self.clean_registries()
        self.clean_group_registries()


__all__ = ["QUEUES", "Scheduler", "Worker", "worker_threads"]
