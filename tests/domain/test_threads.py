"""A thread the bot posted stands for a ticket, a storm or a moved ticket's old place, stored as before."""

from __future__ import annotations

import pytest

from bot.adapters.store.tickets import decode_thread, encode_thread
from bot.domain.threads import ThreadKind, ThreadRef


@pytest.mark.parametrize(("ref", "stored"), [
    (ThreadRef.ticket("1900000000000000001"), "1900000000000000001"),
    (ThreadRef.storm("st-42"), "storm:st-42"),
    (ThreadRef.moved("1900000000000000001"), "moved:1900000000000000001"),
])
def test_thread_refs_keep_the_stored_form_of_existing_data(ref: ThreadRef, stored: str) -> None:
    assert encode_thread(ref) == stored
    assert decode_thread(stored) == ref


def test_only_a_tickets_thread_names_a_ticket() -> None:
    assert ThreadRef.ticket("7").ticket_id == "7"
    assert ThreadRef.moved("7").ticket_id is None
    assert ThreadRef.storm("7").kind is ThreadKind.STORM and ThreadRef.storm("7").ticket_id is None
