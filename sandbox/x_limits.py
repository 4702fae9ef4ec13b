"""X's limits as the stand-in enforces them: per-endpoint rate windows (x-rate-limit-* headers on every answer,
429 rate-limit-exceeded past them), the account's posting windows, and the monthly usage cap (429 usage-capped).

The numbers are X's documented self-serve (pay-per-use) limits of 2026; a test or the bench sets its own
(`XStandIn.set_limit`, `set_post_windows`, `cap_usage`) and may replace the clock to simulate time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.http import Reply, json_reply
from sandbox.x_problems import PROBLEMS

RATE_LIMITED = PROBLEMS + "rate-limit-exceeded"
USAGE_CAPPED = PROBLEMS + "usage-capped"
WINDOW_S = 900.0  # X's rate-limit windows are 15 minutes

# (method, path template) -> (per app (Bearer), per user (OAuth 1.0a)), each per 15 minutes.
RATE_LIMITS: dict[tuple[str, str], tuple[int, int]] = {
    ("GET", "/2/users/{id}/mentions"): (450, 300),
    ("GET", "/2/tweets/{id}"): (450, 900),
    ("GET", "/2/tweets"): (450, 900),
    ("GET", "/2/users/{id}/tweets"): (1500, 900),
    ("GET", "/2/users/me"): (75, 75),
    ("GET", "/2/users/by/username/{username}"): (300, 900),
    ("POST", "/2/tweets"): (10_000, 100),  # the app's is per 24 h, below
    ("DELETE", "/2/tweets/{id}"): (50, 50),
    ("GET", "/2/usage/tweets"): (50, 50),
}
# The account's posts, beyond the 15-minute rate limit: 300 per 3 hours (shared with reposts).
POST_WINDOWS: list[tuple[float, int]] = [(900.0, 100), (10_800.0, 300)]
MONTHLY_READ_CAP = 3_000_000  # pay-per-use: posts read per month


@dataclass
class Window:
    """A fixed window as X counts rate limits: `limit` requests from `start` for `seconds`."""

    limit: int
    seconds: float = WINDOW_S
    start: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.start + self.seconds:
            self.start, self.used = now, 0

    def headers(self, now: float) -> dict[str, str]:
        self.roll(now)
        return {"x-rate-limit-limit": str(self.limit),
                "x-rate-limit-remaining": str(max(0, self.limit - self.used)),
                "x-rate-limit-reset": str(int(self.start + self.seconds) + 1)}


@dataclass
class Sliding:
    """The account's posts in the last `seconds` (X's 300-per-3-hours is per user, not reset at a boundary)."""

    seconds: float
    limit: int
    times: deque[float] = field(default_factory=deque)

    def free_at(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return now if len(self.times) < self.limit else self.times[0] + self.seconds


class Limits:
    """Every window the stand-in counts; its owner holds the lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.rates = dict(RATE_LIMITS)
        self.windows: dict[tuple[str, str, str], Window] = {}
        self.posts = [Sliding(s, n) for s, n in POST_WINDOWS]  # the first account's; others' in by_user
        self.post_windows = list(POST_WINDOWS)
        self.by_user: dict[str, list[Sliding]] = {}  # further accounts' posting windows, each its own
        self.read_cap = MONTHLY_READ_CAP
        self.reads = 0  # posts read this cycle (the usage endpoint's project_usage)
        self.daily_reads: dict[str, int] = {}
        self.capped = False  # set by a test: every read answers usage-capped until lifted
        self.cap_reset_day = 12
        self.throttled = 0  # 429s answered, for tests and the bench

    def window(self, method: str, template: str, kind: str, user: str = "") -> Window | None:
        """The window a request counts in: the app's (Bearer), or the user's (OAuth 1.0a: per account)."""
        limits = self.rates.get((method, template))
        if limits is None:
            return None
        key = (method, template, kind + (f":{user}" if user and user in self.by_user else ""))
        if key not in self.windows:
            self.windows[key] = Window(limits[0] if kind == "app" else limits[1], start=self.clock())
        return self.windows[key]

    def set_limit(self, method: str, template: str, limit: int, window_s: float = WINDOW_S) -> None:
        self.rates[(method.upper(), template)] = (limit, limit)
        for kind in ("app", "user", *(f"user:{u}" for u in self.by_user)):
            self.windows[(method.upper(), template, kind)] = Window(limit, window_s, start=self.clock())

    def user_posts(self, user: str = "") -> list[Sliding]:
        """A user's posting windows: the first account's are `posts`; a further account's are its own."""
        return self.by_user[user] if user in self.by_user else self.posts

    def add_user(self, user: str) -> None:
        """A further account: its own posting windows and per-user rate windows, as X counts them."""
        self.by_user.setdefault(user, [Sliding(s, n) for s, n in self.post_windows])

    def admit(self, method: str, template: str, kind: str, user: str = "") -> tuple[Reply | None, dict[str, str]]:
        """(a 429 if this request is over a limit, else None; the rate-limit headers to send)."""
        now = self.clock()
        window = self.window(method, template, kind, user)
        headers = window.headers(now) if window else {}
        is_read = method == "GET" and template != "/2/usage/tweets" and "/users/me" not in template
        if is_read and (self.capped or self.reads >= self.read_cap):
            self.throttled += 1
            return usage_capped(headers), headers
        if window is not None and window.used >= window.limit:
            self.throttled += 1
            return rate_limited(headers), headers
        if (method, template) == ("POST", "/2/tweets") and kind == "user":
            free = max(w.free_at(now) for w in self.user_posts(user))
            if free > now:
                self.throttled += 1
                held = {**headers, "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(free) + 1)}
                return rate_limited(held), held
        if window is not None:
            window.used += 1
            headers = window.headers(now)
        return None, headers

    def posted(self, user: str = "") -> None:
        now = self.clock()
        for w in self.user_posts(user):
            w.times.append(now)

    def read(self, count: int) -> None:
        """Pay-per-use bills posts returned (an empty page costs nothing)."""
        self.reads += count
        day = time.strftime("%Y-%m-%d", time.gmtime(self.clock()))
        self.daily_reads[day] = self.daily_reads.get(day, 0) + count

    def usage(self) -> dict[str, object]:
        """GET /2/usage/tweets's data (Get2UsageTweetsResponse)."""
        days = [{"date": f"{day}T00:00:00.000Z", "usage": n} for day, n in sorted(self.daily_reads.items())]
        return {"project_id": "1", "project_cap": self.read_cap, "project_usage": self.reads,
                "cap_reset_day": self.cap_reset_day,
                "daily_project_usage": {"project_id": 1, "usage": days or [
                    {"date": time.strftime("%Y-%m-%dT00:00:00.000Z", time.gmtime(self.clock())), "usage": 0}]}}


def rate_limited(headers: dict[str, str]) -> Reply:
    return json_reply({"title": "Too Many Requests", "detail": "Too Many Requests", "type": RATE_LIMITED,
                       "status": 429}, 429, {**headers, "x-rate-limit-remaining": "0"})


def usage_capped(headers: dict[str, str]) -> Reply:
    return json_reply({"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap",
                       "type": USAGE_CAPPED, "period": "Monthly", "scope": "Product", "status": 429}, 429, headers)
