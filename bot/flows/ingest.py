"""A mention becomes a ticket and one Slack post; a customer's reply lands in its ticket's thread."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.adapters.jobqueue import POST_LANE
from bot.adapters.slack import FOLLOWUP_EVENT, TICKET_EVENT, SlackError, SlackRateLimited
from bot.adapters.slack_syntax import channel_link, quoted, tweet_url
from bot.adapters.x import XError, XUnavailable, XUsageCapped
from bot.context import Context
from bot.domain.text import escape_slack
from bot.domain.tickets import Event, Mention, State, Ticket, transition
from bot.domain.xlimits import next_poll_at
from bot.errors import SettingsError
from bot.flows import storm, timers, xusage
from bot.flows.ticket_message import render, show
from bot.messages import t

log = logging.getLogger(__name__)

BACKFILL = timedelta(hours=24)  # a first poll (no cursor yet) looks back this far, no further
POLL_LEASE_S = 60  # longer than a poll takes; a dead worker's poll blocks the next ones for at most this
POST_LEASE_S = 30  # longer than one post takes (a 429 is never waited out under it); a dead worker's item waits this
UNPOSTABLE = {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"}


def make_ticket(ctx: Context, m: Mention, now: datetime, account: str | None = None) -> Ticket:
    """The ticket of a mention; `account` (an id) is the account whose poll found it (None: the first)."""
    acc = choose_account(ctx, m, account)
    route = ctx.routing.route(m.text, acc)
    due = ctx.clock.due_at(route.policy, m.created_at)
    return Ticket(
        tweet_id=m.id, text=m.text, author=m.author, created_at=m.created_at, opened_at=m.created_at,
        policy=route.policy.name, due_at=due, first_due_at=due,
        department=route.department.id if route.department else None, fast_track=route.fast_track,
        keywords=route.keywords, conversation_id=m.conversation_id or m.id, clock_start=m.created_at,
        account=ctx.routing.account_key(acc) or None,
    )


def choose_account(ctx: Context, m: Mention, polled: str | None = None) -> str | None:
    """Which of our accounts a tweet is for. One tweet is one ticket, whichever account's poll finds it first:
    of the accounts it @mentions (in its order), the first whose departments take the route, else the first
    mentioned; one it does not mention (an /escalate), the polling account, else the first one."""
    if not ctx.routing.multi_account:
        return polled
    ours = {}
    for acc in ctx.routing.accounts:
        try:
            user_id, username = ctx.account(acc.id)
        except (SettingsError, XError, XUnavailable):  # not resolvable now: what routing.yaml says of it still counts
            log.warning("account %s could not be resolved; matching it by its routing.yaml name only", acc.id)
            user_id, username = acc.user_id or "", acc.username or ""
        for key in (user_id, username.lower(), acc.user_id or "", (acc.username or "").lower()):
            if key:
                ours[key] = acc
    mentioned = list(dict.fromkeys(ours[k] for k in m.mentioned if k in ours))
    if not mentioned:
        return polled
    department = ctx.routing.route(m.text).department
    for acc in mentioned:
        if department is not None and (acc.departments is None or department.id in acc.departments):
            return acc.id
    return mentioned[0].id


def store_mentions(ctx: Context, mentions: list[Mention], now: datetime, account: str | None = None
                   ) -> tuple[int, int]:
    """Store one page: new tickets and follow-ups, each queued for Slack. Returns (tickets, follow-ups)."""
    known = ctx.store.tickets_for_conversations(
        [i for m in mentions for i in (m.in_reply_to, m.conversation_id) if i])
    fresh, followups = [], []
    for m in mentions:
        parent = known.get(m.in_reply_to or "") or known.get(m.conversation_id or "")
        if parent and parent != m.id:
            followups.append((m, parent))
        else:
            fresh.append(make_ticket(ctx, m, now, account))
    created = ctx.store.create_tickets(fresh, now.timestamp())
    storm.detect(ctx, [x for x, new in zip(fresh, created, strict=True) if new], now)
    added = ctx.store.add_followups(followups, now.timestamp())
    return sum(created), sum(added)


def poll(ctx: Context, now: datetime, account: str | None = None) -> int:
    """Read every account's new mention pages (or one account's) and store them; returns how many were new."""
    if account is None and ctx.routing.multi_account:
        return sum(poll(ctx, now, acc.id) for acc in ctx.routing.accounts)
    key = ctx.routing.account_key(account)
    if now.timestamp() < ctx.store.poll_paused_until(key):
        return 0
    if not ctx.store.lease(f"poll:{key}" if key else "poll", POLL_LEASE_S):
        log.info("another poll is running; skipping this one")
        return 0
    try:
        count = _read_mentions(ctx, now, account)
    except XUsageCapped as exc:
        # The month's reads are used up: nothing to gain before credits or the next cycle. Tried again every
        # 15 minutes; triage hears it once, and again once it lifts.
        ctx.store.pause_polling(now.timestamp() + xusage.CAP_RETRY_S, key)
        ctx.store.count("failures", "x_usage_capped")
        log.warning("X usage cap reached; polling paused for %d s: %s", xusage.CAP_RETRY_S, exc)
        xusage.capped(ctx, str(exc))
        return 0
    except XUnavailable as exc:
        _back_off(ctx, now, exc, account=account)
        return 0
    except (XError, SettingsError) as exc:
        # 401/403: bad credentials, a suspended app or an exhausted access tier; or a further account's
        # credentials are not set (cron refuses to start so, but a worker may run without them). Hammering won't
        # fix it; the other accounts poll on.
        _back_off(ctx, now, exc, minimum=900, account=account)
        return 0
    finally:
        ctx.store.release(f"poll:{key}" if key else "poll")
    ctx.store.poll_ok(key)
    xusage.lifted(ctx)
    return count


def poll_if_due(ctx: Context, now: datetime) -> bool:
    """Adaptive polling (X_POLL_SECONDS unset), called every cron tick: poll each account when its schedule says
    it is time, then set its next time from the mentions window X just reported, keeping a third of it for other
    reads. Returns whether any account polled (the caller then flushes the outbox)."""
    polled = False
    for acc in ctx.routing.accounts:
        key = ctx.routing.account_key(acc.id)
        if not ctx.store.take_poll_turn(now.timestamp(), account=key):
            continue
        polled = True
        try:
            poll(ctx, now, acc.id)
        finally:
            at = next_poll_at(ctx.x_for(acc.id).window("mentions"), now.timestamp())
            ctx.store.set_next_poll(max(at, ctx.store.poll_paused_until(key)), key)
    return polled


def _read_mentions(ctx: Context, now: datetime, account: str | None = None) -> int:
    key = ctx.routing.account_key(account)
    user_id, _ = ctx.account(account)
    since = ctx.store.since_id(key)
    newest: str | None = None
    count = 0
    for page in ctx.x_for(account).mention_pages(user_id, since):
        newest = newest or page.newest_id
        recent = [m for m in page.mentions if since or now - m.created_at <= BACKFILL]
        tickets, followups = store_mentions(ctx, recent, now, account)
        count += tickets + followups
        if len(recent) < len(page.mentions):
            break  # first run: older mentions are history, not work
    if newest:
        ctx.store.set_since_id(newest, key)
    if count:
        log.info("stored %d new mention(s)%s", count, f" for account {key}" if key else "")
    return count


def _back_off(ctx: Context, now: datetime, exc: Exception, minimum: float = 0, account: str | None = None) -> None:
    """Pause polling: until X's rate-limit reset, else 15 s doubling to 15 min. Triage hears it once."""
    key = ctx.routing.account_key(account)
    failures = ctx.store.poll_failures(key)
    reset = getattr(exc, "reset_at", None)
    delay = max(minimum, (reset - now.timestamp() + 1) if reset else min(15 * 2 ** failures, 900))
    until = now.timestamp() + delay
    ctx.store.pause_polling(until, key)
    ctx.store.count("failures", f"x_poll_{type(exc).__name__}")
    log.warning("polling X paused for %.0f s%s: %s", delay, f" (account {key})" if key else "", exc)
    if ctx.store.once(f"poll-paused:{type(exc).__name__}" + (f":{key}" if key else ""), ttl=3600):
        when = datetime.fromtimestamp(until, ctx.routing.timezone).strftime("%H:%M:%S")
        detail = (f"{key}: " if key else "") + str(exc)  # which account, once there are several
        try:
            ctx.slack.post(ctx.routing.channel_for(None, account), t(ctx.locale, "poll_paused", until=when,
                                                                      detail=escape_slack(detail)))
        except SlackError as slack_exc:
            log.error("could not tell triage that polling is paused: %s", slack_exc)


