"""Slack Web API through slack_sdk: Block Kit builders (pure) and a thin client with retry handlers."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.domain.text import escape_slack
from bot.domain.tickets import Ticket
from bot.errors import ExternalServiceError
from bot.messages import t

log = logging.getLogger(__name__)

TICKET_EVENT = "escalator_ticket"
FOLLOWUP_EVENT = "escalator_followup"
STATE_ICONS = {"new": "🆕", "open": "🟡", "claimed": "🙋", "pending_send": "⏳", "answered": "✅",
               "closed": "⚪"}


class SlackError(ExternalServiceError):
    def __init__(self, message: str, error: str = "") -> None:
        super().__init__(message)
        self.error = error


def tweet_url(username: str, tweet_id: str) -> str:
    return f"https://x.com/{username or 'i'}/status/{tweet_id}"


def local_time(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def ticket_blocks(ticket: Ticket, department_name: str, tz: ZoneInfo, locale: str = "ko"
                  ) -> tuple[str, list[dict[str, Any]]]:
    """The ticket message: author, the tweet (escaped), link, department and due time."""
    a = ticket.author
    url = tweet_url(a.username, ticket.tweet_id)
    body = escape_slack(ticket.text)
    who = f"*@{escape_slack(a.username)}* ({escape_slack(a.name)}, {t(locale, 'followers', n=a.followers)})"
    state = ticket.state.value + (" · breached" if ticket.breached else "")
    fields = [
        f"*{t(locale, 'department')}:* {escape_slack(department_name)}",
        f"*{t(locale, 'due')}:* {local_time(ticket.due_at, tz)} ({ticket.policy}"
        + (", fast-track" if ticket.fast_track else "") + ")",
        f"*{t(locale, 'state')}:* {STATE_ICONS.get(ticket.state.value, '')} {state}",
    ]
    if ticket.keywords:
        fields.append(f"*{t(locale, 'keywords')}:* {escape_slack(', '.join(ticket.keywords))}")
    blocks: list[dict[str, Any]] = [
        # verbatim: Slack must not auto-link or parse names in what a customer typed.
        {"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                     "text": f"{who}\n>{body.replace(chr(10), chr(10) + '>')}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|{t(locale, 'open_tweet')}>"}]},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if ticket.note:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"📝 {escape_slack(ticket.note)}"}]})
    text = f"@{a.username}: {body}"
    return text, blocks


class SlackClient:
    """The only code that calls slack_sdk's WebClient for the bot's own posts."""

    def __init__(self, token: str, base_url: str, client: WebClient | None = None) -> None:
        self.web = client or WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=2),
        ])
        # A new message is not idempotent: after a 5xx or a dropped connection Slack may have posted it, so
        # only a 429 (certainly not posted) is retried here; the outbox retries the rest, looking first.
        self.writer = WebClient(token=token, base_url=base_url, timeout=15,
                                retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=8)])

    def _call(self, method: str, **kwargs: Any) -> Any:
        client = self.writer if method == "chat.postMessage" else self.web
        try:
            return client.api_call(method, json=kwargs) if method.startswith("chat.") \
                else client.api_call(method, params=kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            raise SlackError(f"Slack {method} failed: {error or exc}", error) from exc

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
             thread_ts: str | None = None, metadata: dict[str, Any] | None = None) -> str:
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if blocks:
            kwargs["blocks"] = blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = metadata
        return str(self._call("chat.postMessage", **kwargs)["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            kwargs["blocks"] = blocks
        self._call("chat.update", **kwargs)

    def ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        self._call("chat.postEphemeral", **kwargs)

    def find_ticket_message(self, channel: str, tweet_id: str, oldest: float) -> str | None:
        """A ticket message already in the channel (a post that Slack took before a worker died)."""
        body = self._call("conversations.history", channel=channel, oldest=str(oldest), limit=200,
                          include_all_metadata=True)
        for msg in body.get("messages", []):
            meta = msg.get("metadata") or {}
            if meta.get("event_type") == TICKET_EVENT and \
                    (meta.get("event_payload") or {}).get("tweet_id") == tweet_id:
                return str(msg["ts"])
        return None

    def find_in_thread(self, channel: str, thread_ts: str, event_type: str, tweet_id: str) -> str | None:
        """A message of ours in a thread carrying this metadata, if Slack already has it."""
        body = self._call("conversations.replies", channel=channel, ts=thread_ts, limit=1000,
                          include_all_metadata=True)
        for msg in body.get("messages", []):
            meta = msg.get("metadata") or {}
            if meta.get("event_type") == event_type and \
                    (meta.get("event_payload") or {}).get("tweet_id") == tweet_id:
                return str(msg["ts"])
        return None

    def is_member(self, channel: str, user: str) -> bool:
        cursor = None
        while True:
            kwargs: dict[str, Any] = {"channel": channel, "limit": 1000}
            if cursor:
                kwargs["cursor"] = cursor
            body = self._call("conversations.members", **kwargs)
            if user in body.get("members", []):
                return True
            cursor = (body.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

    def permalink(self, channel: str, ts: str) -> str:
        return str(self._call("chat.getPermalink", channel=channel, message_ts=ts)["permalink"])

    def respond(self, response_url: str, text: str) -> None:
        """Answer a slash command or button later, through its response_url."""
        resp = WebhookClient(response_url, timeout=15).send(text=text, response_type="ephemeral")
        if resp.status_code >= 300:
            log.warning("response_url answered %s", resp.status_code)

    def bot_user_id(self) -> str:
        return str(self._call("auth.test")["user_id"])
