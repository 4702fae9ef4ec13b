"""The per-channel pace counts from when a post is sent (or Slack took it), not from when the answer came back."""

from __future__ import annotations

import time

from bot.adapters.store.lanes import EARLY_S, SLOT_MARGIN_S, Lanes


def test_a_slow_answer_does_not_push_the_next_slot_past_the_send_time_plus_the_interval(r):
    lanes = Lanes(r, 1.0)
    free, sent = lanes.take_if_free("C0")
    assert free
    time.sleep(0.2)  # Slack's answer takes a 200 ms round trip; it took the post half-way (its ts)
    lanes.posted("C0", ago=0.1)
    nxt = float(r.get("esc:pace:C0"))
    assert nxt - sent < 1.0 + SLOT_MARGIN_S + 0.05, "the slot was counted from the answer, not the send"
    assert nxt - sent >= 1.0 + SLOT_MARGIN_S - 0.001


def test_a_lane_finding_its_slot_booked_runs_again_a_little_before_it_frees(r):
    lanes = Lanes(r, 1.0)
    assert lanes.take_if_free("C0")[0]
    free, when = lanes.take_if_free("C0")
    assert not free
    assert abs(when - (float(r.get("esc:pace:C0")) - EARLY_S)) < 1e-3


def test_a_post_that_slack_took_late_pushes_the_next_slot_an_interval_past_it(r):
    lanes = Lanes(r, 1.0)
    assert lanes.take_if_free("C0")[0]
    time.sleep(0.5)  # a busy moment: the post reached Slack only now
    lanes.posted("C0", ago=0.0)
    free, when = lanes.take_if_free("C0")
    assert not free and when + EARLY_S - lanes.now() > 0.9
