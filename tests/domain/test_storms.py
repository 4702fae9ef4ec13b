"""Storms and their broadcasts: one transition table each, as tickets and relays have."""

from __future__ import annotations

import pytest

from bot.domain.storms import (
    BroadcastEvent,
    BroadcastState,
    InvalidStormTransition,
    StormEvent,
    StormState,
    broadcast_step,
    transition,
)


def test_an_active_storm_ends_once() -> None:
    assert transition(StormState.ACTIVE, StormEvent.ENDED) is StormState.ENDED
    with pytest.raises(InvalidStormTransition, match="storm that is ended cannot be ended"):
        transition(StormState.ENDED, StormEvent.ENDED)


@pytest.mark.parametrize(("before", "event", "after"), [
    (BroadcastState.CONFIRM, BroadcastEvent.SEND, BroadcastState.SENDING),
    (BroadcastState.CONFIRM, BroadcastEvent.CANCEL, BroadcastState.CANCELLED),
    (BroadcastState.SENDING, BroadcastEvent.STOP, BroadcastState.STOPPED),
    (BroadcastState.SENDING, BroadcastEvent.FINISH, BroadcastState.DONE),
])
def test_a_broadcast_moves_only_by_its_table(before: BroadcastState, event: BroadcastEvent,
                                             after: BroadcastState) -> None:
    assert transition(before, event) is after
    assert broadcast_step(event) == (before, after)


def test_a_cancelled_broadcast_cannot_be_sent_nor_a_sending_one_cancelled() -> None:
    with pytest.raises(InvalidStormTransition):
        transition(BroadcastState.CANCELLED, BroadcastEvent.SEND)
    with pytest.raises(InvalidStormTransition):
        transition(BroadcastState.SENDING, BroadcastEvent.CANCEL)


def test_every_broadcast_state_but_confirm_is_reached_by_some_event() -> None:
    reached = {broadcast_step(e)[1] for e in BroadcastEvent}
    assert reached == set(BroadcastState) - {BroadcastState.CONFIRM}
