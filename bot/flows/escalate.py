"""/escalate: an operator makes a ticket of any tweet. Parsed and answered at once; built in a job."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.adapters import slack_blocks
from bot.adapters.jobqueue import DECLARE_STORM, ESCALATE_TWEET
from bot.adapters.slack import SlackError
from bot.adapters.slack_syntax import people_or_groups
from bot.adapters.x import XError, XUnavailable
from bot.context import Context
from bot.domain.text import escape_slack
from bot.domain.tickets import summons
from bot.flows import ingest, people
from bot.messages import t

log = logging.getLogger(__name__)

TWEET_REF = re.compile(r"^(?:<)?(?:https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/\s]+/status(?:es)?/)?(\d{1,20})"
                       r"(?:[/?#][^\s>|]*)?(?:\|[^>]*)?(?:>)?$")
DEPT_LIKE = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Request:
    tweet_id: str
    department: str | None
    fast: bool
    note: str


class UsageError(ValueError):
    """Input the command cannot use; `key` and `kwargs` name the sentence in bot.messages."""

    def __init__(self, key: str, **kwargs: str) -> None:
        super().__init__(key, kwargs)
        self.key, self.kwargs = key, kwargs

    def text(self, locale: str) -> str:
        usage = {"usage": t(locale, "escalate_usage")} if self.key != "escalate_usage" else {}
        return t(locale, self.key, **usage, **self.kwargs)


def known_list(known: list[str]) -> str:
    return slack_blocks.code_list(known)


def parse(text: str, known: list[str]) -> Request:
    """`<tweet> [dept] [fast] [note…]`; a lowercase latin word right after the tweet names a department."""
    words = text.split()
    if not words or words[0].lower() in ("help", "도움말"):
        raise UsageError("escalate_usage")
    m = TWEET_REF.match(words[0])
    if not m:
        raise UsageError("escalate_not_tweet", word=words[0][:80])
    rest, dept, fast = words[1:], None, False
    if rest and rest[0].lower() != "fast" and DEPT_LIKE.match(rest[0]):
        if rest[0] not in known:
            raise UsageError("unknown_department", name=rest[0][:40], known=known_list(known))
        dept, rest = rest[0], rest[1:]
    if rest and rest[0].lower() == "fast":
        fast, rest = True, rest[1:]
    return Request(m.group(1), dept, fast, " ".join(rest))


def _ephemeral(text: str) -> dict[str, Any]:
    return slack_blocks.ephemeral(text)


def _operator_list(ctx: Context) -> str:
    return people_or_groups(ctx.routing.operators or ())


def may_escalate_now(ctx: Context, user: str) -> bool | None:
    """True/False when routing alone decides; None when a Slack user group must be asked (in the job)."""
    operators = ctx.routing.operators
    if operators is None or user in operators:
        return True
    return None if any(o.startswith("S") for o in operators) else False


def is_operator(ctx: Context, user: str) -> bool:
    """Routing's `operators`: user ids, or user groups (S…) whose members Slack lists."""
    return people.is_operator(ctx, user)


