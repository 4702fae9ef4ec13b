"""A storm (an outage's burst of mentions in one thread) and its broadcasts: their states and every transition,
as tickets.py and relays.py do for tickets and relays. The store applies each transition atomically."""

from __future__ import annotations

from enum import StrEnum


class StormState(StrEnum):
    ACTIVE = "active"  # new mentions of its department join it
    ENDED = "ended"  # quiet for storm.quiet, or ended by a person; its thread stays


class StormEvent(StrEnum):
    ENDED = "ended"


class BroadcastState(StrEnum):
    CONFIRM = "confirm"  # one staff reply to every member, waiting for its Send button
    SENDING = "sending"  # a worker sends it, member by member, at the storm's pace
    CANCELLED = "cancelled"  # Cancel before Send
    STOPPED = "stopped"  # Stop while sending: no member is sent after this
    DONE = "done"  # every member was tried


class BroadcastEvent(StrEnum):
    SEND = "send"
    CANCEL = "cancel"
    STOP = "stop"
    FINISH = "finish"


class InvalidStormTransition(ValueError):
    """An event that makes no sense in the storm's or broadcast's state."""


_STORM: dict[StormEvent, tuple[StormState, StormState]] = {
    StormEvent.ENDED: (StormState.ACTIVE, StormState.ENDED),
}
_BROADCAST: dict[BroadcastEvent, tuple[BroadcastState, BroadcastState]] = {
    BroadcastEvent.SEND: (BroadcastState.CONFIRM, BroadcastState.SENDING),
    BroadcastEvent.CANCEL: (BroadcastState.CONFIRM, BroadcastState.CANCELLED),
    BroadcastEvent.STOP: (BroadcastState.SENDING, BroadcastState.STOPPED),
    BroadcastEvent.FINISH: (BroadcastState.SENDING, BroadcastState.DONE),
}


def storm_step(event: StormEvent) -> tuple[StormState, StormState]:
    """(the state the event leaves, the state it makes): the store's compare-and-set uses both."""
    return _STORM[event]


def broadcast_step(event: BroadcastEvent) -> tuple[BroadcastState, BroadcastState]:
    """(the state the event leaves, the state it makes): the store's compare-and-set uses both."""
    return _BROADCAST[event]


def transition(state: StormState | BroadcastState, event: StormEvent | BroadcastEvent) -> StormState | BroadcastState:
    """Every state change of a storm or a broadcast happens here, so the rules live in one place."""
    before, after = _STORM[event] if isinstance(event, StormEvent) else _BROADCAST[event]
    if state != before:
        raise InvalidStormTransition(f"a {type(state).__name__.removesuffix('State').lower()} that is {state.value} "
                                     f"cannot be {event.value}")
    return after
