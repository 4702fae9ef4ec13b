"""The web process: Bolt's single Slack endpoint, the health check and metrics. It only enqueues work."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bot import jobs
from bot.context import Context, get_context
from bot.errors import ConfigError
from bot.logs import configure_logging, exit_on_config_error

log = logging.getLogger(__name__)


def build_bolt(ctx: Context) -> App:
    s = ctx.settings
    s.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    app = App(
        signing_secret=s.slack_signing_secret,
        client=WebClient(token=s.slack_bot_token, base_url=s.slack_api_url),
        # Enqueue before answering: if Redis is down Slack gets a 5xx and retries, so nothing is lost.
        process_before_response=True,
        token_verification_enabled=False,
    )

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        event_id = body.get("event_id", "")
        if event_id and ctx.store.seen_event(event_id):
            log.info("Slack redelivered %s; already queued", event_id)
            return
        ctx.queue.enqueue(jobs.handle_message, event, job_id=jobs.job_id("evt", event_id) if event_id else None,
                          retry=jobs.X_RETRY)
        if event_id:
            ctx.store.mark_event(event_id)

    @app.event("app_mention")
    def on_app_mention(ack: Ack) -> None:
        ack()

    from bot import slash  # noqa: PLC0415 - commands register on the app

    slash.register(app, ctx)
    return app


def create_app() -> Flask:
    try:
        ctx = get_context()
        configure_logging(ctx.settings)
        bolt = build_bolt(ctx)
    except ConfigError as exc:
        exit_on_config_error(exc)
    handler = SlackRequestHandler(bolt)
    flask = Flask("escalator")

    @flask.post("/slack/events")
    def slack_events() -> Response:
        return handler.handle(request)  # type: ignore[no-any-return]

    @flask.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        try:
            ctx.redis.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return {"status": "unhealthy", "redis": type(exc).__name__}, 503
        return {"status": "ok", "redis": "ok"}, 200

    return flask