def flush_outbox(ctx: Context, now: datetime, limit: int = 500) -> int:
    """Post every stored-but-unposted ticket and follow-up to Slack, each exactly once, at Slack's pace.

    Tickets join their channel's lane (in outbox order) and every lane is run (run_lane): what the channel's
    pace allows now is posted here, the rest by the lane's runner, scheduled for the moment the channel frees.
    Nothing waits for Slack inside a job, and one channel's backlog (or its Retry-After) holds up only its own
    tickets. Follow-ups go after the tickets (their parent may be in this batch); storm members are shown
    together in their storm's thread. Returns how many were posted here."""
    members = ctx.store.pending_posts(limit)
    ids = [m for m in members if not m.startswith("fu:")]
    fresh = [m for m, laned in zip(ids, ctx.lanes.laned(ids), strict=True) if not laned]
    loaded = {x.tweet_id: x for x in ctx.store.tickets(fresh)}
    in_storm: dict[str, str] = {}
    lanes: dict[str, list[tuple[str, float]]] = {}
    order = ctx.lanes.now()
    for n, member in enumerate(fresh):
        ticket = loaded.get(member)
        if ticket is None or ticket.message_ts:
            ctx.store.done_posting(member)  # gone (retention) or posted: nothing to post
        elif ticket.storm:
            in_storm[member] = ticket.storm
        else:
            lanes.setdefault(_channel(ctx, ticket), []).append((member, order + n * 1e-6))
    for channel, items in lanes.items():
        ctx.lanes.add(channel, items)
    channels = ctx.lanes.channels()
    if len(channels) <= 1:
        posted = sum(run_lane(ctx, channel, now) for channel in channels)
    else:  # each lane's posts are its own: a slow answer in one channel does not hold up the others
        with ThreadPoolExecutor(max_workers=min(LANES, len(channels)), thread_name_prefix="post-lane") as pool:
            posted = sum(pool.map(lambda channel: run_lane(ctx, channel, now), channels))
    for member in (m for m in members if m.startswith("fu:")):
        if ctx.store.claim_posts([member], POST_LEASE_S)[0]:  # else another worker has it, or posted it
            posted += _post_followup_claimed(ctx, now, member)
    for storm_id in dict.fromkeys(in_storm.values()):
        posted += _flush_storm(ctx, storm_id, [i for i, s in in_storm.items() if s == storm_id], now)
    return posted


