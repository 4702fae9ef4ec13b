"""Slack Web API through slack_sdk: Block Kit builders (pure) and a thin client with retry handlers."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.adapters.slack_limits import fit_call, fit_message
from bot.adapters.slack_syntax import tweet_url
from bot.domain.text import escape_slack
from bot.domain.tickets import Ticket
from bot.errors import ExternalServiceError
from bot.messages import t

log = logging.getLogger(__name__)

TICKET_EVENT = "escalator_ticket"
FOLLOWUP_EVENT = "escalator_followup"
STORM_EVENT = "escalator_storm"
STORM_LINES_EVENT = "escalator_storm_lines"  # payload: the comma-joined tweet ids a lines message shows
STATE_ICONS = {"new": "🆕", "open": "🟡", "claimed": "🙋", "pending_send": "⏳", "answered": "✅",
               "closed": "⚪", "awaiting_approval": "🛂"}
# Interactive elements on the bot's messages; bot/slash.py routes them by these ids.
CLAIM, REASSIGN, RESOLVE = "ticket_claim", "ticket_reassign", "ticket_resolve"
APPROVE, REJECT, REJECT_VIEW = "reply_approve", "reply_reject", "reply_reject_reason"
SAVED_PICK, SAVED_CANCEL = "saved_reply_pick", "saved_reply_cancel"
TRIAGE_OPTION = "triage"


class SlackError(ExternalServiceError):
    def __init__(self, message: str, error: str = "") -> None:
        super().__init__(message)
        self.error = error


class SlackRateLimited(SlackError):
    """Slack refused a post for its channel's pace (429), or the channel is booked for longer than a post a
    person waits for may wait: try again at `retry_at` (epoch seconds)."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message, "ratelimited")
        self.retry_at = retry_at


class Pace(Protocol):
    """The channel pace SlackClient keeps (bot/adapters/store/lanes.py: Lanes)."""

    def reserve(self, channel: str) -> float: ...
    def hold(self, channel: str, seconds: float) -> float: ...
    def posted(self, channel: str, ago: float = 0.0) -> None: ...
    def now(self) -> float: ...


def local_time(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def ticket_blocks(ticket: Ticket, department_name: str, tz: ZoneInfo, locale: str = "ko",
                  departments: Sequence[tuple[str, str]] = (), moved_to: str = "", warning: str = "",
                  saved_replies: Sequence[tuple[str, str]] = (),
                  account: str = "") -> tuple[str, list[dict[str, Any]]]:
    """The ticket message: author, the tweet (escaped), link, department, due time, state and its buttons.

    `departments` ((id, name) pairs) fills the Reassign menu; `moved_to` (a sentence) marks a message whose
    ticket moved to another channel: it keeps the tweet, loses the buttons and points to the new thread;
    `warning` (a sentence) is shown under the tweet, e.g. that X will refuse a public reply;
    `saved_replies` ((name, text) pairs) fills the "Saved reply…" menu; `account` (a
    username, given when the bot serves several X accounts) is the account the tweet is for."""
    a = ticket.author
    url = tweet_url(a.username, ticket.tweet_id)
    body = escape_slack(ticket.text)
    who = f"*@{escape_slack(a.username)}* ({escape_slack(a.name)}, {t(locale, 'followers', n=a.followers)})"
    state = ticket.state.value + (" · breached" if ticket.breached else "")
    if ticket.claimed_by and ticket.is_open:
        state += f" · <@{ticket.claimed_by}>"
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
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|{t(locale, 'open_tweet')}>"
                                          + (f" · → @{escape_slack(account)}" if account else "")}]},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if ticket.note:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"📝 {escape_slack(ticket.note)}"}]})
    if warning:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": warning}]})
    if moved_to:
        blocks[2]["fields"][2] = {"type": "mrkdwn", "text": f"*{t(locale, 'state')}:* ➡️ {moved_to}"}
    elif ticket.is_open and ticket.state.value != "new":
        blocks.append(ticket_actions(ticket, departments, locale))
        if saved_replies:
            blocks.append(saved_reply_menu(saved_replies, locale))
    # Long links can make a tweet longer than a section may be: cut visibly, ending in a link to the tweet.
    text, fitted = fit_message(f"@{escape_slack(a.username)}: {body}", blocks,
                               more=f"<{url}|{t(locale, 'open_tweet')}>")
    return text, fitted or []


def _button(label: str, action_id: str, value: str, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                              "text": {"type": "plain_text", "text": label, "emoji": True}}
    if style:
        button["style"] = style
    return button


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75], "emoji": True}


