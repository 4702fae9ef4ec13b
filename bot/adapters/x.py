"""The X API v2 through tweepy: tweets become Mentions, replies become tweets, errors become BotErrors."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy

from bot.adapters.x_session import make_tweepy_client
from bot.domain.text import unescape_entities
from bot.domain.tickets import Author, Mention
from bot.domain.xlimits import RateWindow, XUsage
from bot.errors import ExternalServiceError
from bot.settings import Settings, XCredentials

log = logging.getLogger(__name__)

TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "referenced_tweets", "in_reply_to_user_id",
                "entities"]
USER_FIELDS = ["username", "name", "public_metrics"]


class XError(ExternalServiceError):
    """X answered with an error a person must look at (401, 403 other than duplicate, 400)."""


class XUnavailable(ExternalServiceError):
    """X failed in a way that is worth retrying (5xx, timeout, connection error)."""


class XRateLimited(XUnavailable):
    def __init__(self, reset_at: float | None) -> None:
        super().__init__(f"X rate limit reached; resets at {reset_at}")
        self.reset_at = reset_at


class XUsageCapped(XRateLimited):
    """X answered 429 usage-capped: the project's monthly (or daily) cap is reached; reads wait until it lifts."""

    def __init__(self, reset_at: float | None, detail: str = "") -> None:
        ExternalServiceError.__init__(self, f"X usage cap reached: {detail or 'usage-capped'}")
        self.reset_at = reset_at


class DuplicateContent(ExternalServiceError):
    """X refused a tweet as a duplicate of one already posted: for a retried reply, it was sent."""


class NotSummoned(XError):
    """X (self-serve access) refused a reply to a post whose author did not @mention or quote the account."""


def expand_links(text: str, tweet: dict[str, Any]) -> str:
    """X shortens every link to t.co in the text; staff should see where it goes (entities.urls)."""
    for url in (tweet.get("entities") or {}).get("urls") or []:
        if url.get("url") and url.get("expanded_url"):
            text = text.replace(url["url"], url["expanded_url"])
    return text


def tweet_to_mention(tweet: dict[str, Any], users: dict[str, dict[str, Any]],
                     tweets: dict[str, dict[str, Any]] | None = None) -> Mention:
    """`tweets`: includes.tweets by id (the referenced_tweets.id expansion), for the authors of quoted posts."""
    user = users.get(str(tweet.get("author_id")), {})
    refs = tweet.get("referenced_tweets") or []
    replied_to = next((r["id"] for r in refs if r.get("type") == "replied_to"), None)
    quoted = [(tweets or {}).get(str(r.get("id")), {}).get("author_id") for r in refs if r.get("type") == "quoted"]
    mentioned = [str(v) for m in (tweet.get("entities") or {}).get("mentions") or []
                 for v in (m.get("id"), (m.get("username") or "").lower()) if v]
    created = tweet.get("created_at")
    return Mention(
        id=str(tweet["id"]),
        text=unescape_entities(expand_links(tweet.get("text", ""), tweet)),
        author=Author(id=str(tweet.get("author_id", "")), username=user.get("username", ""),
                      name=user.get("name", ""),
                      followers=int((user.get("public_metrics") or {}).get("followers_count", 0))),
        created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else datetime.now(UTC),
        conversation_id=tweet.get("conversation_id"),
        in_reply_to=replied_to,
        mentioned=tuple(mentioned),
        quoted_authors=tuple(str(a) for a in quoted if a),
    )


@dataclass(frozen=True)
class MentionPage:
    mentions: list[Mention]
    newest_id: str | None


def _problem_type(exc: tweepy.HTTPException) -> str:
    try:
        body = exc.response.json() if exc.response is not None else {}
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


def rate_window(headers: Any) -> RateWindow | None:
    """X's x-rate-limit-* headers as a RateWindow (None when an answer lacks them)."""
    try:
        return RateWindow(int(headers["x-rate-limit-limit"]), int(headers["x-rate-limit-remaining"]),
                          float(headers["x-rate-limit-reset"]))
    except (KeyError, TypeError, ValueError):
        return None


def _endpoint(url: str) -> str:
    """Which rate-limit window an answer speaks for: "mentions", "post", "lookup", "usage" or "other"."""
    path = url.split("?", 1)[0]
    if path.endswith("/mentions"):
        return "mentions"
    if path.endswith("/usage/tweets"):
        return "usage"
    if "/2/tweets" in path:
        return "lookup" if not path.endswith("/2/tweets") else "tweets"
    return "other"


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.response.headers.get("x-rate-limit-reset") if exc.response is not None else None
        if _problem_type(exc).endswith("/usage-capped"):
            return XUsageCapped(None, "; ".join(exc.api_messages))
        return XRateLimited(float(reset) if reset else None)
    if isinstance(exc, tweepy.Forbidden) and any("duplicate content" in m for m in exc.api_messages):
        return DuplicateContent("X already has a tweet with this text")
    if isinstance(exc, tweepy.Forbidden) and any("not been mentioned" in m for m in exc.api_messages):
        return NotSummoned("X refused the reply (403): " + "; ".join(exc.api_messages))
    if isinstance(exc, tweepy.TwitterServerError | requests.ConnectionError | requests.Timeout):
        return XUnavailable(f"X unavailable: {exc}")
    if isinstance(exc, tweepy.HTTPException):
        status = exc.response.status_code if exc.response is not None else "?"
        detail = "; ".join(exc.api_messages) or str(exc)
        return XError(f"X refused the request ({status}): {detail}")
    return exc


