"""A mention becomes a ticket and one Slack post; a customer's reply lands in its ticket's thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from bot.adapters.slack import FOLLOWUP_EVENT, TICKET_EVENT, SlackError, ticket_blocks, tweet_url
from bot.adapters.x import XError, XUnavailable
from bot.context import Context
from bot.domain.text import escape_slack
from bot.domain.tickets import Event, Mention, State, Ticket, transition
from bot.flows import storm, timers
from bot.messages import t

log = logging.getLogger(__name__)

BACKFILL = timedelta(hours=24)  # a first poll (no cursor yet) looks back this far, no further
POLL_LEASE_S = 60  # longer than a poll takes; a dead worker's poll blocks the next ones for at most this
POST_LEASE_S = 30  # longer than a claim batch takes to post, rate-limit waits included; a dead worker's items wait this
UNPOSTABLE = {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"}


def make_ticket(ctx: Context, m: Mention, now: datetime) -> Ticket:
    route = ctx.routing.route(m.text)
    due = ctx.clock.due_at(route.policy, m.created_at)
    return Ticket(
        tweet_id=m.id, text=m.text, author=m.author, created_at=m.created_at, opened_at=m.created_at,
        policy=route.policy.name, due_at=due, first_due_at=due,
        department=route.department.id if route.department else None, fast_track=route.fast_track,
        keywords=route.keywords, conversation_id=m.conversation_id or m.id, clock_start=m.created_at,
    )


def store_mentions(ctx: Context, mentions: list[Mention], now: datetime) -> tuple[int, int]:
    """Store one page: new tickets and follow-ups, each queued for Slack. Returns (tickets, follow-ups)."""
    known = ctx.store.tickets_for_conversations(
        [i for m in mentions for i in (m.in_reply_to, m.conversation_id) if i])
    fresh, followups = [], []
    for m in mentions:
        parent = known.get(m.in_reply_to or "") or known.get(m.conversation_id or "")
        if parent and parent != m.id:
            followups.append((m, parent))
        else:
            fresh.append(make_ticket(ctx, m, now))
    created = ctx.store.create_tickets(fresh, now.timestamp())
    storm.detect(ctx, [x for x, new in zip(fresh, created, strict=True) if new], now)
    added = ctx.store.add_followups(followups, now.timestamp())
    return sum(created), sum(added)


def poll(ctx: Context, now: datetime) -> int:
    """Read every new mention page and store it; the cursor moves only once all pages are stored."""
    if now.timestamp() < ctx.store.poll_paused_until():
        return 0
    if not ctx.store.lease("poll", POLL_LEASE_S):
        log.info("another poll is running; skipping this one")
        return 0
    try:
        count = _read_mentions(ctx, now)
    except XUnavailable as exc:
        _back_off(ctx, now, exc)
        return 0
    except XError as exc:
        # 401/403: bad credentials, a suspended app or an exhausted access tier. Hammering won't fix it.
        _back_off(ctx, now, exc, minimum=900)
        return 0
    finally:
        ctx.store.release("poll")
    ctx.store.poll_ok()
    return count


def _read_mentions(ctx: Context, now: datetime) -> int:
    user_id, _ = ctx.account()
    since = ctx.store.since_id()
    newest: str | None = None
    count = 0
    for page in ctx.x.mention_pages(user_id, since):
        newest = newest or page.newest_id
        recent = [m for m in page.mentions if since or now - m.created_at <= BACKFILL]
        tickets, followups = store_mentions(ctx, recent, now)
        count += tickets + followups
        if len(recent) < len(page.mentions):
            break  # first run: older mentions are history, not work
    if newest:
        ctx.store.set_since_id(newest)
    if count:
        log.info("stored %d new mention(s)", count)
    return count


def _back_off(ctx: Context, now: datetime, exc: Exception, minimum: float = 0) -> None:
    """Pause polling: until X's rate-limit reset, else 15 s doubling to 15 min. Triage hears it once."""
    failures = ctx.store.poll_failures()
    reset = getattr(exc, "reset_at", None)
    delay = max(minimum, (reset - now.timestamp() + 1) if reset else min(15 * 2 ** failures, 900))
    until = now.timestamp() + delay
    ctx.store.pause_polling(until)
    ctx.store.count("failures", f"x_poll_{type(exc).__name__}")
    log.warning("polling X paused for %.0f s: %s", delay, exc)
    if ctx.store.once(f"poll-paused:{type(exc).__name__}", ttl=3600):
        when = datetime.fromtimestamp(until, ctx.routing.timezone).strftime("%H:%M:%S")
        try:
            ctx.slack.post(ctx.routing.triage_channel, t(ctx.locale, "poll_paused", until=when,
                                                           detail=escape_slack(str(exc))))
        except SlackError as slack_exc:
            log.error("could not tell triage that polling is paused: %s", slack_exc)


