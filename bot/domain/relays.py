"""A relay is one staff reply on its way to X; its states and every transition (as tickets.py does for tickets).

The text a relay carries is frozen once it counts: after a lead approved it, or once a send was attempted (X may
have the words already). What went out may differ from what staff wrote only by the visible reference that tells
apart identical words to two customers (`distinct_form`), and the thread shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RelayState(StrEnum):
    AWAITING = "awaiting"  # waits for a lead's Approve
    PENDING = "pending"  # in its undo window, or waiting for a retry
    SENDING = "sending"  # a worker holds it and is talking to X
    SENT = "sent"  # X shows it
    CANCELLED = "cancelled"  # deleted by its author before any attempt
    REJECTED = "rejected"  # a lead sent it back
    FAILED = "failed"  # X refused it, or gave up; the thread says why


class RelayEvent(StrEnum):
    APPROVED = "approved"  # awaiting -> pending (text frozen)
    RETURNED = "returned"  # an approved reply was edited before its first attempt: back to the lead
    CLAIMED = "claimed"  # pending -> sending (text frozen)
    RETRY = "retry"  # sending -> pending (X unavailable or rate-limited)
    RESUMED = "resumed"  # sending -> pending: the worker that held it is gone
    SENT = "sent"  # sending -> sent; pending -> sent when X already shows it (a deletion found it)
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"


class InvalidRelayTransition(ValueError):
    """An event that makes no sense in the relay's state (e.g. cancelling a reply that is being sent)."""


_ALLOWED: dict[RelayEvent, tuple[frozenset[RelayState], RelayState]] = {
    RelayEvent.APPROVED: (frozenset({RelayState.AWAITING}), RelayState.PENDING),
    RelayEvent.RETURNED: (frozenset({RelayState.PENDING}), RelayState.AWAITING),
    RelayEvent.CLAIMED: (frozenset({RelayState.PENDING}), RelayState.SENDING),
    RelayEvent.RETRY: (frozenset({RelayState.SENDING}), RelayState.PENDING),
    RelayEvent.RESUMED: (frozenset({RelayState.SENDING}), RelayState.PENDING),
    RelayEvent.SENT: (frozenset({RelayState.SENDING, RelayState.PENDING}), RelayState.SENT),
    RelayEvent.CANCELLED: (frozenset({RelayState.AWAITING, RelayState.PENDING}), RelayState.CANCELLED),
    RelayEvent.REJECTED: (frozenset({RelayState.AWAITING}), RelayState.REJECTED),
    RelayEvent.FAILED: (frozenset({RelayState.SENDING, RelayState.PENDING}), RelayState.FAILED),
}

IN_FLIGHT = frozenset({RelayState.AWAITING, RelayState.PENDING, RelayState.SENDING})


def sources(event: RelayEvent) -> frozenset[RelayState]:
    """The states an event may leave: the store's compare-and-set checks the stored state against these."""
    return _ALLOWED[event][0]


def transition(state: RelayState, event: RelayEvent) -> RelayState:
    """Every state change of a relay happens here, so the rules live in one place."""
    before, after = _ALLOWED[event]
    if state not in before:
        raise InvalidRelayTransition(f"a relay that is {state.value} cannot be {event.value}")
    return after


@dataclass
class Relay:
    """A staff reply on its way to X: keyed by the Slack message that carries it."""

    channel: str
    ts: str
    ticket: str
    user: str
    text: str  # what staff wrote, as plain text for X
    state: str = RelayState.PENDING.value
    send_at: float = 0.0
    notice_ts: str = ""
    tweet_id: str = ""
    detail: str = ""
    attempts: int = 0
    frozen: str = ""  # "approved" or "attempted": edits no longer change what goes to X
    approved_by: str = ""
    out_text: str = ""  # the exact text the last attempt sent (the distinct form after a duplicate refusal)
    maybe_sent: str = ""  # "1": an earlier attempt may have reached X (a lost answer, a timeout, a dead worker)
    claimed_by: str = ""  # the worker that holds the send
    saved: str = ""  # the saved reply's name when one was chosen (typed `;name` or picked on the ticket)

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.ts}"

    @property
    def status(self) -> RelayState:
        return RelayState(self.state)


def reference(ticket_id: str) -> str:
    """A short visible reference to a ticket: digits only, so X does not take it for a hashtag."""
    return f"(#{ticket_id[-6:]})"


def distinct_form(text: str, ticket_id: str) -> str:
    """The same words for another customer, told apart by the ticket's reference at the end (visible, no
    invisible characters, no @mention added)."""
    return f"{text} {reference(ticket_id)}"
