"""Log lines never carry a credential: the environment's secrets, Slack tokens and response_urls are masked."""

from __future__ import annotations

import logging

from bot.logs import MaskSecrets


def test_tokens_and_response_urls_are_masked_in_any_log_line():
    record = logging.LogRecord("rq.worker", logging.INFO, __file__, 1, "job %s (%s) with %s", (
        "bot.jobs.ticket_action", "https://hooks.slack.com/actions/T0001/1234/AbCdEf", "xoxb-1234-5678-abcdef"),
        None)
    assert MaskSecrets(["ck-SECRET-1a2b3c"]).filter(record)
    line = record.getMessage()
    assert "hooks.slack.com" not in line and "xoxb-" not in line
    assert line == "job bot.jobs.ticket_action (***) with ***"
