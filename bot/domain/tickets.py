"""A ticket is one customer tweet that needs a department's answer; its states and every transition."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    NEW = "new"  # stored, not yet in Slack
    OPEN = "open"  # in Slack, waiting for an answer
    CLAIMED = "claimed"  # someone said they are on it
    PENDING = "pending_send"  # a reply is in its undo window
    AWAITING = "awaiting_approval"  # a reply waits for a lead's Approve (departments with relay mode approve)
    ANSWERED = "answered"  # a reply reached X
    CLOSED = "closed"  # resolved without a reply


class Event(StrEnum):
    POSTED = "posted"
    CLAIMED = "claimed"
    REPLY_QUEUED = "reply_queued"
    REPLY_CANCELLED = "reply_cancelled"
    REPLY_SENT = "reply_sent"
    FOLLOWUP = "followup"
    RESOLVED = "resolved"
    BREACHED = "breached"
    APPROVAL_ASKED = "approval_asked"  # a reply now waits for a lead
    REPLY_REJECTED = "reply_rejected"  # the lead sent it back to its author
    REASSIGNED = "reassigned"  # moved to another department's channel; clock and history follow


OPEN_STATES = frozenset({State.NEW, State.OPEN, State.CLAIMED, State.PENDING, State.AWAITING})
REPLY_IN_FLIGHT = frozenset({State.PENDING, State.AWAITING})


class InvalidTransition(ValueError):
    """An event that makes no sense in the ticket's state (e.g. a send on a closed ticket)."""


@dataclass(frozen=True)
class Author:
    id: str
    username: str
    name: str = ""
    followers: int = 0


@dataclass(frozen=True)
class Ticket:
    tweet_id: str
    text: str  # the tweet as the customer wrote it (entities already unescaped)
    author: Author
    created_at: datetime  # the tweet's created_at; the SLA clock starts here
    policy: str
    due_at: datetime
    department: str | None = None  # None = triage
    fast_track: bool = False
    keywords: tuple[str, ...] = ()
    conversation_id: str | None = None
    state: State = State.NEW
    channel: str | None = None
    message_ts: str | None = None
    clock_start: datetime | None = None  # start of the running clock (tweet, escalation or follow-up)
    first_response_at: datetime | None = None
    answered_at: datetime | None = None
    breached: bool = False
    claimed_by: str | None = None
    source: str = "x"  # "x" (polled) or "escalate" (made by hand)
    escalated_by: str | None = None
    note: str = ""
    opened_at: datetime | None = None  # start of the first-response clock; never moves (None: created_at)
    first_due_at: datetime | None = None  # the first-response deadline; never moves (None: due_at)
    storm: str | None = None  # the storm this ticket joined: one thread, answered by one broadcast
    unsummoned: bool = False  # the tweet neither @mentions nor quotes the account: self-serve X refuses a reply
    account: str | None = None  # the X account (routing.yaml `accounts:` id) it came in on; None = the first one

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def first_response_s(self) -> float | None:
        if self.first_response_at is None:
            return None
        return (self.first_response_at - (self.clock_origin)).total_seconds()

    @property
    def clock_origin(self) -> datetime:
        """Where the first-response clock started: the tweet, or the escalation for a hand-made ticket."""
        return self.opened_at or self.created_at

    @property
    def first_deadline(self) -> datetime:
        """The first-response deadline, which a follow-up's next_response clock does not move."""
        return self.first_due_at or self.due_at

    def late_by(self, now: datetime) -> float:
        return max(0.0, (now - self.due_at).total_seconds())


def transition(ticket: Ticket, event: Event, now: datetime, **data: object) -> Ticket:
    """Every state change of a ticket happens here, so the rules live in one place."""
    s = ticket.state
    if event is Event.POSTED:
        if s is not State.NEW:
            return ticket  # a second post attempt that found the first one: nothing changes
        return replace(ticket, state=State.OPEN, channel=str(data["channel"]), message_ts=str(data["ts"]))
    if event is Event.CLAIMED:
        if not ticket.is_open:
            raise InvalidTransition(f"ticket {ticket.tweet_id} is {s.value}; it cannot be claimed")
        return replace(ticket, state=s if s in REPLY_IN_FLIGHT else State.CLAIMED,
                       claimed_by=str(data["user"]))
    if event is Event.REPLY_QUEUED:
        # On a closed ticket ("Resolve without reply"), a staff reply re-opens it: they mean to answer.
        return replace(ticket, state=State.PENDING)
    if event in (Event.REPLY_CANCELLED, Event.REPLY_REJECTED):
        if s not in REPLY_IN_FLIGHT:
            return ticket
        back = State.CLAIMED if ticket.claimed_by else State.OPEN
        return replace(ticket, state=back if ticket.first_response_at is None else State.ANSWERED)
    if event is Event.APPROVAL_ASKED:
        return replace(ticket, state=State.AWAITING)  # re-opens a closed ticket, as REPLY_QUEUED does
    if event is Event.REPLY_SENT:
        first = ticket.first_response_at or now
        return replace(ticket, state=State.ANSWERED, first_response_at=first, answered_at=now)
    if event is Event.FOLLOWUP:
        if s in OPEN_STATES:
            return ticket  # still waiting for our first answer; the running clock stays
        due = data.get("due_at")
        if not isinstance(due, datetime):
            return replace(ticket, state=State.OPEN)  # no next_response clock: reopened, no new deadline
        return replace(ticket, state=State.OPEN, clock_start=now, due_at=due)
    if event is Event.RESOLVED:
        if s is State.CLOSED:
            return ticket
        if s in REPLY_IN_FLIGHT:
            raise InvalidTransition(f"ticket {ticket.tweet_id} has a reply on its way; cancel it first")
        return replace(ticket, state=State.CLOSED, answered_at=now)
    if event is Event.REASSIGNED:
        if s in REPLY_IN_FLIGHT or not ticket.is_open:
            raise InvalidTransition(f"ticket {ticket.tweet_id} is {s.value}; only a waiting ticket can move")
        # The claim stays behind (it was a person of the old department); due_at, policy and history stay.
        department = data.get("department")
        return replace(ticket, state=State.OPEN, claimed_by=None,
                       department=str(department) if department else None,
                       channel=str(data["channel"]), message_ts=str(data["ts"]))
    if event is Event.BREACHED:
        # `breached` is the first-response SLA; a late answer to a follow-up is announced, not counted here.
        return replace(ticket, breached=True) if ticket.is_open and ticket.first_response_at is None else ticket
    raise InvalidTransition(f"unknown event {event!r}")


@dataclass(frozen=True)
class Mention:
    """A tweet that mentions the account, as the domain sees it (text already unescaped)."""

    id: str
    text: str
    author: Author
    created_at: datetime
    conversation_id: str | None = None
    in_reply_to: str | None = None  # the tweet this one replies to, if any
    mentioned: tuple[str, ...] = ()  # the ids (and lower-cased usernames) it @mentions
    quoted_authors: tuple[str, ...] = ()  # the authors of the posts it quotes


def summons(m: Mention, account_id: str, username: str) -> bool:
    """Whether the tweet's author summoned the account (X's rule for self-serve replies since 23 Feb 2026):
    it @mentions the account, or quotes one of its posts (or is the account's own)."""
    return (m.author.id == account_id or account_id in m.mentioned or account_id in m.quoted_authors
            or bool(username) and username.lower() in m.mentioned)
