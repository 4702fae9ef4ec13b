"""Settings module for `rq worker -c bot.rq_settings`: the worker's parent process imports it before forking.

Importing the bot here means each forked job starts with slack_sdk, tweepy and the flows already loaded
(a bare forking worker re-imports them per job: about one job a second).
"""

from __future__ import annotations

from bot.logs import configure_logging
from bot.settings import load_settings

_settings = load_settings()
REDIS_URL = _settings.redis_url
QUEUES = ["escalator"]

configure_logging(_settings)

from bot import jobs  # noqa: E402,F401  - preload
from bot.context import get_context  # noqa: E402

get_context()  # parse routing.yaml once, in the parent; a broken file stops the worker at start