def ticket_actions(ticket: Ticket, departments: Sequence[tuple[str, str]], locale: str) -> dict[str, Any]:
    """Claim, Reassign (a menu of the other departments and triage) and Resolve without reply."""
    elements: list[dict[str, Any]] = [_button(t(locale, "btn_claim"), CLAIM, ticket.tweet_id, "primary")]
    choices = [(i, n) for i, n in departments if i != ticket.department]
    if ticket.department is not None:
        choices.append((TRIAGE_OPTION, t(locale, "triage")))
    if departments and choices:
        options = [{"text": _plain(name), "value": dept_id} for dept_id, name in choices[:100]]
        elements.append({"type": "static_select", "action_id": REASSIGN,
                         "placeholder": _plain(t(locale, "btn_reassign")), "options": options})
    resolve = _button(t(locale, "btn_resolve"), RESOLVE, ticket.tweet_id, "danger")
    resolve["confirm"] = {"title": _plain(t(locale, "resolve_confirm_title")),
                          "text": {"type": "mrkdwn", "text": t(locale, "resolve_confirm_text")},
                          "confirm": _plain(t(locale, "btn_resolve")),
                          "deny": _plain(t(locale, "btn_cancel"))}
    elements.append(resolve)
    return {"type": "actions", "block_id": "ticket_actions", "elements": elements}


