"""The X stand-in through the real tweepy.Client, redirected with bot.adapters.x_session."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import tweepy

from bot.adapters.x_session import make_tweepy_client, redirecting_session
from sandbox import XStandIn

FIELDS: dict[str, Any] = {
    "tweet_fields": ["created_at", "author_id", "conversation_id", "referenced_tweets", "in_reply_to_user_id",
                     "entities"],
    "expansions": ["author_id"],
    "user_fields": ["username", "name", "public_metrics"],
}


# `x`: the session's X stand-in, reset for each test (tests/conftest.py)


@pytest.fixture
def client(x: XStandIn) -> tweepy.Client:
    return make_tweepy_client(x.url, "test-bearer", "key", "secret", "access", "access-secret")


def control(x: XStandIn, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{x.url}/_sandbox/{path}", data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_mentions_come_newest_first_and_next_token_walks_every_page(x: XStandIn,
                                                                   client: tweepy.Client) -> None:
    ids = [x.add_mention(f"question {n}", username=f"customer{n % 3}") for n in range(12)]
    seen, sizes, token = [], [], None
    while True:
        page = client.get_users_mentions("1000", max_results=5, pagination_token=token, **FIELDS)
        seen += [str(t.id) for t in page.data]
        sizes.append(page.meta["result_count"])
        token = page.meta.get("next_token")
        if token is None:
            break
    assert sizes == [5, 5, 2]
    assert seen == ids[::-1]
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)


def test_since_id_returns_only_newer_mentions_and_an_empty_page_has_only_meta(
        x: XStandIn, client: tweepy.Client) -> None:
    old = x.add_mention("old one")
    first, second = x.add_mention("new one"), x.add_mention("newer one")
    page = client.get_users_mentions("1000", since_id=old, **FIELDS)
    assert [str(t.id) for t in page.data] == [second, first]
    assert page.meta == {"result_count": 2, "newest_id": second, "oldest_id": first}
    empty = client.get_users_mentions("1000", since_id=second)
    assert empty.data is None
    assert empty.meta == {"result_count": 0}


def test_tweet_text_comes_html_escaped_with_entities_and_the_author_expanded(
        x: XStandIn, client: tweepy.Client) -> None:
    created = datetime(2010, 6, 24, 9, 30, tzinfo=UTC)
    x.add_mention("와이브로 & 에그 <급함> https://example.com/status", username="gangnam", name="Jiwon Park",
                  followers=1840, created_at=created)
    page = client.get_users_mentions("1000", **FIELDS)
    tweet = page.data[0]
    assert tweet.text.startswith("@escalator_kr 와이브로 &amp; 에그 &lt;급함&gt; https://t.co/")
    assert tweet.created_at == created
    assert tweet.entities["mentions"][0] == {"start": 0, "end": 13, "username": "escalator_kr", "id": "1000"}
    assert tweet.entities["urls"][0]["expanded_url"] == "https://example.com/status"
    [user] = page.includes["users"]
    assert (user.username, user.name) == ("gangnam", "Jiwon Park")
    assert user.public_metrics["followers_count"] == 1840
    assert str(tweet.author_id) == str(user.id)


def test_get_tweet_and_a_missing_tweet_answered_like_x(x: XStandIn, client: tweepy.Client) -> None:
    tweet_id = x.add_mention("hello", username="lee")
    found = client.get_tweet(tweet_id, **FIELDS)
    assert str(found.data.id) == tweet_id
    assert found.includes["users"][0].username == "lee"
    missing = client.get_tweet("1234")
    assert missing.data is None
    assert missing.errors[0]["title"] == "Not Found Error"
    assert missing.errors[0]["type"] == "https://api.twitter.com/2/problems/resource-not-found"


def test_a_reply_is_posted_as_the_account_and_a_customer_follow_up_joins_its_conversation(
        x: XStandIn, client: tweepy.Client) -> None:
    tweet_id = x.add_mention("help please", username="park")
    created = client.create_tweet(text="확인해 드릴게요 & 기다려 주세요", in_reply_to_tweet_id=tweet_id,
                                  user_auth=True)
    assert created.data["text"] == "확인해 드릴게요 &amp; 기다려 주세요"
    assert created.data["edit_history_tweet_ids"] == [created.data["id"]]
    [posted] = x.posted()
    assert posted["text"] == "확인해 드릴게요 & 기다려 주세요"
    assert posted["in_reply_to_tweet_id"] == tweet_id
    assert x.requests[-1]["auth"] == "OAuth" and "authorization" not in x.requests[-1]["headers"]

    follow_up = x.add_mention("still broken", username="park", in_reply_to=created.data["id"])
    latest = client.get_users_mentions("1000", **FIELDS).data[0]
    assert str(latest.id) == follow_up
    assert str(latest.conversation_id) == tweet_id
    assert str(latest.in_reply_to_user_id) == "1000"
    assert str(latest.referenced_tweets[0].id) == created.data["id"]


def test_duplicate_text_is_refused_with_xs_exact_403(x: XStandIn, client: tweepy.Client) -> None:
    client.create_tweet(text="same words", user_auth=True)
    with pytest.raises(tweepy.Forbidden) as refused:
        client.create_tweet(text="same words", user_auth=True)
    assert refused.value.api_messages == ["You are not allowed to create a Tweet with duplicate content."]
    assert refused.value.response.json() == {
        "detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank",
        "title": "Forbidden", "status": 403}
    assert len(x.posted()) == 1


def test_weighted_length_over_280_is_refused(x: XStandIn, client: tweepy.Client) -> None:
    client.create_tweet(text="가" * 140, user_auth=True)  # Hangul weighs 2: exactly 280
    with pytest.raises(tweepy.BadRequest) as refused:
        client.create_tweet(text="나" * 141, user_auth=True)
    assert "Your Tweet text is too long" in str(refused.value)
    assert len(x.posted()) == 1


def test_a_reply_to_a_deleted_tweet_is_refused(x: XStandIn, client: tweepy.Client) -> None:
    tweet_id = x.add_mention("gone soon")
    x.delete_tweet(tweet_id)
    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="too late", in_reply_to_tweet_id=tweet_id, user_auth=True)
    assert client.get_users_mentions("1000").meta == {"result_count": 0}


def test_posting_needs_authorization(x: XStandIn) -> None:
    response = redirecting_session(x.url).post("https://api.twitter.com/2/tweets", json={"text": "anon"})
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


def test_injected_429_raises_too_many_requests_with_the_reset_time(x: XStandIn,
                                                                   client: tweepy.Client) -> None:
    x.add_mention("hi")
    x.fail_next("GET", "/2/users/", 429)
    with pytest.raises(tweepy.TooManyRequests) as limited:
        client.get_users_mentions("1000")
    assert int(limited.value.response.headers["x-rate-limit-reset"]) >= int(datetime.now(UTC).timestamp())
    assert client.get_users_mentions("1000").meta["result_count"] == 1


def test_injected_5xx_and_a_lost_answer_after_x_took_the_tweet(x: XStandIn, client: tweepy.Client) -> None:
    x.fail_next("POST", "/2/tweets", 503)
    with pytest.raises(tweepy.TwitterServerError):
        client.create_tweet(text="first try", user_auth=True)
    assert x.posted() == []
    x.fail_next("POST", "/2/tweets", 500, after=True)
    with pytest.raises(tweepy.TwitterServerError):
        client.create_tweet(text="second try", user_auth=True)
    assert [t["text"] for t in x.posted()] == ["second try"]
    with pytest.raises(tweepy.Forbidden):  # the retry learns it was already sent
        client.create_tweet(text="second try", user_auth=True)


def test_bad_parameters_get_xs_invalid_request_problem(x: XStandIn, client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest) as refused:
        client.get_users_mentions("1000", max_results=3)
    body = refused.value.response.json()
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert body["errors"][0]["parameters"] == {"max_results": ["3"]}


def test_redirecting_session_keeps_path_and_query_for_both_hosts(x: XStandIn) -> None:
    session = redirecting_session(x.url)
    for host in ("https://api.twitter.com", "https://api.x.com"):
        response = session.get(f"{host}/2/users/me", params={"user.fields": "public_metrics"},
                               headers={"Authorization": "Bearer t"})
        assert response.json()["data"]["username"] == "escalator_kr"
    assert x.requests[-1]["query"] == {"user.fields": "public_metrics"}
    assert not redirecting_session("https://api.twitter.com").adapters["https://"].__class__.__name__.startswith(
        "_Redirecting")
    assert isinstance(session, requests.Session)


def test_control_plane_drives_and_inspects_over_http(x: XStandIn, client: tweepy.Client) -> None:
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    made = control(x, "mentions", {"text": "개통이 안 돼요", "username": "nexus", "followers": 5120,
                                   "created_at": when})
    page = client.get_users_mentions("1000", **FIELDS)
    assert str(page.data[0].id) == made["id"]
    assert page.data[0].text == "@escalator_kr 개통이 안 돼요"
    client.create_tweet(text="답변", in_reply_to_tweet_id=made["id"], user_auth=True)
    assert [t["text"] for t in control(x, "posted")] == ["답변"]
    control(x, "fail", {"method": "GET", "path_prefix": "/2/tweets/", "status": 503})
    with pytest.raises(tweepy.TwitterServerError):
        client.get_tweet(made["id"])
    control(x, "reset", {})
    assert control(x, "posted") == []


# -- issue 11: the account's own tweets, duplicates by account, a request held open -------------------------

def test_the_accounts_own_tweets_come_newest_first_with_since_id_and_pages(x: XStandIn,
                                                                           client: tweepy.Client) -> None:
    asked = [x.add_mention(f"question {n}", username="asker") for n in range(7)]
    ours = [str(client.create_tweet(text=f"answer {n}", in_reply_to_tweet_id=asked[n], user_auth=True).data["id"])
            for n in range(7)]
    seen, token = [], None
    while True:
        page = client.get_users_tweets("1000", max_results=5, pagination_token=token, user_auth=True,
                                       tweet_fields=["referenced_tweets"])
        seen += [(str(t.id), t.referenced_tweets[0].id) for t in page.data]
        token = page.meta.get("next_token")
        if token is None:
            break
    assert seen == [(i, int(q)) for i, q in zip(ours, asked, strict=True)][::-1]
    newer = client.get_users_tweets("1000", since_id=ours[4], max_results=5, user_auth=True)
    assert [str(t.id) for t in newer.data] == ours[:4:-1]
    assert x.spec_violations == []


def test_the_same_text_from_the_account_is_refused_but_a_deleted_one_may_be_posted_again(
        x: XStandIn, client: tweepy.Client) -> None:
    first, second = x.add_mention("one", username="a"), x.add_mention("two", username="b")
    tweet = client.create_tweet(text="같은 답변", in_reply_to_tweet_id=first, user_auth=True).data["id"]
    with pytest.raises(tweepy.Forbidden) as refused:
        client.create_tweet(text="같은 답변", in_reply_to_tweet_id=second, user_auth=True)
    assert refused.value.response.json()["type"] == "about:blank" and refused.value.response.status_code == 403
    x.delete_tweet(str(tweet))
    assert client.create_tweet(text="같은 답변", in_reply_to_tweet_id=second, user_auth=True).data["id"]


def test_a_held_post_waits_for_its_release_then_is_taken(x: XStandIn, client: tweepy.Client) -> None:
    import threading

    asked = x.add_mention("hello")
    arrived, release = x.hold_next("POST", "/2/tweets")
    done: list[Any] = []
    worker = threading.Thread(target=lambda: done.append(client.create_tweet(
        text="held", in_reply_to_tweet_id=asked, user_auth=True)))
    worker.start()
    assert arrived.wait(5)
    assert x.posted() == [] and not done
    release.set()
    worker.join(5)
    assert [t["text"] for t in x.posted()] == ["held"] and done


def test_several_accounts_each_act_with_their_own_token(x: XStandIn, client: tweepy.Client) -> None:
    show_id = control(x, "accounts", {"username": "show_tweet", "access_token": "show-access"})["id"]
    show = make_tweepy_client(x.url, "test-bearer", "key", "secret", "show-access", "show-secret")
    assert show.get_me(user_auth=True).data.username == "show_tweet"
    assert client.get_me(user_auth=True).data.username == "escalator_kr", "any other token: the first account"
    assert str(client.get_user(username="show_tweet").data.id) == show_id
    to_show = x.add_mention("아이폰 이벤트 문의", username="fan", to="show_tweet")
    to_care = x.add_mention("요금 문의", username="minsu")
    assert [str(t.id) for t in client.get_users_mentions(show_id, **FIELDS).data] == [to_show]
    with pytest.raises(tweepy.Forbidden, match="not been mentioned"):
        client.create_tweet(text="첫 계정의 답", in_reply_to_tweet_id=to_show, user_auth=True)
    with pytest.raises(tweepy.Forbidden, match="not been mentioned"):
        show.create_tweet(text="브랜드 계정의 답", in_reply_to_tweet_id=to_care, user_auth=True)
    show.create_tweet(text="브랜드 계정의 답", in_reply_to_tweet_id=to_show, user_auth=True)
    client.create_tweet(text="첫 계정의 답", in_reply_to_tweet_id=to_care, user_auth=True)
    assert [t["in_reply_to_tweet_id"] for t in control(x, "posted")] == [to_care]
    assert [t["in_reply_to_tweet_id"] for t in x.posted("show_tweet")] == [to_show]
    with pytest.raises(tweepy.Forbidden):  # X lets an account delete only its own posts
        client.delete_tweet(x.posted("show_tweet")[0]["id"], user_auth=True)
    assert x.spec_violations == []
    # A tweet written to the other account (the playground, curl) is not made to mention the first one too.
    written = control(x, "mentions", {"text": "@show_tweet 케이스 문의", "username": "typist"})["id"]
    assert x.timeline.tweets[written].text == "@show_tweet 케이스 문의"


def test_each_account_posts_within_its_own_windows(x: XStandIn, client: tweepy.Client) -> None:
    x.add_account("show_tweet", access_token="show-access")
    x.set_post_windows([(900, 1)])
    show = make_tweepy_client(x.url, "test-bearer", "key", "secret", "show-access", "show-secret")
    client.create_tweet(text="first account's one post", user_auth=True)
    show.create_tweet(text="the brand's one post", user_auth=True)  # its own window: room left
    for account in (client, show):
        with pytest.raises(tweepy.TooManyRequests):
            account.create_tweet(text="one too many", user_auth=True)
