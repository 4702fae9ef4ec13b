"""The one helper that keeps what the bot sends within Slack's limits, checked against the stand-in's rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack_limits import clip, fit_call, fit_message, fit_view
from sandbox.slack_blocks import block_errors, view_errors

LINK = "<https://x.com/a/status/1|Open the tweet on X>"
texts = st.text(alphabet=st.sampled_from("ab <>&;가😀\n"), min_size=0, max_size=5000)


def test_clip_cuts_visibly_with_the_link_and_never_inside_a_slack_link_or_entity() -> None:
    assert clip("short", 3000, LINK) == "short"
    cut = clip("a" * 2990 + " <https://example.com|x> tail", 3000, LINK)
    assert len(cut) <= 3000 and cut.endswith("… " + LINK)
    assert "<https://example.com" not in cut
    assert not clip("a" * 2995 + "&amp; more", 3000).split("…")[0].endswith("&am")


@given(texts, st.integers(0, 60), st.integers(0, 12), texts)
def test_anything_fitted_is_accepted_by_slacks_rules(text, n_blocks, n_fields, field) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text * 2}}] * n_blocks + [
        {"type": "section", "fields": [{"type": "mrkdwn", "text": field}] * n_fields},
        {"type": "header", "text": {"type": "plain_text", "text": field}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": text}] * n_fields},
        {"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": field,
                                          "text": {"type": "plain_text", "text": field}}]}]
    fitted_text, fitted = fit_message(text * 10, blocks, LINK)
    assert len(fitted_text) <= 40_000
    assert block_errors(fitted) == []
    assert view_errors(fit_view({"type": "home", "blocks": blocks * 3})) == []


def test_every_posting_call_is_fitted_and_nothing_else_is_touched() -> None:
    big = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 4000}}
    for method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
        assert block_errors(fit_call(method, {"channel": "C1", "text": "t", "blocks": [big]})["blocks"]) == []
    assert view_errors(fit_call("views.publish", {"user_id": "U1", "view": {"type": "home", "blocks": [big]}})
                       ["view"]) == []
    assert fit_call("conversations.history", {"channel": "C1"}) == {"channel": "C1"}
