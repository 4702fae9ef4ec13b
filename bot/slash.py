"""Slash commands: parse, check, ack within Slack's 3 seconds; the work itself is an RQ job."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.context import Context

log = logging.getLogger(__name__)


def register(app: App, ctx: Context) -> None:
    @app.command("/escalate")
    def escalate(ack: Ack, command: dict[str, Any]) -> None:
        from bot.flows import escalate as flow

        ack(**flow.accept(ctx, command))
