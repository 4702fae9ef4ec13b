"""Settings module for `rq worker -c bot.rq_settings` and `rq cron -c bot.rq_settings`.

The worker (bot.worker.Worker: rq's SimpleWorker, no fork per job, with a scheduler that cannot be orphaned)
imports the bot once, here, so every job runs in this one process with slack_sdk, tweepy, the flows and a parsed
routing.yaml already loaded (a forking worker paid ~25 ms a job). Jobs are idempotent and their work is kept in
Redis outboxes, so a crash of the one process loses nothing; the process manager restarts it.
"""

from __future__ import annotations

from bot.adapters.jobqueue import QUEUES as _QUEUES
from bot.errors import ConfigError
from bot.logs import configure_logging, exit_on_config_error
from bot.settings import X_WRITE_VARS, load_settings

try:
    _settings = load_settings()
    _settings.require("SLACK_BOT_TOKEN", *X_WRITE_VARS)
    configure_logging(_settings)
    from bot import jobs  # noqa: F401  - preload in the parent
    from bot.context import get_context

    _ctx = get_context()  # parse routing.yaml once, here; a broken file stops the process at start
    _ctx.slack, _ctx.x  # noqa: B018 - build the clients once; every job of this process uses them
except ConfigError as exc:
    exit_on_config_error(exc)

REDIS_URL = _settings.redis_url
# People's work and the SLA timers first, then ticket posting and other bulk work (bot/adapters/jobqueue.py).
QUEUES = list(_QUEUES)
