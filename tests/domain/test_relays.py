"""Relay states: one enum, one transition function (issue 11)."""

from __future__ import annotations

import pytest

from bot.domain.relays import (
    InvalidRelayTransition,
    RelayEvent,
    RelayState,
    distinct_form,
    sources,
    transition,
)
from bot.domain.text import tweet_length


def test_a_reply_goes_from_waiting_to_sent_only_through_a_claim():
    s = transition(RelayState.AWAITING, RelayEvent.APPROVED)
    s = transition(s, RelayEvent.CLAIMED)
    s = transition(s, RelayEvent.RETRY)
    s = transition(s, RelayEvent.CLAIMED)
    assert transition(s, RelayEvent.SENT) is RelayState.SENT


@pytest.mark.parametrize(("state", "event"), [
    (RelayState.SENDING, RelayEvent.CANCELLED),  # being sent: a deletion cannot call it cancelled
    (RelayState.SENT, RelayEvent.CLAIMED),  # sent: never again
    (RelayState.SENDING, RelayEvent.CLAIMED),  # one worker at a time
    (RelayState.CANCELLED, RelayEvent.SENT),
    (RelayState.PENDING, RelayEvent.APPROVED),
])
def test_impossible_changes_are_refused(state, event):
    with pytest.raises(InvalidRelayTransition):
        transition(state, event)
    assert state not in sources(event)


def test_the_distinct_form_is_visible_and_adds_no_mention():
    text = "불편을 드려 죄송합니다."
    form = distinct_form(text, "1860000000000012345")
    assert form.startswith(text) and form != text and form.endswith("(#012345)")
    assert "@" not in form and form.isprintable()
    assert tweet_length(form).valid
