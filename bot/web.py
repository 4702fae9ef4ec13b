"""The web process: Bolt's single Slack endpoint, the health check and metrics. It only enqueues work."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot import jobs, slash
from bot.adapters.jobqueue import BROADCAST_TIMEOUT_S, job_id
from bot.adapters.redis_url import connect
from bot.context import Context, get_context
from bot.errors import ConfigError
from bot.logs import configure_logging, exit_on_config_error
from bot.metrics import render

log = logging.getLogger(__name__)

# Slack's requests are a few kilobytes. Anything over this is refused before a byte of it is read (by its
# Content-Length, or, for a chunked body, as soon as the stream passes it), so an unsigned 200 MB body costs
# the web process nothing.
MAX_BODY_BYTES = 1024 * 1024


class _OwnClient(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN goes unused when it is given a client: ours, made with that token and
    SLACK_API_URL. The warning would greet every operator at start and mean nothing, so it is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_bolt(ctx: Context, socket_mode: bool = False) -> App:
    """The listeners; over HTTP every request is signed, over Socket Mode the app token authenticates."""
    s = ctx.settings
    s.require("SLACK_BOT_TOKEN", *(("SLACK_APP_TOKEN",) if socket_mode else ("SLACK_SIGNING_SECRET",)))
    logging.getLogger("slack_bolt.App").addFilter(_OwnClient())
    app = App(
        signing_secret=s.slack_signing_secret or "",
        client=WebClient(token=s.slack_bot_token, base_url=s.slack_api_url),
        # Enqueue before answering: if Redis is down Slack gets a 5xx and retries, so nothing is lost.
        process_before_response=True,
        token_verification_enabled=False,
        request_verification_enabled=not socket_mode,
    )

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        if not jobs.message_wanted(event):
            return  # the bot's own posts and channel chatter: no job for the worker to throw away
        event_id = body.get("event_id", "")
        if event_id and ctx.store.seen_event(event_id):
            log.info("Slack redelivered %s; already queued", event_id)
            return
        ctx.queue.enqueue(jobs.handle_message, event, job_id=job_id("evt", event_id) if event_id else None,
                          retry=jobs.EVENT_RETRY)
        if event_id:
            ctx.store.mark_event(event_id)

    @app.event("app_mention")
    def on_app_mention(ack: Ack) -> None:
        ack()

    @app.action(re.compile(r"^storm_(send|cancel|end|stop)$"))
    def on_storm_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        ctx.queue.enqueue(jobs.storm_action, action["action_id"], action.get("value", ""),
                          body.get("user", {}).get("id", ""), ctx.queue.seal(body.get("response_url", "")),
                          job_timeout=BROADCAST_TIMEOUT_S)

    slash.register(app, ctx)
    return app


def well_formed(body: bytes, content_type: str) -> bool:
    """A JSON object, or a form whose `payload` (if any) is a JSON object: what Slack sends."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return isinstance(json.loads(text), dict)
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return bool(form)
    except (UnicodeDecodeError, ValueError):
        return False


def create_app() -> Flask:
    try:
        ctx = get_context()
        configure_logging(ctx.settings)
        bolt = build_bolt(ctx)
    except ConfigError as exc:
        exit_on_config_error(exc)
    handler = SlackRequestHandler(bolt)
    flask = Flask("escalator")
    # One byte over the limit: a chunked body is read no further than that (werkzeug stops its stream there)
    # and its length tells that it went over.
    flask.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1

    @flask.errorhandler(413)
    def too_large(_: Exception) -> Response:
        # Close the connection: keeping it alive would make gunicorn read the rest of the body to find the
        # next request.
        return Response(f"request body over {MAX_BODY_BYTES // 1024} KB\n", status=413, mimetype="text/plain",
                        headers={"Connection": "close"})

    verifier = SignatureVerifier(ctx.settings.slack_signing_secret or "")

    @flask.post("/slack/events")
    def slack_events() -> Response | tuple[str, int]:
        # Check the signature, then the body, before Bolt: Bolt parses first and a broken body became a 500.
        body = request.get_data()  # a Content-Length over the limit is refused here (413) without a read
        if len(body) > MAX_BODY_BYTES:
            abort(413)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "malformed body: not UTF-8", 400
        if not verifier.is_valid_request(body, dict(request.headers)):
            return "invalid signature", 401
        if not well_formed(body, request.content_type or ""):
            return "malformed body", 400
        return handler.handle(request)  # type: ignore[no-any-return]

    # Its own client, without the retries that carry the bot's clients through a failover: a health check
    # answers within its timeout, and 503 while no primary answers.
    probe = connect(ctx.settings.redis_url, retry_for=0, socket_connect_timeout=1, socket_timeout=1)

    @flask.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        try:
            probe.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return {"status": "unhealthy", "redis": type(exc).__name__}, 503
        return {"status": "ok", "redis": "ok"}, 200

    @flask.get("/metrics")
    def metrics() -> Response:
        try:
            return Response(render(ctx), mimetype=CONTENT_TYPE_LATEST)
        except Exception as exc:  # noqa: BLE001 - Redis down: say so, don't 500 with a traceback
            return Response(f"# metrics unavailable: {type(exc).__name__}\n", status=503, mimetype="text/plain")

    return flask