def flush_outbox(ctx: Context, now: datetime, limit: int = 500) -> int:
    """Post every stored-but-unposted ticket and follow-up to Slack, each exactly once.

    The batch is read in one round trip; each item is then claimed (a short lease that also re-checks it is
    still unposted), so several workers can flush at once and a dead worker's items wait POST_LEASE_S.
    Tickets are posted one lane per channel, up to LANES channels at once, in order within a channel: Slack
    limits posting per channel, so one channel's rate-limit wait (or a slow answer) holds up only its own
    tickets. Follow-ups go after the tickets (their parent may be in this batch)."""
    posted = 0
    while True:
        members = ctx.store.pending_posts(limit)
        loaded = ctx.store.tickets_to_post([m for m in members if not m.startswith("fu:")])
        in_storm = {i: x.storm for i, (x, _) in loaded.items() if x is not None and x.storm and not x.message_ts}
        lanes: dict[str, list[str]] = {}
        followups = []
        for member in members:
            if member.startswith("fu:"):
                followups.append(member)
            elif member not in in_storm:  # storm members are shown together in their storm's thread, below
                ticket = loaded[member][0]
                lanes.setdefault(_channel(ctx, ticket) if ticket else "", []).append(member)
        done = sum(_in_lanes(list(lanes.values()), partial(_post_lane, ctx, now, loaded)))
        done += _post_lane(ctx, now, loaded, followups)
        for storm_id in dict.fromkeys(in_storm.values()):
            done += _flush_storm(ctx, storm_id or "", [i for i, s in in_storm.items() if s == storm_id], now)
        posted += done
        if len(members) < limit or not done:
            return posted  # the outbox is empty (or holds only what Slack refuses for now)


LANES = 4  # channels posted to at once by one flush
CLAIM_BATCH = 5  # outbox items claimed in one round trip: few, so a claim's lease outlasts its turn in the lane


def _in_lanes(lanes: list[list[str]], post_lane: Callable[[list[str]], int]) -> list[int]:
    """Run `post_lane` on each lane, LANES lanes at a time (inline when there is one)."""
    if len(lanes) <= 1:
        return [post_lane(lane) for lane in lanes]
    with ThreadPoolExecutor(max_workers=min(LANES, len(lanes)), thread_name_prefix="post-lane") as pool:
        return list(pool.map(post_lane, lanes))


def _post_lane(ctx: Context, now: datetime, loaded: dict[str, tuple[Ticket | None, int]], lane: list[str]) -> int:
    """Post a lane's items in order, claiming CLAIM_BATCH at a time. Returns how many were posted."""
    done = 0
    for start in range(0, len(lane), CLAIM_BATCH):
        chunk = lane[start:start + CLAIM_BATCH]
        for member, mine in zip(chunk, ctx.store.claim_posts(chunk, POST_LEASE_S), strict=True):
            if mine:  # else another worker has it, or already posted it
                done += _post_claimed(ctx, now, loaded, member)
    return done


def _post_claimed(ctx: Context, now: datetime, loaded: dict[str, tuple[Ticket | None, int]], member: str) -> int:
    """Post one claimed outbox item; a Slack failure leaves it for the next flush. Returns 1 if posted."""
    try:
        if member.startswith("fu:"):
            n = post_followup(ctx, member[3:], now)
        else:
            n = post_ticket(ctx, member, now, *loaded[member])
        if not n:
            ctx.store.release("post:" + member)  # nothing posted (yet): free it for the next flush
        return n
    except SlackError as exc:
        # Kept in the outbox: the next flush (a poll or the sweeper) tries again, looking first.
        log.error("Slack post of %s failed, will retry: %s", member, exc)
        ctx.store.count("failures", "slack_post")
        ctx.store.release("post:" + member)
        return 0