def approval_blocks(text: str, key: str, locale: str, decided: str = "") -> list[dict[str, Any]]:
    """A reply waiting for a lead: the request, then Approve / Reject (or, once decided, who decided)."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if decided:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": decided}]})
    else:
        blocks.append({"type": "actions", "block_id": "reply_approval", "elements": [
            _button(t(locale, "btn_approve"), APPROVE, key, "primary"),
            _button(t(locale, "btn_reject"), REJECT, key, "danger")]})
    return blocks


def reject_view(key: str, locale: str) -> dict[str, Any]:
    """The modal a lead fills in to send a reply back: the reason reaches its author in the thread."""
    return {"type": "modal", "callback_id": REJECT_VIEW, "private_metadata": key,
            "title": _plain(t(locale, "reject_title")), "submit": _plain(t(locale, "btn_reject")),
            "close": _plain(t(locale, "btn_cancel")),
            "blocks": [{"type": "input", "block_id": "reason", "label": _plain(t(locale, "reject_reason")),
                        "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True,
                                    "max_length": 1000}}]}


class SlackClient:
    """The only code that calls slack_sdk's WebClient for the bot's own posts."""

    # Longest a post a person waits for (a pending notice, the ✅ note) waits for its channel's slot inside its
    # job: a few slots, since a threaded worker runs several replies to one channel at once and each reserves
    # the next slot; the worker's other threads go on meanwhile. Beyond it the post is refused as rate-limited.
    WAIT_MAX_S = 5.0

    def __init__(self, token: str, base_url: str, client: WebClient | None = None, pace: Pace | None = None) -> None:
        self.web = client or WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=2),
        ])
        # A new message is not idempotent: after a 5xx or a dropped connection Slack may have posted it, so
        # nothing retries it here. A 429 (certainly not posted) is not slept out inside the call either: the
        # channel's pace (shared in Redis) is pushed back by Retry-After and the caller decides (see post).
        self.writer = WebClient(token=token, base_url=base_url, timeout=15)
        self.pace = pace

    def _call(self, method: str, **kwargs: Any) -> Any:
        kwargs = fit_call(method, kwargs)  # whatever the bot sends is within Slack's size limits
        client = self.writer if method == "chat.postMessage" else self.web
        try:
            return client.api_call(method, json=kwargs) if method.startswith(("chat.", "views.")) \
                else client.api_call(method, params=kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            if exc.response is not None and exc.response.status_code == 429:
                raise self._rate_limited(method, kwargs.get("channel", ""), exc) from exc
            raise SlackError(f"Slack {method} failed: {error or exc}", error) from exc

    def _rate_limited(self, method: str, channel: str, exc: SlackApiError) -> SlackRateLimited:
        headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
        raw = headers.get("retry-after", "1")
        try:
            wait = max(1.0, float(raw[0] if isinstance(raw, list) else raw))
        except ValueError:
            wait = 1.0
        retry_at = time.time() + wait
        if self.pace is not None and method == "chat.postMessage" and channel:
            retry_at = self.pace.hold(channel, wait)
        return SlackRateLimited(f"Slack {method} rate-limited for {wait:.0f} s", retry_at)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
             thread_ts: str | None = None, metadata: dict[str, Any] | None = None, paced: bool = True) -> str:
        """Post a message; returns its ts.

        `paced` (the default, for posts a person waits for): take the channel's next slot ahead of any ticket
        lane and wait for it when it is at most WAIT_MAX_S away; a 429 is waited out once the same way. Else,
        or when the wait would be longer, SlackRateLimited says when to try again. A ticket lane takes its
        slot itself and passes paced=False: it never waits."""
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if blocks:
            kwargs["blocks"] = blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = metadata
        for attempt in range(3):
            if paced and self.pace is not None:
                self._wait_for_slot(channel)
            try:
                sent = time.time()
                ts = str(self._call("chat.postMessage", **kwargs)["ts"])
                if self.pace is not None:  # Slack counts from when it took the post: its ts, within the call
                    answered = time.time()
                    self.pace.posted(channel, answered - min(max(float(ts), sent), answered))
                return ts
            except SlackRateLimited as exc:
                if not paced or attempt == 2 or exc.retry_at - time.time() > self.WAIT_MAX_S:
                    raise
                time.sleep(max(0.0, exc.retry_at - time.time()))
        raise AssertionError("unreachable")

    def _wait_for_slot(self, channel: str) -> None:
        assert self.pace is not None
        wait = self.pace.reserve(channel) - self.pace.now()
        if wait > self.WAIT_MAX_S:
            raise SlackRateLimited(f"Slack channel {channel} is booked for {wait:.1f} s", time.time() + wait)
        if wait > 0:
            time.sleep(wait)

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            kwargs["blocks"] = blocks
        self._call("chat.update", **kwargs)

    def ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            self._call("chat.postEphemeral", **kwargs)
        except SlackError as exc:
            if exc.error not in ("user_not_in_channel", "channel_not_found"):
                raise
            self.post(user, text)  # not in the channel (so no ephemeral possible): a direct message instead

    def find_ticket_message(self, channel: str, tweet_id: str, oldest: float) -> str | None:
        """A ticket message already in the channel (a post that Slack took before a worker died)."""
        return self.find_message(channel, TICKET_EVENT, "tweet_id", tweet_id, oldest)

    def find_message(self, channel: str, event_type: str, key: str, value: str, oldest: float) -> str | None:
        """A top-level message of ours since `oldest` whose metadata carries event_type and payload[key]."""
        body = self._call("conversations.history", channel=channel, oldest=str(oldest), limit=200,
                          include_all_metadata=True)
        for msg in body.get("messages", []):
            meta = msg.get("metadata") or {}
            if meta.get("event_type") == event_type and (meta.get("event_payload") or {}).get(key) == value:
                return str(msg["ts"])
        return None

    def find_in_thread(self, channel: str, thread_ts: str, event_type: str, tweet_id: str) -> str | None:
        """A message of ours in a thread carrying this metadata, if Slack already has it."""
        return next((ts for ts, payload in self.thread_metadata(channel, thread_ts, event_type)
                     if payload.get("tweet_id") == tweet_id), None)

    def thread_metadata(self, channel: str, thread_ts: str, event_type: str) -> list[tuple[str, dict[str, Any]]]:
        """(ts, event_payload) of each message in a thread whose metadata has this event_type."""
        body = self._call("conversations.replies", channel=channel, ts=thread_ts, limit=1000,
                          include_all_metadata=True)
        found = []
        for msg in body.get("messages", []):
            meta = msg.get("metadata") or {}
            if meta.get("event_type") == event_type:
                found.append((str(msg["ts"]), dict(meta.get("event_payload") or {})))
        return found

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

    def upload(self, channel: str, thread_ts: str | None, files: Sequence[tuple[str, str, bytes]]) -> None:
        """Files (name, title, bytes) into a channel or thread, with files_upload_v2's three-step upload."""
        try:
            self.web.files_upload_v2(channel=channel, thread_ts=thread_ts, file_uploads=[
                {"file": data, "filename": name, "title": title} for name, title, data in files])
        except (SlackClientError, OSError) as exc:
            raise SlackError(f"Slack file upload failed: {exc}") from exc

    def respond(self, response_url: str, text: str) -> None:
        """Answer a slash command or button later, through its response_url."""
        resp = WebhookClient(response_url, timeout=15).send(text=text, response_type="ephemeral")
        if resp.status_code >= 300:
            log.warning("response_url answered %s", resp.status_code)

    def thread_messages(self, channel: str, thread_ts: str, limit: int = 200) -> list[dict[str, Any]]:
        """A thread, parent first (one page: enough for the history a moved ticket carries along)."""
        body = self._call("conversations.replies", channel=channel, ts=thread_ts, limit=limit)
        return list(body.get("messages", []))

    def user_name(self, user: str) -> str:
        """A person's display name, for text that must not ping them; the id when Slack can't say."""
        try:
            found = self._call("users.info", user=user)["user"]
        except SlackError:
            return user
        profile = found.get("profile") or {}
        return str(profile.get("display_name") or found.get("real_name") or found.get("name") or user)

    def usergroup_members(self, group: str) -> frozenset[str]:
        """Members of a user group (S…); needs the usergroups:read scope."""
        return frozenset(self._call("usergroups.users.list", usergroup=group).get("users", []))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", trigger_id=trigger_id, view=view)

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        self._call("views.publish", user_id=user, view=view)


