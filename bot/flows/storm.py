"""Storm mode: a burst of mentions for one department becomes one thread, answered once for everyone.

Detection: more than storm.threshold new mentions for a department within storm.window. Members are still
tickets (own SLA clock, own report row), but instead of a post each they appear as compact lines in the storm
thread, many to a message, so the channel stays readable and Slack's one-message-a-second pace holds.
A staff reply in the storm thread asks for confirmation (how many people it reaches); once confirmed, it goes
to exactly those members as a reply starting with the customer's @handle (flows/broadcast.py).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.adapters.slack import (
    STORM_EVENT,
    STORM_LINES_EVENT,
    storm_confirm_blocks,
    storm_header_blocks,
    storm_lines,
)
from bot.adapters.slack_syntax import mention
from bot.context import Context
from bot.domain.storms import StormEvent, StormState
from bot.domain.storms import transition as storm_transition
from bot.domain.text import is_internal_note, slack_to_plain, tweet_length
from bot.domain.threads import ThreadRef
from bot.domain.tickets import Event, State, Ticket, transition
from bot.flows import people, timers
from bot.flows.broadcast import (
    broadcast,
    broadcast_text,
    cancel,
    confirm,
    may_control,
    nth_tweets,
    refuse,
    stop,
)
from bot.flows.people import may_answer
from bot.messages import t

__all__ = ["broadcast", "broadcast_text", "cancel", "confirm", "declare", "declare_by", "detect", "end", "end_by",
           "on_reply", "post_members", "stop", "sweep"]

log = logging.getLogger(__name__)

LINES_PER_MESSAGE = 40  # mentions per thread message: 500 mentions are 13 messages, not 500


def _dept_key(ticket: Ticket) -> str:
    return ticket.department or "triage"


def detect(ctx: Context, tickets: Sequence[Ticket], now: datetime) -> int:
    """New tickets of a page: those whose department is (or now goes) into a storm join it."""
    cfg = ctx.routing.storm
    if cfg is None or not tickets:
        return 0
    joined = 0
    by_dept: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        by_dept[_dept_key(ticket)].append(ticket)
    for dept, items in by_dept.items():
        stamps = {x.tweet_id: x.created_at.timestamp() for x in items}
        in_window = ctx.store.storm_rate(dept, stamps, (now - cfg.window).timestamp())
        storm_id = ctx.store.active_storm(dept)
        if storm_id is None and in_window > cfg.threshold:
            storm_id = declare(ctx, dept, topic(items), now)
        if storm_id:
            ctx.store.join_storm(storm_id, stamps, now.timestamp())
            joined += len(items)
    return joined


def topic(tickets: Sequence[Ticket]) -> str:
    words = Counter(k for x in tickets for k in x.keywords)
    return ", ".join(k for k, _ in words.most_common(2))


def declare(ctx: Context, dept: str, about: str, now: datetime, by: str = "") -> str:
    """Start a storm for a department (or join the running one); returns its id."""
    department = ctx.routing.department_or_none(dept)
    channel = ctx.routing.channel_for(department)
    storm_id = f"{dept}-{int(now.timestamp())}"
    active = ctx.store.start_storm(storm_id, dept, channel, about, now.timestamp())
    if active == storm_id:
        log.warning("storm declared for %s (%s)%s", dept, about, f" by {by}" if by else "")
        ctx.store.count("events", "storms")
    return active


def _header(ctx: Context, storm: dict[str, str], count: int) -> tuple[str, list[dict[str, Any]]]:
    return storm_header_blocks(ctx.locale, storm["id"], ctx.department_name(storm["dept"]),
                               storm.get("topic", ""), count, ended=storm.get("state") == StormState.ENDED)


def post_members(ctx: Context, storm_id: str, tickets: Sequence[Ticket], now: datetime) -> int:
    """Show new members in the storm thread (the header first, once), and record them as posted."""
    storm = ctx.store.storm(storm_id)
    channel = storm["channel"]
    members = ctx.store.storm_members(storm_id)
    if not storm.get("header_ts"):
        header_ts = None
        if storm.get("header_tried"):  # a worker may have died after Slack took the header: look first
            header_ts = ctx.slack.find_message(channel, STORM_EVENT, "storm", storm_id,
                                               float(storm["header_tried"]) - 60)
        if header_ts is None:
            ctx.store.update_storm(storm_id, header_tried=f"{time.time():.3f}")  # compared with Slack ts
            text, blocks = _header(ctx, storm, len(members))
            meta = {"event_type": STORM_EVENT, "event_payload": {"storm": storm_id}}
            header_ts = ctx.slack.post(channel, text, blocks, metadata=meta)
        ctx.store.update_storm(storm_id, header_ts=header_ts)
        ctx.store.link_thread(channel, header_ts, ThreadRef.storm(storm_id))
        storm["header_ts"] = header_ts
    header_ts = storm["header_ts"]
    shown: set[str] = set()
    if storm.get("lines_tried"):  # an earlier attempt may have died after Slack took lines: who is shown?
        shown = {i for _, payload in ctx.slack.thread_metadata(channel, header_ts, STORM_LINES_EVENT)
                 for i in str(payload.get("tweet_ids", "")).split(",")}
    ctx.store.update_storm(storm_id, lines_tried="1")
    for start in range(0, len(tickets), LINES_PER_MESSAGE):
        batch = tickets[start:start + LINES_PER_MESSAGE]
        new = [x for x in batch if x.tweet_id not in shown]
        if new:
            meta = {"event_type": STORM_LINES_EVENT,
                    "event_payload": {"tweet_ids": ",".join(x.tweet_id for x in new)}}
            ctx.slack.post(channel, storm_lines(new), thread_ts=header_ts, metadata=meta)
        posted = [transition(x, Event.POSTED, now, channel=channel, ts=header_ts) for x in batch]
        with ctx.queue.transaction() as tx:  # their first SLA timers and the record, one MULTI
            for x in posted:
                timers.on_posted(ctx, x, now, tx)
            ctx.store.mark_storm_posted(posted, tx)
    ctx.store.update_storm(storm_id, lines_tried="")  # all recorded: the next flush need not look
    text, blocks = _header(ctx, storm, len(members))
    ctx.slack.update(channel, header_ts, text, blocks)
    return len(tickets)


def on_reply(ctx: Context, storm_id: str, channel: str, thread_ts: str, ts: str, user: str, text: str,
             now: datetime) -> str:
    """A reply in a storm thread: checked, then held for an explicit confirmation."""
    if is_internal_note(text, ctx.routing.relay.note_prefix):
        return "note"
    storm = ctx.store.storm(storm_id)
    if not may_answer(ctx, storm["dept"], channel, user):
        ctx.slack.ephemeral(channel, user, t(ctx.locale, "not_staff", department=storm["dept"],
                                             prefix=ctx.routing.relay.note_prefix), thread_ts=thread_ts)
        return "not-staff"
    plain = slack_to_plain(text)
    members = ctx.store.tickets(ctx.store.storm_members(storm_id))
    waiting = [m for m in members if m.first_response_at is None and m.state is not State.CLOSED]
    longest = max((len(m.author.username) for m in waiting), default=15)
    repeats = max(nth_tweets(members).values(), default=1)
    length = tweet_length(broadcast_text("x" * longest, plain, repeats))
    if not plain.strip() or not length.valid:
        # Measured as the longest reply will be: the longest member's @handle in front, and the number that
        # tells apart the replies to one customer's several tweets.
        problem = t(ctx.locale, "empty") if not plain.strip() else t(
            ctx.locale, "too_long", weighted=length.weighted, limit=length.limit, over=length.over_by)
        ctx.slack.post(channel, problem, thread_ts=thread_ts)
        return "refused"
    key = f"{storm_id}:{ts}"
    if not ctx.store.add_broadcast(key, {"storm": storm_id, "text": plain, "user": user, "channel": channel,
                                         "thread_ts": thread_ts, "created": now.timestamp()},
                                   [m.tweet_id for m in waiting]):
        return "duplicate"
    text_, blocks = storm_confirm_blocks(ctx.locale, key, plain, len(waiting))
    ctx.slack.post(channel, text_, blocks, thread_ts=thread_ts)
    return "confirm"


def end_by(ctx: Context, storm_id: str, user: str, now: datetime,
           tell: Callable[[str], None] | None = None) -> str:
    """The End storm button: checked like every other button."""
    storm = ctx.store.storm(storm_id)
    if not storm:
        return "not-active"
    if not may_control(ctx, storm["dept"], storm["channel"], user):
        return refuse(ctx, storm["channel"], storm.get("header_ts", ""), user, storm["dept"], tell)
    return "ended" if end(ctx, storm_id, now, by=user) else "not-active"


def declare_by(ctx: Context, dept: str, about: str, user: str, now: datetime) -> str | None:
    """`/escalate storm` in the job: the operators check again here, where user groups are asked of Slack."""
    if not people.is_operator(ctx, user):
        return None
    return declare(ctx, dept, about, now, by=user)


def operators_only(ctx: Context) -> str:
    return t(ctx.locale, "escalate_operators_only", who=people.operator_mentions(ctx))


def end(ctx: Context, storm_id: str, now: datetime, by: str = "") -> bool:
    storm = ctx.store.storm(storm_id)
    if not storm or not ctx.store.end_storm(storm_id, storm["dept"], now.timestamp()):
        return False
    storm["state"] = storm_transition(StormState(storm.get("state") or StormState.ACTIVE), StormEvent.ENDED).value
    if storm.get("header_ts"):
        text, blocks = _header(ctx, storm, len(ctx.store.storm_members(storm_id)))
        ctx.slack.update(storm["channel"], storm["header_ts"], text, blocks)
        ctx.slack.post(storm["channel"], t(ctx.locale, "storm_ended", by=mention(by) if by else "—"),
                       thread_ts=storm["header_ts"])
    return True


def sweep(ctx: Context, now: datetime) -> int:
    """End quiet storms; resume broadcasts whose worker died."""
    cfg = ctx.routing.storm
    ended = 0
    for storm_id in ctx.store.active_storms():
        storm = ctx.store.storm(storm_id)
        if cfg and storm and now.timestamp() - float(storm.get("last_at") or 0) > cfg.quiet.total_seconds():
            ended += end(ctx, storm_id, now)
    for key in ctx.store.broadcasts_sending():
        broadcast(ctx, key, now)
    return ended
