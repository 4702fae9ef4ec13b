"""A local stand-in for the X API v2: mentions, tweet lookup and tweet creation, as tweepy sees them."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from twitter_text import parse_tweet

from sandbox import specs
from sandbox.http import Reply, Request, StandInServer, json_reply
from sandbox.x_limits import Limits
from sandbox.x_problems import (
    DUPLICATE,
    NOT_SUMMONED,
    REPLY_GONE,
    TOO_LONG,
    Fault,
    base36,
    invalid_request,
    not_found,
    parse_when,
    problem,
)
from sandbox.x_tweets import Timeline, Tweet, User, x_time

log = logging.getLogger(__name__)

Handler = Callable[[Request, dict[str, str], dict[str, str]], Reply]


_OAUTH_TOKEN = re.compile(r'oauth_token="([^"]*)"')


class XStandIn(StandInServer):
    """X API v2 for the bot's account (and further accounts: `add_account`); drive it from Python or over HTTP
    under /_sandbox/.

    A request with OAuth 1.0a user context acts as the account whose access token it carries; a token no
    account was given (the tests' "test-access") acts as the first account, so one-account set-ups need none."""

    def __init__(self, account_username: str = "escalator_kr", account_id: str = "1000",
                 validate_specs: bool | None = None, wrap_urls: bool = True, access: str = "self-serve",
                 enforce_limits: bool = True) -> None:
        super().__init__()
        # X's limits answer 429 past them (headers are always sent); a throughput bench of the bot's own work
        # may turn that off, as it lifts the bot's own posting budget in its routing.
        self.enforce_limits = enforce_limits
        self.default_access = access  # "self-serve": replies only to posts that summoned the account; "enterprise"
        self.account_username = account_username
        self.account_id = account_id
        self.wrap_urls = wrap_urls
        self.validate = specs.validation_enabled(validate_specs)
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = [
            ("GET", re.compile(r"/2/users/me"), "/2/users/me", self._me),
            ("GET", re.compile(r"/2/users/(?P<id>[^/]+)/mentions"), "/2/users/{id}/mentions", self._mentions),
            ("GET", re.compile(r"/2/users/(?P<id>[0-9]+)/tweets"), "/2/users/{id}/tweets", self._user_tweets),
            ("GET", re.compile(r"/2/users/by/username/(?P<username>[^/]+)"),
             "/2/users/by/username/{username}", self._user_by_name),
            ("GET", re.compile(r"/2/tweets/(?P<id>[^/]+)"), "/2/tweets/{id}", self._get_tweet),
            ("GET", re.compile(r"/2/tweets"), "/2/tweets", self._get_tweets),
            ("POST", re.compile(r"/2/tweets"), "/2/tweets", self._create_tweet),
            ("DELETE", re.compile(r"/2/tweets/(?P<id>[^/]+)"), "/2/tweets/{id}", self._delete),
            ("GET", re.compile(r"/2/usage/tweets"), "/2/usage/tweets", self._usage),
        ]
        self.clock: Callable[[], float] = time.time  # the limits' clock: a test or the bench may simulate time
        self.reset()

    # ----- Python control -------------------------------------------------------------------------------

    def reset(self) -> None:
        for hold in getattr(self, "_holds", []):
            hold[3].set()  # a request a failed test left held goes on, rather than hang for two minutes
        with self._lock:
            self.access = self.default_access
            self.timeline = Timeline(self.account_username, self.account_id, self.wrap_urls)
            self.tokens: dict[str, str] = {}  # access token -> user id of a further account
            self.requests: list[dict[str, Any]] = []
            self.spec_violations: list[str] = []
            self._faults: list[Fault] = []
            self._holds: list[tuple[str, str, threading.Event, threading.Event]] = []
            self.limits = Limits(lambda: self.clock())

    def add_user(self, username: str, name: str | None = None, followers: int = 0) -> str:
        with self._lock:
            return self.timeline.add_user(username, name, followers).id

    def add_account(self, username: str, user_id: str | None = None, access_token: str | None = None) -> str:
        """A further account the bot may serve: its user id. Requests signed with `access_token` (default
        "<username>-access") act as it: its /2/users/me, its posts, its posting windows."""
        with self._lock:
            user = self.timeline.add_user(username, username, user_id=user_id)
            self.tokens[access_token or f"{username}-access"] = user.id
            self.limits.add_user(user.id)
            return user.id

    def add_mention(self, text: str, username: str = "customer", name: str | None = None, followers: int = 0,
                    created_at: datetime | None = None, in_reply_to: str | None = None,
                    to: str | None = None) -> str:
        """A customer's tweet mentioning the account, or the account `to` (a username; the @handle is
        prepended when missing, unless `to` is not given and the text names a further account); its id."""
        handle = "@" + (to or self.account_username).lstrip("@")
        others = [] if to else ["@" + self.timeline.users[u].username.lower() for u in self.tokens.values()]
        if handle.lower() not in text.lower() and not any(o in text.lower() for o in others):
            text = f"{handle} {text}"
        with self._lock:
            user = self.timeline.add_user(username, name, followers or None)
            return self.timeline.add_tweet(text, user.id, created_at, in_reply_to).id

    def add_post(self, text: str, username: str = "customer", quote_of: str | None = None) -> str:
        """A customer's post that does not @mention the account (an /escalate finds it); `quote_of` quotes."""
        with self._lock:
            user = self.timeline.add_user(username)
            return self.timeline.add_tweet(text, user.id, quote_of=quote_of).id

    def set_limit(self, method: str, template: str, limit: int, window_s: float = 900.0) -> None:
        """X's rate limit for one endpoint (e.g. Basic's 10 mentions reads per 15 min), from now."""
        with self._lock:
            self.limits.set_limit(method, template, limit, window_s)

    def set_post_windows(self, windows: list[tuple[float, int]]) -> None:
        """The account's posting windows as (seconds, posts), e.g. [(900, 100), (10800, 300)]."""
        from sandbox.x_limits import Sliding
        with self._lock:
            self.limits.posts = [Sliding(float(s), int(n)) for s, n in windows]
            self.limits.post_windows = [(float(s), int(n)) for s, n in windows]
            for user in self.limits.by_user:
                self.limits.by_user[user] = [Sliding(float(s), int(n)) for s, n in windows]

    def cap_usage(self, capped: bool = True, reset_day: int = 12) -> None:
        """Every read answers 429 usage-capped (the monthly cap is reached) until called with False."""
        with self._lock:
            self.limits.capped, self.limits.cap_reset_day = capped, reset_day

    def posted(self, username: str | None = None) -> list[dict[str, Any]]:
        """Tweets the account (or the account `username`) created, oldest first, with their raw text."""
        with self._lock:
            user = self.timeline.user_by_name(username) if username else self.timeline.account
            author = user.id if user is not None else ""
            return [self._raw(t) for t in self.timeline.tweets.values() if t.author_id == author]

    def _acting(self, request: Request) -> Any:
        """The account a request acts as: the owner of its OAuth access token, else the first account."""
        found = _OAUTH_TOKEN.search(request.headers.get("authorization", ""))
        user_id = self.tokens.get(unquote(found.group(1))) if found else None
        return self.timeline.users[user_id] if user_id else self.timeline.account

    def tweets(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._raw(t) for t in self.timeline.tweets.values()]

    def delete_tweet(self, tweet_id: str) -> None:
        with self._lock:
            self.timeline.tweets[str(tweet_id)].deleted = True

    def fail_next(self, method: str, path_prefix: str, status: int, count: int = 1,
                  headers: dict[str, str] | None = None, body: Any = None, after: bool = False) -> None:
        """Answer the next `count` matching requests with status; after=True does the work first."""
        fault = Fault(method.upper(), path_prefix, status, count, dict(headers or {}), body, after)
        with self._lock:
            self._faults.append(fault)

    def hold_next(self, method: str, path_prefix: str) -> tuple[threading.Event, threading.Event]:
        """Hold the next matching request open before X looks at it: (arrived, release). The request goes on
        when `release` is set, as X would take a request its client has since given up on."""
        arrived, release = threading.Event(), threading.Event()
        with self._lock:
            self._holds.append((method.upper(), path_prefix, arrived, release))
        return arrived, release

    def _take_hold(self, request: Request) -> threading.Event | None:
        with self._lock:
            for hold in self._holds:
                if hold[0] == request.method and request.path.startswith(hold[1]):
                    self._holds.remove(hold)
                    hold[2].set()
                    return hold[3]
        return None

    @staticmethod
    def _raw(tweet: Tweet) -> dict[str, Any]:
        return {"id": tweet.id, "text": tweet.text, "author_id": tweet.author_id,
                "in_reply_to_tweet_id": tweet.in_reply_to_tweet_id, "conversation_id": tweet.conversation_id,
                "created_at": x_time(tweet.created_at), "deleted": tweet.deleted}

    # ----- HTTP -----------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        release = self._take_hold(request)
        if release is not None:
            release.wait(120)
        with self._lock:
            self._record(request)
            fault = self._take_fault(request)
            if fault is not None and not fault.after:
                return fault.reply()
            route = self._route(request)
            headers: dict[str, str] = {}
            if route is not None and request.headers.get("authorization", "").startswith(("OAuth ", "Bearer ")):
                kind = "app" if request.headers["authorization"].startswith("Bearer ") else "user"
                refused, headers = self.limits.admit(request.method, route[2], kind,
                                                     self._acting(request).id if kind == "user" else "")
                if refused is not None and self.enforce_limits:
                    return refused
            reply = self._api(request)
            if fault is not None:
                return fault.reply()
            if route is not None and reply.status < 300:
                self._count(route[2], request.method, reply, self._acting(request).id)
        for name, value in headers.items():
            reply.headers.setdefault(name, value)
        reply.headers.setdefault("x-rate-limit-limit", "180")
        reply.headers.setdefault("x-rate-limit-remaining", "179")
        reply.headers.setdefault("x-rate-limit-reset", str(int(self.clock()) + 900))
        return reply

    def _route(self, request: Request) -> tuple[str, re.Pattern[str], str, Handler] | None:
        return next((r for r in self._routes if r[0] == request.method and r[1].fullmatch(request.path)), None)

    def _count(self, template: str, method: str, reply: Reply, user_id: str = "") -> None:
        """What X bills and counts: the account's posts, and the posts a read returned."""
        if (method, template) == ("POST", "/2/tweets"):
            self.limits.posted(user_id)
        elif method == "GET" and isinstance(reply.body, dict) and template != "/2/usage/tweets":
            data = reply.body.get("data")
            if isinstance(data, list):
                self.limits.read(len(data))
            elif isinstance(data, dict) and "text" in data:
                self.limits.read(1)

    def _record(self, request: Request) -> None:
        auth = request.headers.get("authorization", "")
        body: Any = None
        if request.body:
            try:
                body = request.json()
            except ValueError:
                body = request.body.decode("utf-8", "replace")
        self.requests.append({
            "method": request.method, "path": request.path,
            "query": {k: v[0] for k, v in request.query.items()},
            "headers": {k: v for k, v in request.headers.items() if k != "authorization"},
            "auth": auth.split(" ", 1)[0] if auth else None, "json": body,
            "as": self._acting(request).username if auth.startswith("OAuth ") else None,
        })

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self._faults:
            if fault.method == request.method and request.path.startswith(fault.path_prefix):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _api(self, request: Request) -> Reply:
        if not request.headers.get("authorization", "").startswith(("OAuth ", "Bearer ")):
            return problem(401)
        for method, pattern, template, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                query = {k: v[0] for k, v in request.query.items()}
                errors = self._check_query(request.method, template, query, match.groupdict())
                if errors:
                    return invalid_request(errors)
                return handler(request, match.groupdict(), query)
        return problem(404, "The requested resource could not be found.")

    def _check_query(self, method: str, template: str, query: dict[str, str],
                     path: dict[str, str]) -> list[dict[str, Any]]:
        errors = [{"parameters": {"id": [value]},
                   "message": f"The `id` query parameter value [{value}] does not match ^[0-9]{{1,19}}$"}
                  for name, value in path.items() if name == "id" and not value.isdigit()]
        if self.validate:
            found = specs.check_x_query(method, template, query) or []
            self.spec_violations += [f"{method} {template}: {e['message']}" for e in found]
            errors += found
        elif "max_results" in query and not (query["max_results"].isdigit()
                                             and 5 <= int(query["max_results"]) <= 100):
            errors.append({"parameters": {"max_results": [query["max_results"]]},
                           "message": f"The `max_results` query parameter value [{query['max_results']}] "
                                      "is not between 5 and 100"})
        return errors

    @staticmethod
    def _fields(query: dict[str, str], name: str) -> set[str]:
        return {f for f in query.get(name, "").split(",") if f}

    def _tweets_body(self, tweets: list[Tweet], query: dict[str, str]) -> dict[str, Any]:
        tweet_fields = self._fields(query, "tweet.fields")
        body: dict[str, Any] = {"data": [self.timeline.render_tweet(t, tweet_fields) for t in tweets]}
        includes = self.timeline.includes(tweets, self._fields(query, "expansions"),
                                          self._fields(query, "user.fields"), tweet_fields)
        if includes:
            body["includes"] = includes
        return body

    def _user_body(self, user: User, query: dict[str, str]) -> Reply:
        fields = self._fields(query, "user.fields")
        return json_reply({"data": user.render(fields, self.timeline.tweet_count(user.id))})

    def _me(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        return self._user_body(self._acting(request), query)

    def _user_by_name(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        user = self.timeline.user_by_name(path["username"])
        if user is None:
            return json_reply({"errors": [not_found("user", path["username"], "username")]})
        return self._user_body(user, query)

    def _mentions(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        user = self.timeline.users.get(path["id"])
        if user is None:
            return json_reply({"errors": [not_found("user", path["id"])]})
        tweets = self.timeline.mentions_of(user)
        if "since_id" in query:
            tweets = [t for t in tweets if int(t.id) > int(query["since_id"])]
        if "until_id" in query:
            tweets = [t for t in tweets if int(t.id) < int(query["until_id"])]
        if "start_time" in query:
            start = parse_when(query["start_time"])
            tweets = [t for t in tweets if t.created_at >= start]
        if "end_time" in query:
            end = parse_when(query["end_time"])
            tweets = [t for t in tweets if t.created_at < end]
        return self._page(tweets, query)

    def _page(self, tweets: list[Any], query: dict[str, str]) -> Reply:
        """One page of a newest-first timeline: pagination_token, max_results, meta and next_token as X gives."""
        if "pagination_token" in query:
            try:
                below = int(query["pagination_token"], 36)
            except ValueError:
                return invalid_request([{"parameters": {"pagination_token": [query["pagination_token"]]},
                                         "message": "The `pagination_token` query parameter value "
                                                    f"[{query['pagination_token']}] is not valid"}])
            tweets = [t for t in tweets if int(t.id) < below]
        size = int(query.get("max_results", 10))
        page = tweets[:size]
        if not page:
            return json_reply({"meta": {"result_count": 0}})
        body = self._tweets_body(page, query)
        body["meta"] = {"result_count": len(page), "newest_id": page[0].id, "oldest_id": page[-1].id}
        if len(tweets) > size:
            body["meta"]["next_token"] = base36(int(page[-1].id))
        return json_reply(body)

    def _user_tweets(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        """A user's own tweets, newest first (GET /2/users/:id/tweets), with since_id/until_id and pages."""
        user = self.timeline.users.get(path["id"])
        if user is None:
            return json_reply({"errors": [not_found("user", path["id"])]})
        tweets = sorted((t for t in self.timeline.tweets.values() if t.author_id == user.id and not t.deleted),
                        key=lambda t: int(t.id), reverse=True)
        if "since_id" in query:
            tweets = [t for t in tweets if int(t.id) > int(query["since_id"])]
        if "until_id" in query:
            tweets = [t for t in tweets if int(t.id) < int(query["until_id"])]
        return self._page(tweets, query)

    def _get_tweet(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        tweet = self.timeline.live(path["id"])
        if tweet is None:
            return json_reply({"errors": [not_found("tweet", path["id"])]})
        body = self._tweets_body([tweet], query)
        body["data"] = body["data"][0]
        return json_reply(body)

    def _get_tweets(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        ids = [i for i in query.get("ids", "").split(",") if i]
        found = [t for t in (self.timeline.live(i) for i in ids) if t is not None]
        body = self._tweets_body(found, query) if found else {}
        missing = [not_found("tweet", i, "ids") for i in ids if self.timeline.live(i) is None]
        if missing:
            body["errors"] = missing
        return json_reply(body)

    def _create_tweet(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        try:
            body = request.json()
        except ValueError as err:
            return invalid_request([{"message": f"Request body is not valid JSON: {err}"}])
        if not isinstance(body, dict):
            return invalid_request([{"message": "Request body must be a JSON object"}])
        if self.validate:
            found = specs.x_schema_errors("TweetCreateRequest", body)
            self.spec_violations += [f"POST /2/tweets: {message}" for message in found]
            if found:
                return invalid_request([{"message": message} for message in found])
        text = str(body.get("text") or "")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not text and not body.get("media"):
            return invalid_request([{"message": "Post text or media is required."}])
        if reply_to and self.timeline.live(str(reply_to)) is None:
            return invalid_request([{"parameters": {"reply.in_reply_to_tweet_id": [str(reply_to)]},
                                     "message": REPLY_GONE}])
        parent_tweet = self.timeline.live(str(reply_to)) if reply_to else None
        author = self._acting(request)  # the account whose access token signed the request
        if parent_tweet is not None and self.access != "enterprise" and \
                not self.timeline.summons(parent_tweet, author):
            return problem(403, NOT_SUMMONED)
        if parse_tweet(text).weightedLength > 280:
            return problem(400, TOO_LONG)
        if any(t.author_id == author.id and not t.deleted and t.text == text
               for t in self.timeline.tweets.values()):
            return problem(403, DUPLICATE)
        parent = str(reply_to) if reply_to else None
        tweet = self.timeline.add_tweet(text, author.id, datetime.now(UTC), parent)
        log.info("X stand-in: @%s posted %s", author.username, tweet.id)
        return json_reply({"data": {"id": tweet.id, "text": self.timeline.render_text(text),
                                    "edit_history_tweet_ids": [tweet.id]}}, 201)

    def _usage(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return problem(403, "Authenticating with OAuth 1.0a User Context is forbidden for this endpoint. "
                                "Supported authentication types are [OAuth 2.0 Application-Only].",
                           type="https://api.twitter.com/2/problems/unsupported-authentication")
        return json_reply({"data": self.limits.usage()})

    def _delete(self, request: Request, path: dict[str, str], query: dict[str, str]) -> Reply:
        tweet = self.timeline.live(path["id"])
        if tweet is None or tweet.author_id != self._acting(request).id:
            return problem(403, "You are not allowed to delete this Tweet.") if tweet else json_reply(
                {"errors": [not_found("tweet", path["id"])]})
        tweet.deleted = True
        return json_reply({"data": {"deleted": True}})

    # ----- control plane --------------------------------------------------------------------------------

    def _control(self, request: Request) -> Reply:
        """POST mentions, users, accounts, delete, fail, reset; GET posted, tweets, violations, requests."""
        name = request.path.removeprefix("/_sandbox/")
        readers: dict[str, Callable[[], Any]] = {
            "posted": self.posted, "tweets": self.tweets, "violations": lambda: list(self.spec_violations),
            "requests": lambda: list(self.requests)}
        try:
            if request.method == "GET" and name in readers:
                with self._lock:
                    return json_reply(readers[name]())
            body = request.json() or {} if request.method == "POST" else {}
            if (request.method, name) == ("POST", "mentions"):
                when = parse_when(body.pop("created_at")) if body.get("created_at") else None
                return json_reply({"id": self.add_mention(created_at=when, **body)})
            if (request.method, name) == ("POST", "posts"):
                return json_reply({"id": self.add_post(**body)})
            if (request.method, name) == ("POST", "access"):
                self.access = str(body["access"])
                return json_reply({"ok": True})
            if (request.method, name) == ("POST", "users"):
                return json_reply({"id": self.add_user(**body)})
            if (request.method, name) == ("POST", "accounts"):
                return json_reply({"id": self.add_account(**body)})
            writers: dict[str, Callable[..., None]] = {
                "delete": lambda id: self.delete_tweet(id), "fail": self.fail_next, "reset": self.reset,
                "limit": self.set_limit, "cap": self.cap_usage,
                "post_windows": lambda windows: self.set_post_windows([tuple(w) for w in windows])}
            if request.method == "POST" and name in writers:
                writers[name](**body)
                return json_reply({"ok": True})
        except (KeyError, TypeError, ValueError) as err:
            return json_reply({"ok": False, "error": str(err)}, 400)
        return json_reply({"ok": False, "error": f"no control endpoint {request.method} {request.path}"}, 404)
