"""What `python -m bot report` reads from, started light: the routing from its cache, Redis through the small
RESP client (bot/adapters/resp.py) when REDIS_URL is a plain redis:// or unix:// URL.

The whole command is a cold start, and most of it was imports: redis-py (~150 ms), PyYAML and validating
routing.yaml. Here neither redis-py nor rq, slack_sdk or tweepy is imported; a TLS or Sentinel URL uses the
process context (bot/context.py) and its redis-py client as every other process does. `report --post` also
takes the process context, for Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from bot.adapters.resp import connect_plain
from bot.adapters.store import Store
from bot.routing import Routing
from bot.routing_cache import cached_routing
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.context import Context


@dataclass
class ReportContext:
    """The part of a Context that flows/report.load reads: settings, routing and the store."""

    settings: Settings
    routing: Routing
    store: Store


_context: Any = None


def report_context() -> Context:
    """Built once per process, like bot.context.get_context."""
    global _context
    if _context is None:
        settings = load_settings()
        routing = cached_routing(settings.routing_file)
        client = connect_plain(settings.redis_url)
        if client is None:
            from bot.context import get_context  # TLS or Sentinel: redis-py's client, like every process

            _context = get_context()
        else:
            _context = ReportContext(settings, routing, Store(cast(Any, client), routing.retention))
    return cast("Context", _context)


def reset_report_context() -> None:
    global _context
    _context = None