def accept(ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
    """The immediate answer to the slash command (the ack); enqueues the work when the input is good."""
    user = command.get("user_id", "")
    if may_escalate_now(ctx, user) is False:
        return _ephemeral(t(ctx.locale, "escalate_operators_only", who=_operator_list(ctx)))
    words = command.get("text", "").split()
    if words and words[0].lower() == "storm":
        return _declare_storm(ctx, words[1:], user, ctx.queue.seal(command.get("response_url", "")))
    try:
        req = parse(command.get("text", ""), [d.id for d in ctx.routing.departments])
    except UsageError as exc:
        return _ephemeral(exc.text(ctx.locale))
    ctx.queue.enqueue(ESCALATE_TWEET, req.tweet_id, req.department, req.fast, req.note, user,
                      ctx.queue.seal(command.get("response_url", "")))
    return _ephemeral(t(ctx.locale, "escalate_accepted", tweet_id=req.tweet_id))


def _declare_storm(ctx: Context, words: list[str], user: str, response_url: str) -> dict[str, Any]:
    """`/escalate storm <department> <topic…>`: an operator calls a storm before the threshold does."""
    if ctx.routing.storm is None:
        return _ephemeral(t(ctx.locale, "storm_off"))
    known = [d.id for d in ctx.routing.departments] + ["triage"]
    if not words or words[0] not in known:
        return _ephemeral(t(ctx.locale, "storm_usage", known=known_list(known)))
    ctx.queue.enqueue(DECLARE_STORM, words[0], " ".join(words[1:]), user, response_url)
    return _ephemeral(t(ctx.locale, "storm_declaring", department=words[0]))


def _existing(ctx: Context, tweet_id: str) -> str | None:
    ticket = ctx.store.ticket(tweet_id)
    if ticket is None:
        return None
    if ticket.channel and ticket.message_ts:
        return t(ctx.locale, "escalate_exists", link=ctx.slack.permalink(ticket.channel, ticket.message_ts))
    return t(ctx.locale, "escalate_exists_unposted")


def run(ctx: Context, req: Request, user: str, now: datetime) -> str:
    """Make the ticket and post it; returns the sentence for the person who asked.

    Nothing is stored until X has shown the tweet, so a failure leaves nothing half-made."""
    if not is_operator(ctx, user):
        return t(ctx.locale, "escalate_operators_only", who=_operator_list(ctx))
    found = _existing(ctx, req.tweet_id)
    if found:
        return found
    try:
        mention = ctx.x.get_tweet(req.tweet_id)
    except XUnavailable as exc:
        return t(ctx.locale, "escalate_x_down", detail=escape_slack(str(exc)))
    except XError as exc:
        return t(ctx.locale, "escalate_x_refused", tweet_id=req.tweet_id, detail=escape_slack(str(exc)))
    if mention is None:
        return t(ctx.locale, "escalate_not_found", tweet_id=req.tweet_id)
    ticket = ingest.make_ticket(ctx, mention, now)  # its account: the one the tweet mentions, else the first
    account_id, username = ctx.account(ticket.account)
    department = req.department or ticket.department
    dept = ctx.routing.department_or_none(department)
    fast = (req.fast or ticket.fast_track) and ctx.routing.fast_track is not None
    policy = ctx.routing.policy_for(dept, fast=fast)
    ticket = replace(ticket, department=department, policy=policy.name, fast_track=fast, source="escalate",
                     escalated_by=user, note=req.note, clock_start=now, opened_at=now,
                     due_at=ctx.clock.due_at(policy, now), first_due_at=ctx.clock.due_at(policy, now),
                     unsummoned=not summons(mention, account_id, username))
    if not ctx.store.create_tickets([ticket], now.timestamp())[0]:
        # Someone else's /escalate of the same tweet won the race.
        return _existing(ctx, req.tweet_id) or t(ctx.locale, "escalate_exists_unposted")
    ingest.flush_outbox(ctx, now)
    name = dept.name if dept else t(ctx.locale, "triage")
    posted = ctx.store.ticket(req.tweet_id)
    if not (posted and posted.channel and posted.message_ts):
        return t(ctx.locale, "escalate_done_later", department=escape_slack(name))
    try:
        if ctx.store.once(f"escalate-note:{req.tweet_id}", ttl=86400):
            note = "\n" + slack_blocks.quote(escape_slack(req.note)) if req.note else ""
            ctx.slack.post(posted.channel, t(ctx.locale, "escalate_thread_note", user=user, note=note),
                           thread_ts=posted.message_ts)
        link = ctx.slack.permalink(posted.channel, posted.message_ts)
    except SlackError as exc:  # the ticket is made and posted; only the extras failed
        log.warning("escalated %s, but Slack failed afterwards: %s", req.tweet_id, exc)
        return t(ctx.locale, "escalate_done_later", department=escape_slack(name))
    return t(ctx.locale, "escalate_done", department=escape_slack(name), link=link)
