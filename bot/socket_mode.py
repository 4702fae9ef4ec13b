"""`python -m bot socket`: Slack traffic over Socket Mode instead of the `web` process.

For a workspace that cannot reach the bot over HTTPS (no public URL). It runs the same listeners as `web`
(bot.web.build_bolt), so everything slow still goes to the RQ worker; run it in place of `web`, next to
`worker` and `cron`. Needs SLACK_APP_TOKEN (xapp-…, scope connections:write) and SLACK_BOT_TOKEN.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.context import get_context
from bot.errors import ConfigError
from bot.logs import configure_logging, exit_on_config_error

log = logging.getLogger(__name__)


def main() -> int:
    from bot.web import build_bolt

    try:
        ctx = get_context()
        configure_logging(ctx.settings)
        app = build_bolt(ctx, socket_mode=True)
    except ConfigError as exc:
        exit_on_config_error(exc)
        return 2
    log.info("connecting to Slack over Socket Mode")
    SocketModeHandler(app, ctx.settings.slack_app_token).start()  # blocks until the process is stopped
    return 0
