"""People acting in Slack: slash commands, buttons, the Reject modal and the App Home tab.

Every listener answers within Slack's 3 seconds: it checks what can be checked from routing.yaml and Redis,
acks, and leaves the work (X calls, Slack posts, figures) to an RQ job. Only the Reject modal is opened here,
because its trigger_id expires in 3 seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot import jobs
from bot.adapters.jobqueue import job_id
from bot.adapters.slack import (
    APPROVE,
    CLAIM,
    REASSIGN,
    REJECT,
    REJECT_VIEW,
    RESOLVE,
    SAVED_CANCEL,
    SAVED_PICK,
    SlackError,
    reject_view,
)
from bot.context import Context
from bot.flows import approval, escalate, home

log = logging.getLogger(__name__)


def _clicked(body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str, str, str]:
    """(user, channel, message ts, value) of a click on a message's button or menu."""
    container = body.get("container") or {}
    value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
    return (body.get("user") or {}).get("id", ""), channel, container.get("message_ts", ""), value


def register(app: App, ctx: Context) -> None:
    @app.command("/escalate")
    def on_escalate(ack: Ack, command: dict[str, Any]) -> None:
        ack(**escalate.accept(ctx, command))

    @app.command("/sla")
    def on_sla(ack: Ack, command: dict[str, Any]) -> None:
        problem = home.sla_accept(ctx, command)
        if problem:
            ack(**problem)
        else:
            ack()  # empty: the summary follows through the response_url

    def on_ticket_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, ts, value = _clicked(body, action)
        ctx.queue.enqueue(jobs.ticket_action, action["action_id"], channel, ts, user, value,
                          ctx.queue.seal(body.get("response_url", "")), retry=jobs.BUTTON_RETRY)

    for action_id in (CLAIM, REASSIGN, RESOLVE):
        app.action(action_id)(on_ticket_button)

    def on_saved_reply(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, ts, value = _clicked(body, action)
        ctx.queue.enqueue(jobs.saved_reply_action, action["action_id"], channel, ts, user, value,
                          action.get("action_ts", ""), ctx.queue.seal(body.get("response_url", "")),
                          retry=jobs.BUTTON_RETRY)

    for action_id in (SAVED_PICK, SAVED_CANCEL):  # issue 16: a saved reply picked, or its Cancel
        app.action(action_id)(on_saved_reply)

    @app.action(APPROVE)
    def on_approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, _, key = _clicked(body, action)
        ctx.queue.enqueue(jobs.approval_decision, approval.APPROVE, key, user, "", channel,
                          ctx.queue.seal(body.get("response_url", "")))

    @app.action(REJECT)
    def on_reject(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, _, key = _clicked(body, action)
        if approval.may_decide(ctx, key, user):
            try:
                ctx.slack.open_view(body["trigger_id"], reject_view(key, ctx.locale))
            except SlackError as exc:  # e.g. expired_trigger_id: they click again
                log.warning("could not open the Reject modal for %s: %s", key, exc)
        else:  # the job tells them who may
            ctx.queue.enqueue(jobs.approval_decision, approval.REJECT, key, user, "", channel,
                              ctx.queue.seal(body.get("response_url", "")))

    @app.view(REJECT_VIEW)
    def on_reject_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        reason = (values.get("reason") or {}).get("reason", {}).get("value")
        if not (reason or "").strip():
            ack(response_action="errors", errors={"reason": "⚠️"})
            return
        ack()
        key = view.get("private_metadata", "")
        user = (body.get("user") or {}).get("id", "")
        channel = key.partition(":")[0]
        ctx.queue.enqueue(jobs.approval_decision, approval.REJECT, key, user, reason, channel, "")

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        ctx.queue.enqueue(jobs.publish_home, event["user"],
                          job_id=job_id("home", event["user"], body.get("event_id", "")))