def _flush_storm(ctx: Context, storm_id: str, ids: list[str], now: datetime) -> int:
    if not ctx.store.lease("post-storm:" + storm_id, POST_LEASE_S):
        return 0
    try:  # read again under the lease: another worker may have shown them
        fresh = [x for x in ctx.store.tickets(ids) if not x.message_ts]
        return storm.post_members(ctx, storm_id, fresh, now) if fresh else 0
    except SlackError as exc:
        log.error("Slack post for storm %s failed, will retry: %s", storm_id, exc)
        ctx.store.count("failures", "slack_post")
        return 0
    finally:
        ctx.store.release("post-storm:" + storm_id)


def _channel(ctx: Context, ticket: Ticket) -> str:
    dept = ctx.routing.department(ticket.department) if ticket.department else None
    return ctx.routing.channel_for(dept)


def render(ctx: Context, ticket: Ticket) -> tuple[str, list[dict]]:
    return ticket_blocks(ticket, ctx.department_name(ticket.department), ctx.routing.timezone, ctx.locale,
                         departments=[(d.id, d.name) for d in ctx.routing.departments])


def post_ticket(ctx: Context, tweet_id: str, now: datetime, ticket: Ticket | None, attempt: int) -> int:
    """Post one ticket; `attempt` above 1 means look in the channel first (a worker may have died)."""
    if ticket is None or ticket.message_ts:
        ctx.store.done_posting(tweet_id)
        return 0
    channel = _channel(ctx, ticket)
    ts = None
    if attempt > 1:
        # A worker may have died after Slack took the post: look before posting again.
        since = (ctx.store.outbox_since(tweet_id) or now.timestamp()) - 60
        ts = ctx.slack.find_ticket_message(channel, tweet_id, since)
    if ts is None:
        text, blocks = render(ctx, replace(ticket, state=State.OPEN))
        meta = {"event_type": TICKET_EVENT, "event_payload": {"tweet_id": tweet_id}}
        try:
            ts = ctx.slack.post(channel, text, blocks, metadata=meta)
        except SlackError as exc:
            if exc.error not in UNPOSTABLE or channel == ctx.routing.triage_channel:
                raise
            log.error("cannot post to %s (%s); ticket %s goes to triage", channel, exc.error, tweet_id)
            channel = ctx.routing.triage_channel
            warn = f"⚠️ <#{_channel(ctx, ticket)}>: {exc.error}"
            ts = ctx.slack.post(channel, f"{warn}\n{text}", blocks, metadata=meta)
    ticket = transition(ticket, Event.POSTED, now, channel=channel, ts=ts)
    pipe = ctx.queue.connection.pipeline(transaction=True)  # the first SLA timer and the record, one MULTI
    timers.on_posted(ctx, ticket, now, pipe)
    ctx.store.mark_posted(ticket, pipe)
    pipe.execute()
    return 1


def post_followup(ctx: Context, tweet_id: str, now: datetime) -> int:
    fu = ctx.store.followup(tweet_id)
    parent = ctx.store.ticket(fu.get("parent", "")) if fu else None
    if not fu or parent is None:
        ctx.store.done_posting("fu:" + tweet_id)
        return 0
    if not parent.message_ts or not parent.channel:
        return 0  # its ticket is not in Slack yet; the next flush takes it
    meta = {"event_type": FOLLOWUP_EVENT, "event_payload": {"tweet_id": tweet_id}}
    already = ctx.store.post_attempt("fu:" + tweet_id) > 1 and \
        ctx.slack.find_in_thread(parent.channel, parent.message_ts, FOLLOWUP_EVENT, tweet_id)
    if not already:
        body = escape_slack(fu.get("text", "")).replace("\n", "\n>")
        ctx.slack.post(parent.channel, t(ctx.locale, "followup", username=escape_slack(fu.get("username", "")),
                                         text=body, url=tweet_url(fu.get("username", ""), tweet_id)),
                       thread_ts=parent.message_ts, metadata=meta)
    policy = ctx.routing.policy(parent.policy)
    due = ctx.clock.next_response_due(policy, now) if policy.next_response else None
    reopened = transition(parent, Event.FOLLOWUP, now, due_at=due)
    if reopened != parent:
        timers.on_reopened(ctx, reopened, now)
        ctx.store.save(reopened)
        from bot.flows import buttons  # buttons imports this module

        buttons.show(ctx, reopened)  # the message shows it open again
    ctx.store.done_posting("fu:" + tweet_id)
    return 1