class XClient:
    """Thin wrapper: the only code that calls tweepy."""

    def __init__(self, settings: Settings, credentials: XCredentials | None = None) -> None:
        creds = credentials or settings.x_credentials()  # another account's: behind its env_prefix
        self.client = make_tweepy_client(
            settings.x_api_url, creds.bearer_token, creds.api_key, creds.api_secret,
            creds.access_token, creds.access_token_secret,
        )
        self.client.return_type = dict  # plain JSON: we translate it ourselves
        # The last x-rate-limit-* X sent per endpoint: adaptive polling paces itself from the mentions window.
        self.windows: dict[str, RateWindow] = {}
        self.client.session.hooks["response"].append(self._saw)
        self.read_user_auth = not creds.bearer_token  # no app token: read as the account
        self.user_auth_ok = not creds.missing()

    def _saw(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        window = rate_window(response.headers)
        if window is not None:
            kind = _endpoint(response.url)
            if kind == "tweets" and response.request is not None and response.request.method == "POST":
                kind = "post"
            self.windows[kind] = window

    def window(self, kind: str) -> RateWindow | None:
        """The rate-limit window X last reported for "mentions", "post", "lookup" or "usage"."""
        return self.windows.get(kind)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - translated, never swallowed
            translated = _translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    def me(self) -> tuple[str, str]:
        data = self._call(self.client.get_me, user_auth=self.user_auth_ok)["data"]
        return str(data["id"]), data["username"]

    def user_by_username(self, username: str) -> tuple[str, str] | None:
        """(id, username) of an account by its @handle (GET /2/users/by/username/:username); None if X has none."""
        body = self._call(self.client.get_user, username=username.lstrip("@"), user_auth=self.read_user_auth)
        data = body.get("data")
        return (str(data["id"]), data["username"]) if data else None

    def mention_pages(self, user_id: str, since_id: str | None, max_results: int = 100) -> Iterator[MentionPage]:
        """Every page of mentions newer than since_id, newest first, following next_token to the end."""
        token: str | None = None
        while True:
            params: dict[str, Any] = dict(
                max_results=max_results, tweet_fields=TWEET_FIELDS, expansions=["author_id"],
                user_fields=USER_FIELDS,
            )
            if since_id:
                params["since_id"] = since_id
            if token:
                params["pagination_token"] = token
            body = self._call(self.client.get_users_mentions, user_id, user_auth=self.read_user_auth, **params)
            users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
            meta = body.get("meta") or {}
            yield MentionPage([tweet_to_mention(t, users) for t in body.get("data") or []], meta.get("newest_id"))
            token = meta.get("next_token")
            if not token:
                return

    def get_tweet(self, tweet_id: str) -> Mention | None:
        body = self._call(self.client.get_tweet, tweet_id, tweet_fields=TWEET_FIELDS,
                          expansions=["author_id", "referenced_tweets.id"],
                          user_fields=USER_FIELDS, user_auth=self.read_user_auth)
        if not body.get("data"):
            return None
        includes = body.get("includes") or {}
        users = {u["id"]: u for u in includes.get("users", [])}
        return tweet_to_mention(body["data"], users, {tw["id"]: tw for tw in includes.get("tweets", [])})

    def reply(self, text: str, in_reply_to: str) -> str:
        """Post a reply as the account and return its tweet id."""
        started = time.monotonic()
        body = self._call(self.client.create_tweet, text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True)
        log.info("posted reply to %s in %.0f ms", in_reply_to, (time.monotonic() - started) * 1000)
        return str(body["data"]["id"])

    def usage(self) -> XUsage | None:
        """The project's post reads (GET /2/usage/tweets, app auth; 50 calls per 15 min): None without an app
        token."""
        if not self.client.bearer_token:
            return None
        body = self._call(self.client._make_request, "GET", "/2/usage/tweets",
                          params={"usage_fields": ["cap_reset_day", "daily_project_usage", "project_cap",
                                                   "project_usage"]},
                          endpoint_parameters=("days", "usage.fields"))
        data = body.get("data") or {}
        days = ((data.get("daily_project_usage") or {}).get("usage") or [])
        today = int(days[-1].get("usage") or 0) if days else 0
        reset = data.get("cap_reset_day")
        return XUsage(today=today, cycle=int(data.get("project_usage") or 0), cap=int(data.get("project_cap") or 0),
                      reset_in_days=int(reset) if reset is not None else None)

    def own_reply(self, user_id: str, in_reply_to: str, text: str, since_id: str | None = None,
                  pages: int = 3) -> str | None:
        """The account's own reply to a tweet with this text, among its recent tweets (GET /2/users/:id/tweets):
        how the bot confirms that an attempt whose answer was lost did reach X."""
        token: str | None = None
        for _ in range(pages):
            params: dict[str, Any] = dict(max_results=100, tweet_fields=["referenced_tweets", "entities"],
                                          user_auth=True)
            if since_id:
                params["since_id"] = since_id
            if token:
                params["pagination_token"] = token
            body = self._call(self.client.get_users_tweets, user_id, **params)
            for tweet in body.get("data") or []:
                replied = {r["id"] for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"}
                if in_reply_to in replied and unescape_entities(expand_links(tweet.get("text", ""), tweet)) == text:
                    return str(tweet["id"])
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
        return None