# -- saved replies (issue 16) -----------------------------------------------------------------------------

def saved_reply_menu(replies: Sequence[tuple[str, str]], locale: str) -> dict[str, Any]:
    """The ticket message's "Saved reply…" menu: each option its name, with the start of its text."""
    options = [{"text": _plain(name), "value": name, "description": _plain(_preview(text))}
               for name, text in replies[:100]]
    return {"type": "actions", "block_id": "saved_replies", "elements": [
        {"type": "static_select", "action_id": SAVED_PICK, "placeholder": _plain(t(locale, "saved_menu")),
         "options": options}]}


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 75 else flat[:74] + "…"


def saved_pending_blocks(text: str, key: str, locale: str) -> list[dict[str, Any]]:
    """A saved reply in its undo window: what will go, and Cancel (for whoever chose it)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "actions", "block_id": "saved_reply_pending", "elements": [
                _button(t(locale, "btn_cancel"), SAVED_CANCEL, key)]}]


def saved_done_blocks(text: str) -> list[dict[str, Any]]:
    """A saved reply's notice once decided (sent, cancelled): its words, and no Cancel any more. (Updating with
    the text alone would keep the old blocks, Cancel included: chat.update keeps what it is not given.)"""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def saved_pick_blocks(text: str, key: str, locale: str, cancel: bool) -> list[dict[str, Any]]:
    """A picked saved reply as posted in the thread (the message that carries it); Cancel while a lead has
    not decided (the undo window's own notice has one too)."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if cancel:
        blocks.append({"type": "actions", "block_id": "saved_reply_pick", "elements": [
            _button(t(locale, "btn_cancel"), SAVED_CANCEL, key)]})
    return blocks


# -- storm mode -------------------------------------------------------------------------------------------

def storm_lines(tickets: Sequence[Ticket]) -> str:
    """Many mentions in one thread message: a line each, the tweet linked, nothing able to ping."""
    lines = []
    for ticket in tickets:
        text = ticket.text if len(ticket.text) <= 140 else ticket.text[:139] + "…"
        url = tweet_url(ticket.author.username, ticket.tweet_id)
        lines.append(f"• <{url}|@{escape_slack(ticket.author.username)}> {escape_slack(text)}")
    return "\n".join(lines)


def storm_header_blocks(locale: str, storm_id: str, department: str, topic: str, count: int, ended: bool
                        ) -> tuple[str, list[dict[str, Any]]]:
    key = "storm_header_ended" if ended else "storm_header"
    text = t(locale, key, department=escape_slack(department), topic=escape_slack(topic or "—"), count=count)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if not ended:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": "storm_end", "value": storm_id,
             "text": {"type": "plain_text", "text": t(locale, "storm_end_button")}}]})
    return text, blocks


def storm_confirm_blocks(locale: str, key: str, text: str, count: int) -> tuple[str, list[dict[str, Any]]]:
    ask = t(locale, "storm_confirm", count=count, text=escape_slack(text))
    return ask, [
        {"type": "section", "text": {"type": "mrkdwn", "text": ask}},
        {"type": "actions", "elements": [
            {"type": "button", "style": "primary", "action_id": "storm_send", "value": key,
             "text": {"type": "plain_text", "text": t(locale, "storm_send_button", count=count)}},
            {"type": "button", "action_id": "storm_cancel", "value": key,
             "text": {"type": "plain_text", "text": t(locale, "storm_cancel_button")}}]},
    ]


def storm_progress_blocks(locale: str, key: str, text: str, running: bool) -> list[dict[str, Any]]:
    """A broadcast's progress line, with a Stop button while it runs (issue 11)."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if running:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "style": "danger", "action_id": "storm_stop", "value": key,
             "text": {"type": "plain_text", "text": t(locale, "storm_stop_button")}}]})
    return blocks
