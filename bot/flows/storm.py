"""Storm mode: a burst of mentions for one department becomes one thread, answered once for everyone.

Detection: more than storm.threshold new mentions for a department within storm.window. Members are still
tickets (own SLA clock, own report row), but instead of a post each they appear as compact lines in the storm
thread, many to a message, so the channel stays readable and Slack's one-message-a-second pace holds.
A staff reply in the storm thread asks for confirmation (how many people it reaches); once confirmed, it goes
to every member as a reply starting with the customer's @handle (X refuses identical texts), paced, each
member sent once, with progress shown in the thread.
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
    storm_progress_blocks,
)
from bot.adapters.x import DuplicateContent, XError, XRateLimited, XUnavailable
from bot.context import Context
from bot.domain.relays import distinct_form
from bot.domain.text import escape_slack, is_internal_note, slack_to_plain, tweet_length
from bot.domain.tickets import Event, State, Ticket, transition
from bot.flows import people, timers
from bot.flows.relay import may_answer
from bot.messages import t

log = logging.getLogger(__name__)

LINES_PER_MESSAGE = 40  # mentions per thread message: 500 mentions are 13 messages, not 500
PROGRESS_EVERY = 25
BROADCAST_LEASE_S = 120
SLICE_S = 10.0  # a broadcast job sends for this long, then continues in a fresh job


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
    department = None if dept == "triage" else ctx.routing.department(dept)
    channel = ctx.routing.channel_for(department)
    storm_id = f"{dept}-{int(now.timestamp())}"
    active = ctx.store.start_storm(storm_id, dept, channel, about, now.timestamp())
    if active == storm_id:
        log.warning("storm declared for %s (%s)%s", dept, about, f" by {by}" if by else "")
        ctx.store.count("events", "storms")
    return active


def _header(ctx: Context, storm: dict[str, str], count: int) -> tuple[str, list[dict[str, Any]]]:
    return storm_header_blocks(ctx.locale, storm["id"], ctx.department_name(storm["dept"]),
                               storm.get("topic", ""), count, ended=storm.get("state") == "ended")


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
        ctx.store.link_thread(channel, header_ts, "storm:" + storm_id)
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
        pipe = ctx.queue.connection.pipeline(transaction=True)  # their first SLA timers and the record, one MULTI
        for x in posted:
            timers.on_posted(ctx, x, now, pipe)
        ctx.store.mark_storm_posted(posted, pipe)
        pipe.execute()
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
    repeats = max(_nth(members).values(), default=1)
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


def may_control(ctx: Context, dept: str, channel: str, user: str) -> bool:
    """Who may send, cancel, stop or end in a storm: whoever may answer for its department, its leads and the
    operators (ids or user groups, resolved like every other check)."""
    if may_answer(ctx, dept, channel, user):
        return True
    department = None if dept == "triage" else ctx.routing.department(dept)
    leads = department.leads if department else ()
    return people.is_among(ctx, user, [*leads, *(ctx.routing.operators or ())])


def _refuse(ctx: Context, channel: str, thread_ts: str, user: str, dept: str,
            tell: Callable[[str], None] | None) -> str:
    text = t(ctx.locale, "storm_not_staff", department=escape_slack(ctx.department_name(dept)))
    if tell is not None:
        tell(text)  # the button's response_url: the clicker may not be in the channel
    else:
        ctx.slack.ephemeral(channel, user, text, thread_ts=thread_ts)
    return "not-staff"


def confirm(ctx: Context, key: str, user: str, now: datetime) -> str:
    bc = ctx.store.broadcast(key)
    if not bc:
        return "gone"
    storm = ctx.store.storm(bc["storm"])
    if user != bc["user"] and not may_answer(ctx, storm["dept"], bc["channel"], user):
        ctx.slack.ephemeral(bc["channel"], user, t(ctx.locale, "storm_not_yours"), thread_ts=bc["thread_ts"])
        return "not-staff"
    if not ctx.store.broadcast_transition(key, "confirm", "sending"):
        return "not-waiting"
    text = t(ctx.locale, "storm_sending", sent=0, total=len(ctx.store.broadcast_members(key)))
    progress = ctx.slack.post(bc["channel"], text, storm_progress_blocks(ctx.locale, key, text, True),
                              thread_ts=bc["thread_ts"])
    ctx.store.set_broadcast(key, progress_ts=progress, confirmed_by=user)
    return broadcast(ctx, key, now)


def cancel(ctx: Context, key: str, user: str, tell: Callable[[str], None] | None = None) -> str:
    bc = ctx.store.broadcast(key)
    if not bc:
        return "gone"
    dept = ctx.store.storm(bc["storm"]).get("dept", "triage")
    if user != bc["user"] and not may_control(ctx, dept, bc["channel"], user):
        return _refuse(ctx, bc["channel"], bc["thread_ts"], user, dept, tell)
    if ctx.store.broadcast_transition(key, "confirm", "cancelled"):
        ctx.slack.post(bc["channel"], t(ctx.locale, "storm_cancelled", user=user), thread_ts=bc["thread_ts"])
        return "cancelled"
    return "not-waiting"


def stop(ctx: Context, key: str, user: str, tell: Callable[[str], None] | None = None) -> str:
    """The Stop button of a running broadcast: no member is sent after this (one in flight finishes)."""
    bc = ctx.store.broadcast(key)
    if not bc:
        return "gone"
    dept = ctx.store.storm(bc["storm"]).get("dept", "triage")
    if user != bc["user"] and not may_control(ctx, dept, bc["channel"], user):
        return _refuse(ctx, bc["channel"], bc["thread_ts"], user, dept, tell)
    if not ctx.store.broadcast_transition(key, "sending", "stopped"):
        return "not-sending"
    ctx.store.set_broadcast(key, stopped_by=user)
    sent = sum(1 for v in ctx.store.broadcast_sent(key).values() if v.startswith("sent"))
    text = t(ctx.locale, "storm_stopped", user=user, sent=sent, total=len(ctx.store.broadcast_members(key)))
    if bc.get("progress_ts"):
        ctx.slack.update(bc["channel"], bc["progress_ts"], text, storm_progress_blocks(ctx.locale, key, text, False))
    else:
        ctx.slack.post(bc["channel"], text, thread_ts=bc["thread_ts"])
    return "stopped"


def broadcast(ctx: Context, key: str, now: datetime) -> str:
    """Send the confirmed reply to every waiting member, once each; resumable after a crash or a 429."""
    if not ctx.store.lease("bc:" + key, BROADCAST_LEASE_S):
        return "busy"
    try:
        return _send_all(ctx, key, now)
    finally:
        ctx.store.release("bc:" + key)


def broadcast_text(username: str, text: str, nth: int = 1) -> str:
    """One storm member's reply: their @handle first, so no two customers get the same text (X refuses a
    repeat as duplicate content); a customer's second and later tweets get "(2)", "(3)"… at the end."""
    return f"@{username} {text}" + (f" ({nth})" if nth > 1 else "")


