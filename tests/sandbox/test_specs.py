"""The real clients' traffic against the official specs: clean requests pass, bad ones are caught.

These tests read ../shared/specs (or $ESCALATOR_SPECS) and skip themselves when it is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from twitter_text import parse_tweet

from bot.adapters.x_session import make_tweepy_client, redirecting_session
from sandbox import SlackStandIn, XStandIn, specs, specs_dir

pytestmark = pytest.mark.skipif(specs_dir() is None, reason="no specs folder (set ESCALATOR_SPECS)")

TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "referenced_tweets", "in_reply_to_user_id",
                "entities"]
USER_FIELDS = ["username", "name", "public_metrics"]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn(validate_specs=True)
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def x() -> Iterator[XStandIn]:
    stand_in = XStandIn(validate_specs=True)
    stand_in.start()
    yield stand_in
    stand_in.stop()


def test_slack_calls_made_by_slack_sdk_break_no_rule(slack: SlackStandIn) -> None:
    web = WebClient(token="xoxb-sandbox", base_url=slack.url + "/api/")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*ticket*"}}]
    parent = web.chat_postMessage(channel="C0WIBRO", text="ticket", blocks=blocks, unfurl_links=False,
                                  unfurl_media=False, mrkdwn=True,
                                  metadata={"event_type": "ticket", "event_payload": {"tweet_id": "1"}})["ts"]
    reply = web.chat_postMessage(channel="C0WIBRO", text="reminder", thread_ts=parent,
                                 reply_broadcast=False)["ts"]
    web.chat_update(channel="C0WIBRO", ts=parent, text="answered", blocks=blocks)
    web.chat_postEphemeral(channel="C0WIBRO", user="U0STAFF1", text="only you")
    web.chat_getPermalink(channel="C0WIBRO", message_ts=reply)
    web.reactions_add(channel="C0WIBRO", timestamp=parent, name="white_check_mark")
    web.reactions_remove(channel="C0WIBRO", timestamp=parent, name="white_check_mark")
    web.users_info(user="U0STAFF1")
    web.conversations_members(channel="C0WIBRO", limit=100)
    web.conversations_info(channel="C0WIBRO")
    web.conversations_history(channel="C0WIBRO", limit=50, oldest="0", include_all_metadata=True)
    web.conversations_replies(channel="C0WIBRO", ts=parent, limit=50, include_all_metadata=True)
    web.views_publish(user_id="U0STAFF1", view={"type": "home", "blocks": blocks})
    web.files_upload_v2(channel="C0MANAGERS", content="a,b\n1,2\n", filename="report.csv", title="Report")
    web.chat_delete(channel="C0WIBRO", ts=reply)
    slack.user_message("C0WIBRO", "a person's reply", thread_ts=parent)  # checks the event envelope too
    assert len(slack.calls) == 16
    assert slack.spec_violations == []


def test_a_bad_slack_call_is_recorded(slack: SlackStandIn) -> None:
    web = WebClient(token="xoxb-sandbox", base_url=slack.url + "/api/")
    web.api_call("chat.postMessage", json={"channel": "C0WIBRO", "text": "hi", "colour": "red"})
    with pytest.raises(SlackApiError):
        web.api_call("chat.getPermalink", params={"channel": "C0WIBRO"})
    assert slack.spec_violations == ["chat.postMessage: unknown argument 'colour'",
                                     "chat.getPermalink: missing required argument 'message_ts'"]


def test_a_bad_event_envelope_is_caught() -> None:
    assert specs.slack_event_errors({"type": "event_callback", "event": {"type": "message"}})


def test_x_calls_made_by_tweepy_break_no_rule_and_the_answers_match_the_schemas(x: XStandIn) -> None:
    client = make_tweepy_client(x.url, "bearer", "key", "secret", "access", "access-secret")
    client.return_type = dict
    mention = x.add_mention("와이브로 & 에그 https://example.com", username="kim", followers=12)
    me = client.get_me(user_auth=True, user_fields=USER_FIELDS)
    fields: dict[str, Any] = {"tweet_fields": TWEET_FIELDS, "expansions": ["author_id"],
                              "user_fields": USER_FIELDS}
    page = client.get_users_mentions("1000", max_results=100, **fields)
    empty = client.get_users_mentions("1000", since_id=mention)
    tweet = client.get_tweet(mention, **fields)
    missing = client.get_tweet("42")
    created = client.create_tweet(text="답변", in_reply_to_tweet_id=mention, user_auth=True)
    assert x.spec_violations == []
    for schema, body in [("Get2UsersMeResponse", me), ("Get2UsersIdMentionsResponse", page),
                         ("Get2UsersIdMentionsResponse", empty), ("Get2TweetsIdResponse", tweet),
                         ("Get2TweetsIdResponse", missing), ("TweetCreateResponse", created)]:
        assert specs.x_schema_errors(schema, body) == [], schema
    assert specs.x_schema_errors("ResourceNotFoundProblem", missing["errors"][0]) == []


def test_x_error_bodies_match_the_problem_schemas(x: XStandIn) -> None:
    session = redirecting_session(x.url)
    auth = {"Authorization": "Bearer t"}
    x.add_mention("hi")
    post = "https://api.twitter.com/2/tweets"
    session.post(post, json={"text": "once"}, headers=auth)
    duplicate = session.post(post, json={"text": "once"}, headers=auth)
    invalid = session.get("https://api.twitter.com/2/users/1000/mentions", params={"max_results": 500},
                          headers=auth)
    assert (duplicate.status_code, invalid.status_code) == (403, 400)
    assert specs.x_schema_errors("GenericProblem", duplicate.json()) == []
    assert specs.x_schema_errors("InvalidRequestProblem", invalid.json()) == []


def test_bad_x_requests_are_refused_and_recorded(x: XStandIn) -> None:
    session = redirecting_session(x.url)
    auth = {"Authorization": "Bearer t"}
    body = session.post("https://api.twitter.com/2/tweets", json={"text": "hi", "colour": "red"},
                        headers=auth)
    fields = session.get("https://api.twitter.com/2/tweets/1", params={"tweet.fields": "mood"}, headers=auth)
    assert (body.status_code, fields.status_code) == (400, 400)
    assert len(x.spec_violations) == 2
    assert "colour" in x.spec_violations[0]
    assert fields.json()["errors"][0]["message"].startswith("The `tweet.fields` query parameter value [mood]")
    assert x.posted() == []


def _weighted_cases() -> list[dict[str, Any]]:
    vendored = Path(__file__).resolve().parents[1] / "data" / "twitter-text" / "validate.yml"  # Apache-2.0
    cases = yaml.safe_load(vendored.read_text(encoding="utf-8"))
    return cases["tests"]["WeightedTweetsWithDiscountedEmojiCounterTest"]


@pytest.mark.parametrize("case", _weighted_cases(), ids=lambda c: c["description"][:40])
def test_the_x_stand_ins_length_rule_follows_twitter_text_v3(case: dict[str, Any]) -> None:
    parsed = parse_tweet(case["text"])
    expected = case["expected"]
    assert (parsed.weightedLength, parsed.valid) == (expected["weightedLength"], expected["valid"])


def test_stand_ins_run_without_the_specs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(specs.ENV_VAR, str(tmp_path))
    assert specs_dir() is None
    stand_in = XStandIn()
    stand_in.start()
    try:
        response = requests.get(f"{stand_in.url}/2/users/1000/mentions", params={"max_results": 3},
                                headers={"Authorization": "Bearer t"}, timeout=5)
        assert response.status_code == 400 and stand_in.validate is False
    finally:
        stand_in.stop()
