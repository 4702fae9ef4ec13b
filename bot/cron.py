"""`rq cron` registrations: the mention poll and the sweeper. Loaded by `rq cron bot/cron.py`."""

from __future__ import annotations

from rq import cron

from bot import jobs
from bot.context import QUEUE
from bot.settings import load_settings

settings = load_settings()

cron.register(jobs.poll_mentions, queue_name=QUEUE, interval=settings.x_poll_seconds,
              job_timeout=600, name="poll_mentions")
cron.register(jobs.sweep, queue_name=QUEUE, interval=15, job_timeout=600, name="sweep")
cron.register(jobs.daily_report, queue_name=QUEUE, interval=60, job_timeout=300, name="daily_report")
cron.register(jobs.purge_retention, queue_name=QUEUE, interval=3600, job_timeout=900, name="purge_retention")