def _nth(members: list[Ticket]) -> dict[str, int]:
    """Each member's place among its author's tweets in the storm, oldest first: the same in every slice."""
    seen: dict[str, int] = {}
    nth = {}
    for m in sorted(members, key=lambda m: (len(m.tweet_id), m.tweet_id)):
        seen[m.author.username.casefold()] = nth[m.tweet_id] = seen.get(m.author.username.casefold(), 0) + 1
    return nth


def _send_all(ctx: Context, key: str, now: datetime) -> str:
    bc = ctx.store.broadcast(key)
    if bc.get("state") != "sending":
        return "not-sending"
    pace = ctx.routing.storm.pace.total_seconds() if ctx.routing.storm else 1.0
    done = ctx.store.broadcast_sent(key)
    finished = {k for k, v in done.items() if v.startswith(("sent", "failed"))}
    # Exactly the members listed when the reply was offered for confirmation; later mentions wait for the next.
    members = ctx.store.tickets(ctx.store.broadcast_members(key))
    nth = _nth(ctx.store.tickets(ctx.store.storm_members(bc["storm"])))
    todo = [m for m in members
            if m.tweet_id not in finished and m.first_response_at is None and m.state is not State.CLOSED]
    sent = sum(1 for v in done.values() if v.startswith("sent"))
    total = sent + len(todo)
    started = time.monotonic()
    for member in todo:
        if ctx.store.broadcast(key).get("state") != "sending":
            return "stopped"  # the Stop button; its own note shows the count
        if time.monotonic() - started > SLICE_S:
            # Hand the worker back (replies and polls are waiting behind us) and go on in a new job.
            from bot import jobs

            jobs.schedule_broadcast(ctx, key, pace)
            _progress(ctx, bc, key, sent, total)
            return "continuing"
        if pace:  # also across slices and the sweeper's resumptions: the last send is in Redis
            time.sleep(max(0.0, float(bc.get("last_sent") or 0) + pace - time.time()))
        ctx.store.lease_extend("bc:" + key, BROADCAST_LEASE_S)
        tried = done.get(member.tweet_id, "").startswith("sending")  # an earlier attempt may have reached X
        ctx.store.broadcast_mark(key, member.tweet_id, "sending")
        text = broadcast_text(member.author.username, bc["text"], nth.get(member.tweet_id, 1))
        try:
            tweet_id = _reply_once(ctx, member, text, tried)
        except XRateLimited as exc:
            from bot import jobs

            wait = max(1.0, (exc.reset_at or time.time() + 60) - time.time() + 1)
            jobs.schedule_broadcast(ctx, key, wait)
            _progress(ctx, bc, key, sent, total, paused=True)
            return "rate-limited"
        except XUnavailable:
            from bot import jobs

            jobs.schedule_broadcast(ctx, key, 30)
            return "retrying"
        except (XError, DuplicateContent) as exc:
            ctx.store.broadcast_mark(key, member.tweet_id, f"failed:{exc}")
            ctx.store.count("failures", "x_broadcast_refused")
            continue
        bc["last_sent"] = f"{time.time():.3f}"
        stamp = datetime.now(now.tzinfo)
        answered = transition(member, Event.REPLY_SENT, stamp)
        ctx.store.broadcast_sent_to(key, answered, tweet_id, bc["last_sent"])
        timers.on_answered(ctx, answered, stamp)
        sent += 1
        if sent % PROGRESS_EVERY == 0:
            _progress(ctx, bc, key, sent, total)
    if not ctx.store.broadcast_transition(key, "sending", "done"):
        return "stopped"
    failed = sum(1 for v in ctx.store.broadcast_sent(key).values() if v.startswith("failed"))
    _progress(ctx, bc, key, sent, total, done=True, failed=failed)
    return "done"


