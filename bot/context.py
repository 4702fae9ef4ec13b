"""Everything a job or request needs, built once per process from the environment."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import redis

from bot.adapters.redis_url import SENTINEL_SCHEMES, connect
from bot.adapters.store import Store
from bot.domain.sla import Clock
from bot.messages import t
from bot.routing import Routing, load_routing
from bot.settings import Settings, load_settings

if TYPE_CHECKING:  # imported when first used: `python -m bot report` needs neither Slack, X nor RQ
    from bot.adapters.jobqueue import JobQueue
    from bot.adapters.slack import SlackClient
    from bot.adapters.store.lanes import Lanes
    from bot.adapters.x import XClient

log = logging.getLogger(__name__)

QUEUE = "escalator"  # = bot.adapters.jobqueue.PEOPLE; the queues and their order live there


@dataclass
class Context:
    settings: Settings
    routing: Routing
    redis: redis.Redis
    _account: tuple[str, str] | None = field(default=None, repr=False)

    @cached_property
    def store(self) -> Store:
        # Behind Sentinel a replica may be promoted: writes that record a post or a tweet wait for it.
        replicas = 1 if self.settings.redis_url.startswith(SENTINEL_SCHEMES) else 0
        return Store(self.redis, self.routing.retention, replicas=replicas)

    @cached_property
    def queue(self) -> JobQueue:
        """Every enqueue goes through here: it picks the queue, the lifetimes and the job's description."""
        from bot.adapters.jobqueue import JobQueue  # RQ: loaded on first use (see TYPE_CHECKING above)

        # RQ stores pickled job data, so it needs a connection without decode_responses.
        return JobQueue(connect(self.settings.redis_url))

    @cached_property
    def lanes(self) -> Lanes:
        """Slack's per-channel pace and the ticket lanes, shared by every process."""
        from bot.adapters.store.lanes import Lanes  # loaded on first use, like the clients

        return Lanes(self.redis, self.settings.slack_post_interval)

    @cached_property
    def slack(self) -> SlackClient:
        from bot.adapters.slack import SlackClient  # slack_sdk: loaded on first use

        self.settings.require("SLACK_BOT_TOKEN")
        return SlackClient(self.settings.slack_bot_token or "", self.settings.slack_api_url, pace=self.lanes)

    @cached_property
    def x(self) -> XClient:
        from bot.adapters.x import XClient  # tweepy: loaded on first use

        return XClient(self.settings)

    @cached_property
    def clock(self) -> Clock:
        return Clock(self.routing.timezone)

    def department_name(self, department_id: str | None) -> str:
        return self.routing.department_name(department_id, t(self.locale, "triage"))

    @property
    def locale(self) -> str:
        return self.routing.locale

    def account(self) -> tuple[str, str]:
        """(user id, username) of the watched account: X_USER_ID, else cached in Redis, else GET /2/users/me."""
        if self._account:
            return self._account
        cached = self.store.account()
        if cached.get("id") and (not self.settings.x_user_id or cached["id"] == self.settings.x_user_id):
            self._account = (cached["id"], cached.get("username", ""))
            return self._account
        user_id, username = self.x.me()
        if self.settings.x_user_id and self.settings.x_user_id != user_id:
            user_id = self.settings.x_user_id  # the watched account may differ from the posting one
        self.store.set_account(user_id, username)
        self._account = (user_id, username)
        return self._account


_context: Context | None = None


def get_context() -> Context:
    global _context
    if _context is None:
        settings = load_settings()
        _context = Context(settings=settings, routing=load_routing(settings.routing_file),
                           redis=connect(settings.redis_url, decode_responses=True))
    return _context


def reset_context() -> None:
    global _context
    _context = None