LANES = 20  # lanes one flush runs at once (each then runs on its own, scheduled for its next slot)
LANE_LEASE_S = 20  # a lane's runner holds it this long past its next run: a dead worker's lane waits this
LANE_BATCH = 500  # most posts one run makes before it hands the lane to a fresh job (only without a pace)


def run_lane(ctx: Context, channel: str, now: datetime, token: str = "") -> int:
    """Post a channel's lane in order while the channel's slot is free now; then schedule the lane's next run
    for the moment it frees (holding the lane meanwhile), or let the lane go once it is empty.

    `token` is the lane's lease as its scheduled run holds it; without one the lane is taken only if free
    (a flush: nobody runs it, or its runner died). Returns how many tickets were posted."""
    mine = token or uuid.uuid4().hex
    if not ctx.lanes.lease(channel, mine, LANE_LEASE_S, expected=token):
        return 0  # its runner is posting it, or is scheduled for the channel's next slot
    posted, at = 0, None
    try:
        for _ in range(LANE_BATCH):
            member = ctx.lanes.head(channel)
            if member is None:
                break
            free, when = ctx.lanes.take_if_free(channel)
            if not free:
                at = when
                break
            outcome = _post_head(ctx, channel, member, now)
            if isinstance(outcome, float):
                at = outcome
                break
            posted += outcome
            ctx.lanes.lease(channel, mine, LANE_LEASE_S, expected=mine)
        else:
            at = ctx.lanes.now()
        if at is None:
            ctx.lanes.settle(channel)
            ctx.lanes.release(channel, mine)
            return posted
        wait = max(0.0, at - ctx.lanes.now())
        ctx.lanes.lease(channel, mine, wait + LANE_LEASE_S, expected=mine)
        ctx.queue.enqueue_at(datetime.fromtimestamp(at, UTC), POST_LANE, channel, mine,
                             job_id=f"lane-{uuid.uuid4().hex}")
    except Exception:
        ctx.lanes.release(channel, mine)  # the next flush takes the lane over
        raise
    return posted


