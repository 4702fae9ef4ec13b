"""`python -m bot socket`: Slack traffic over Socket Mode instead of the `web` process.

For a workspace that cannot reach the bot over HTTPS (no public URL). It runs the same listeners as `web`
(bot.web.build_bolt), so everything slow still goes to the RQ worker; run it in place of `web`, next to
`worker` and `cron`. Needs SLACK_APP_TOKEN (xapp-…, scope connections:write) and SLACK_BOT_TOKEN.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.context import get_context
from bot.errors import ConfigError
from bot.logs import configure_logging, exit_on_config_error
from bot.web import build_bolt

log = logging.getLogger(__name__)

_NEW_TOKEN = "create one under Basic Information > App-Level Tokens with the connections:write scope"


def refused(error: str) -> str:
    """The one line for Slack refusing to open a Socket Mode connection, with what to do about it."""
    if error == "not_allowed_token_type":
        return f"SLACK_APP_TOKEN is not an app-level token (xapp-…): {_NEW_TOKEN}"
    if error in ("invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"):
        return f"Slack refused SLACK_APP_TOKEN ({error}): copy the app-level token (xapp-…) again or {_NEW_TOKEN}"
    return f"Slack refused to open a Socket Mode connection ({error})"


def main() -> int:
    try:
        ctx = get_context()
        configure_logging(ctx.settings)
        app = build_bolt(ctx, socket_mode=True)
    except ConfigError as exc:
        exit_on_config_error(exc)
        return 2
    log.info("connecting to Slack over Socket Mode")
    try:
        SocketModeHandler(app, ctx.settings.slack_app_token).start()  # blocks until the process is stopped
    except SlackApiError as exc:  # apps.connections.open said no: retrying would not change its mind
        exit_on_config_error(ConfigError(refused(str(exc.response.get("error", "")))))
        return 2
    return 0
