"""RQ task functions: module-level, small arguments, idempotent. Each loads state and calls one flow."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.adapters.jobqueue import retry
from bot.context import Context, get_context
from bot.flows import approval, buttons, escalate, home, ingest, relay, retention, saved_replies, storm

log = logging.getLogger(__name__)

# A Slack event's job, retried with growing gaps if Slack or Redis fail under it; the sweeper covers the rest.
EVENT_RETRY = retry(5, 15, 60, 120, 300)


def _now() -> datetime:
    return datetime.now(UTC)


def poll_mentions() -> int:
    """Cron: read new mentions from X, store them, post them to Slack."""
    ctx = get_context()
    stored = ingest.poll(ctx, _now())
    ingest.flush_outbox(ctx, _now())
    return stored


def poll_tick() -> int:
    """Cron, every second when X_POLL_SECONDS is unset: poll mentions when the adaptive schedule says so."""
    ctx = get_context()
    if not ingest.poll_if_due(ctx, _now()):
        return 0
    return ingest.flush_outbox(ctx, _now())


def post_lane(channel: str, token: str) -> int:
    """A channel's ticket lane, run again when the channel's pace frees it (see ingest.run_lane)."""
    return ingest.run_lane(get_context(), channel, _now(), token)


def message_wanted(event: dict[str, Any]) -> bool:
    """Whether a Slack message event can matter: a person's reply in a thread, its edit, or a deletion.

    The web process drops the rest (every post of the bot's own, channel chatter) before it becomes a job."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        msg = event.get("message") or {}
        return not msg.get("bot_id") and bool(msg.get("thread_ts")) and msg.get("thread_ts") != msg.get("ts")
    if subtype == "message_deleted":
        return True
    if subtype not in (None, "thread_broadcast", "file_share") or event.get("bot_id"):
        return False
    thread_ts = event.get("thread_ts")
    return bool(thread_ts) and thread_ts != event.get("ts") and bool(event.get("user"))


def handle_message(event: dict[str, Any]) -> str:
    """A Slack message event in a channel the bot is in: a reply, an edit or a deletion."""
    if not message_wanted(event):
        return "ignored"
    ctx = get_context()
    subtype = event.get("subtype")
    channel = event.get("channel", "")
    if subtype == "message_changed":
        msg = event["message"]
        return relay.on_edit(ctx, channel, msg["thread_ts"], msg["ts"], msg.get("user", ""),
                             msg.get("text", ""), _now())
    if subtype == "message_deleted":
        prev = event.get("previous_message") or {}
        return relay.on_delete(ctx, channel, prev.get("thread_ts", ""), event.get("deleted_ts", ""), _now())
    return relay.on_reply(ctx, channel, event["thread_ts"], event["ts"], event["user"], event.get("text", ""),
                          _now())


def send_reply(channel: str, ts: str) -> str:
    return relay.send(get_context(), channel, ts, _now())


def sweep() -> dict[str, int]:
    """Cron: the safety net. Posts what a dead worker left unposted, sends relays whose timer was lost."""
    ctx = get_context()
    now = _now()
    return {"posted": ingest.flush_outbox(ctx, now), "relayed": relay.recover(ctx, now),
            "storms_ended": storm.sweep(ctx, now)}


def escalate_tweet(tweet_id: str, department: str | None, fast: bool, note: str, user: str,
                   response_url: str) -> str:
    ctx = get_context()
    answer = escalate.run(ctx, escalate.Request(tweet_id, department, fast, note), user, _now())
    if response_url := ctx.queue.unseal(response_url):
        ctx.slack.respond(response_url, answer)
    return answer


def daily_report() -> str | None:
    """Cron (every minute): the managers' summary once a day at report.daily_at, local time."""
    from bot.flows.summary import run_daily_report  # loads matplotlib: only the worker that runs it pays

    return run_daily_report(get_context(), _now())


# -- chatops: ticket buttons, reply approval, /sla, App Home (each enqueued by bot/slash.py) ----------------

BUTTON_RETRY = retry(1, 3, 10)  # a busy ticket (another click being handled)


def _teller(ctx: Context, channel: str, user: str, response_url: str) -> Callable[[str], None]:
    """Answer the person who clicked, privately: through the response_url when there is one (sealed)."""
    response_url = ctx.queue.unseal(response_url)

    def tell(text: str) -> None:
        if response_url:
            ctx.slack.respond(response_url, text)
        else:
            ctx.slack.ephemeral(channel, user, text)
    return tell


def ticket_action(action: str, channel: str, message_ts: str, user: str, value: str,
                  response_url: str) -> str:
    """Claim, Reassign or Resolve without reply, clicked on a ticket message."""
    ctx = get_context()
    return buttons.handle(ctx, action, channel, message_ts, user, value, _now(),
                          _teller(ctx, channel, user, response_url))


def approval_decision(decision: str, key: str, user: str, reason: str, channel: str,
                      response_url: str) -> str:
    """A lead's Approve (button) or Reject (modal) on a reply awaiting approval."""
    ctx = get_context()
    tell = _teller(ctx, channel, user, response_url)
    return approval.decide(ctx, decision, key, user, reason, _now(), tell)


def sla_summary(department: str | None, period: str, user: str, response_url: str) -> str:
    """/sla: the summary, only for the asker (through the command's response_url)."""
    ctx = get_context()
    text = home.sla_text(ctx, department, period, _now())
    if response_url := ctx.queue.unseal(response_url):
        ctx.slack.respond(response_url, text)
    return text


def publish_home(user: str) -> None:
    """app_home_opened: draw the App Home tab for this person."""
    home.publish_home(get_context(), user, _now())


def storm_action(action: str, value: str, user: str, response_url: str = "") -> str:
    """A storm button: send (the confirmed broadcast), cancel it, stop it while it runs, or end the storm.

    A refusal reaches the clicker privately, through the response_url (they may not be in the channel)."""
    ctx = get_context()
    response_url = ctx.queue.unseal(response_url)
    tell = _teller(ctx, "", user, response_url) if response_url else None
    if action == "storm_send":
        return storm.confirm(ctx, value, user, _now())
    if action == "storm_cancel":
        return storm.cancel(ctx, value, user, tell)
    if action == "storm_stop":
        return storm.stop(ctx, value, user, tell)
    if action == "storm_end":
        return storm.end_by(ctx, value, user, _now(), tell)
    return "unknown"


def storm_broadcast(key: str) -> str:
    return storm.broadcast(get_context(), key, _now())


def declare_storm(department: str, topic: str, user: str, response_url: str) -> str:
    """An operator's /escalate storm: the storm thread opens now; new mentions of the department join it."""
    ctx = get_context()
    response_url = ctx.queue.unseal(response_url)
    now = _now()
    storm_id = storm.declare_by(ctx, department, topic, user, now)
    if storm_id is None:
        refused = storm.operators_only(ctx)
        if response_url:
            ctx.slack.respond(response_url, refused)
        return "not-operator"
    storm.post_members(ctx, storm_id, [], now)
    header = ctx.store.storm(storm_id)
    link = ctx.slack.permalink(header["channel"], header["header_ts"])
    if response_url := ctx.queue.unseal(response_url):
        ctx.slack.respond(response_url, f"🌩️ {link}")
    return storm_id


def purge_retention() -> int:
    """Cron: tickets past routing.yaml's `retention` leave Redis, folded into per-day report figures."""
    return retention.purge(get_context(), _now())


def saved_reply_action(action: str, channel: str, message_ts: str, user: str, value: str, token: str,
                       response_url: str) -> str:
    """A saved reply picked on a ticket message, or a chosen saved reply's Cancel (issue 16)."""
    ctx = get_context()
    return saved_replies.handle(ctx, action, channel, message_ts, user, value, token, _now(),
                                _teller(ctx, channel, user, response_url))