def _post_head(ctx: Context, channel: str, member: str, now: datetime) -> int | float:
    """Post the lane's first item: 1 if posted, 0 if it left the lane, or the moment to try it again."""
    if not ctx.store.claim_posts([member], POST_LEASE_S)[0]:
        if ctx.store.outbox_since(member) is None:
            ctx.lanes.drop(channel, member)  # posted meanwhile
            return 0
        return ctx.lanes.now() + 1.0  # another worker is posting it right now: look again in a second
    ticket, attempt = ctx.store.tickets_to_post([member])[member]
    try:
        n = post_ticket(ctx, member, now, ticket, attempt)
    except SlackRateLimited as exc:
        # Not posted: the claim goes, the ticket keeps its place, the lane comes back when Slack says.
        log.info("Slack paces %s: ticket %s waits until %.1f", channel, member, exc.retry_at)
        ctx.store.release("post:" + member)
        return exc.retry_at
    except SlackError as exc:
        # Kept in the outbox: the next flush (a poll or the sweeper) puts it in its lane again, looking first.
        log.error("Slack post of %s failed, will retry: %s", member, exc)
        ctx.store.count("failures", "slack_post")
        ctx.store.release("post:" + member)
        ctx.lanes.drop(channel, member)
        return 0
    if not n:
        ctx.store.release("post:" + member)
    ctx.lanes.drop(channel, member)
    return n


def _post_followup_claimed(ctx: Context, now: datetime, member: str) -> int:
    """Post one claimed follow-up; a Slack failure leaves it for the next flush. Returns 1 if posted."""
    try:
        n = post_followup(ctx, member[3:], now)
        if not n:
            ctx.store.release("post:" + member)  # nothing posted (yet): free it for the next flush
        return n
    except SlackError as exc:
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
    dept = ctx.routing.department_or_none(ticket.department)
    return ctx.routing.channel_for(dept, ticket.account)


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
        try:
            ts = ctx.slack.find_ticket_message(channel, tweet_id, since)
        except SlackError as exc:
            if exc.error not in UNPOSTABLE:
                raise  # else nothing of ours can be there: the post below says what Slack thinks of it
    if ts is None:
        text, blocks = render(ctx, replace(ticket, state=State.OPEN))
        meta = {"event_type": TICKET_EVENT, "event_payload": {"tweet_id": tweet_id}}
        try:
            ts = ctx.slack.post(channel, text, blocks, metadata=meta, paced=False)  # its lane took the slot
        except SlackError as exc:
            if exc.error not in UNPOSTABLE or channel == ctx.routing.triage_channel:
                raise
            log.error("cannot post to %s (%s); ticket %s goes to triage", channel, exc.error, tweet_id)
            channel = ctx.routing.triage_channel
            warn = f"⚠️ {channel_link(_channel(ctx, ticket))}: {exc.error}"
            ts = ctx.slack.post(channel, f"{warn}\n{text}", blocks, metadata=meta)
    ticket = transition(ticket, Event.POSTED, now, channel=channel, ts=ts)
    with ctx.queue.transaction() as tx:  # the first SLA timer and the record, one MULTI
        timers.on_posted(ctx, ticket, now, tx)
        ctx.store.mark_posted(ticket, tx)
    ctx.store.durable()  # the record of the Slack post and its first timer must outlive a failover
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
        body = quoted(fu.get("text", ""))
        ctx.slack.post(parent.channel, t(ctx.locale, "followup", username=escape_slack(fu.get("username", "")),
                                         text=body, url=tweet_url(fu.get("username", ""), tweet_id)),
                       thread_ts=parent.message_ts, metadata=meta)
    policy = ctx.routing.policy(parent.policy)
    due = ctx.clock.next_response_due(policy, now) if policy.next_response else None
    reopened = transition(parent, Event.FOLLOWUP, now, due_at=due)
    if reopened != parent:
        timers.on_reopened(ctx, reopened, now)
        ctx.store.save(reopened)
        show(ctx, reopened)  # the message shows it open again
    ctx.store.done_posting("fu:" + tweet_id)
    return 1
