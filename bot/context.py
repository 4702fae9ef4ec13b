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
from bot.errors import SettingsError
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
    _accounts: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _x_clients: dict[str, XClient] = field(default_factory=dict, repr=False)

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
        """The first account's X client (reading X's usage, and every single-account set-up)."""
        return self.x_for(None)

    def x_for(self, account_id: str | None) -> XClient:
        """An account's X client (None: the first one), built on first use with its env_prefix's credentials."""
        from bot.adapters.x import XClient  # tweepy: loaded on first use

        acc = self.routing.account(account_id)
        if acc.id not in self._x_clients:
            creds = self.settings.x_credentials(acc.env_prefix)
            if acc is not self.routing.accounts[0] and creds.missing():
                raise SettingsError(f"account {acc.id}: {creds.missing()[0]} is not set")
            self._x_clients[acc.id] = XClient(self.settings, creds)
        return self._x_clients[acc.id]

    @cached_property
    def clock(self) -> Clock:
        return Clock(self.routing.timezone)

    def department_name(self, department_id: str | None) -> str:
        return self.routing.department_name(department_id, t(self.locale, "triage"))

    @property
    def locale(self) -> str:
        return self.routing.locale

    def account(self, account_id: str | None = None) -> tuple[str, str]:
        """(user id, username) of a watched account (None: the first one), resolved once and cached in Redis:
        its routing.yaml user_id (for the first account also X_USER_ID) and GET /2/users/me for the username,
        else its username through GET /2/users/by/username/:username, else GET /2/users/me."""
        acc = self.routing.account(account_id)
        if acc.id in self._accounts:
            return self._accounts[acc.id]
        key = self.routing.account_key(acc.id)
        wanted_id = acc.user_id or (self.settings.x_user_id if not key else None)
        wanted_name = (acc.username or "").lower()
        cached = self.store.account(key)
        if cached.get("id") and (not wanted_id or cached["id"] == wanted_id) and \
                (not wanted_name or cached.get("username", "").lower() == wanted_name):
            self._accounts[acc.id] = (cached["id"], cached.get("username", ""))
            return self._accounts[acc.id]
        client = self.x_for(acc.id)
        found = client.user_by_username(acc.username) if acc.username and not wanted_id else None
        if acc.username and not wanted_id and found is None:
            raise SettingsError(f"account {acc.id}: X has no user @{acc.username}; fix its username in routing.yaml")
        user_id, username = found or client.me()
        if wanted_id and wanted_id != user_id:
            user_id = wanted_id  # the watched account may differ from the posting one
        self.store.set_account(user_id, username, key)
        self._accounts[acc.id] = (user_id, username)
        return self._accounts[acc.id]


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
