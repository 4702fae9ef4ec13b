"""Logging, configured once per process. A filter masks every secret value from the environment."""

from __future__ import annotations

import logging
import os
import re
import sys

from bot.settings import Settings

_configured = False


# Credentials that are not in the environment: Slack tokens of any kind, and response_urls (whoever holds one
# can post as the bot in its channel for 30 minutes).
TOKEN_LIKE = re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{6,}|https://hooks\.slack\.com/[^\s'\"<>)]+")


class MaskSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = TOKEN_LIKE.sub("***", message)
        for secret in self.secrets:
            masked = masked.replace(secret, "***")
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(settings: Settings, level: str | None = None) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskSecrets(settings.secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    # These log request headers (tokens) at DEBUG; keep them above it whatever LOG_LEVEL says.
    for name in ("tweepy", "oauthlib", "requests_oauthlib", "urllib3", "slack_sdk", "slack_bolt"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))


def say(text: str) -> None:
    """One line of `make run`'s own narration on stdout, set apart from the processes' log lines."""
    print(f"\033[1;36m▶ escalator\033[0m | {text}", flush=True)


def exit_on_config_error(exc: BaseException) -> None:
    """A process that cannot start says why in one line and stops (no traceback for a config mistake)."""
    print(f"escalator: {exc}", file=sys.stderr, flush=True)
    sys.exit(2)