def _reply_once(ctx: Context, member: Ticket, text: str, tried: bool) -> str:
    """One member's reply, by the relay's rule: X's duplicate answer is "sent" only for a retry whose tweet the
    bot finds; otherwise the same words go out told apart by the ticket's reference."""
    try:
        return ctx.x.reply(text, in_reply_to=member.tweet_id)
    except DuplicateContent:
        if tried:
            found = ctx.x.own_reply(ctx.account()[0], member.tweet_id, text)
            if found:
                return found
        distinct = distinct_form(text, member.tweet_id)
        if not tweet_length(distinct).valid:
            raise
        return ctx.x.reply(distinct, in_reply_to=member.tweet_id)


def _progress(ctx: Context, bc: dict[str, str], key: str, sent: int, total: int, paused: bool = False,
              done: bool = False, failed: int = 0) -> None:
    name = "storm_done" if done else "storm_paused" if paused else "storm_sending"
    text = t(ctx.locale, name, sent=sent, total=total, failed=failed)
    if bc.get("progress_ts"):
        ctx.slack.update(bc["channel"], bc["progress_ts"], text,
                         storm_progress_blocks(ctx.locale, key, text, not done))
    else:
        ctx.slack.post(bc["channel"], text, thread_ts=bc["thread_ts"])


def end_by(ctx: Context, storm_id: str, user: str, now: datetime,
           tell: Callable[[str], None] | None = None) -> str:
    """The End storm button: checked like every other button."""
    storm = ctx.store.storm(storm_id)
    if not storm:
        return "not-active"
    if not may_control(ctx, storm["dept"], storm["channel"], user):
        return _refuse(ctx, storm["channel"], storm.get("header_ts", ""), user, storm["dept"], tell)
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
    storm["state"] = "ended"
    if storm.get("header_ts"):
        text, blocks = _header(ctx, storm, len(ctx.store.storm_members(storm_id)))
        ctx.slack.update(storm["channel"], storm["header_ts"], text, blocks)
        ctx.slack.post(storm["channel"], t(ctx.locale, "storm_ended", by=f"<@{by}>" if by else "—"),
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
