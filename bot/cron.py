"""`rq cron` registrations: the mention poll (every account's), the sweeper and the daily report, all on the bulk
queue."""

from __future__ import annotations

from rq import cron

from bot import jobs
from bot.adapters.jobqueue import BULK, FAILURE_TTL, RESULT_TTL
from bot.context import get_context
from bot.errors import SettingsError
from bot.logs import exit_on_config_error
from bot.settings import load_settings

settings = load_settings()
# Every account is polled here: one whose credentials are missing stops cron at start, naming the variable.
for _account in get_context().routing.accounts[1:]:
    if _missing := settings.x_credentials(_account.env_prefix).missing():
        exit_on_config_error(SettingsError(f"account {_account.id}: {_missing[0]} is not set"))
if settings.x_poll_seconds:  # a fixed interval, as set
    cron.register(jobs.poll_mentions, queue_name=BULK, interval=settings.x_poll_seconds,
                  job_timeout=600, name="poll_mentions",
                  result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
else:  # adaptive: a short tick that polls only when the schedule X's rate-limit window sets in Redis says so
    cron.register(jobs.poll_tick, queue_name=BULK, interval=1, job_timeout=600, name="poll_tick",
                  result_ttl=0, failure_ttl=FAILURE_TTL)
cron.register(jobs.sweep, queue_name=BULK, interval=15, job_timeout=600, name="sweep",
              result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
cron.register(jobs.daily_report, queue_name=BULK, interval=60, job_timeout=300, name="daily_report",
              result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
cron.register(jobs.purge_retention, queue_name=BULK, interval=3600, job_timeout=900, name="purge_retention",
              result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
