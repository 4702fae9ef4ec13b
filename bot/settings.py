"""Environment -> frozen Settings. The only module that reads os.environ for the bot's configuration."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.errors import SettingsError

SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
X_READ_VARS = ("X_BEARER_TOKEN",)
X_WRITE_VARS = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
SECRET_VARS = SLACK_VARS + ("SLACK_APP_TOKEN",) + X_READ_VARS + X_WRITE_VARS + ("SMTP_URL",)


X_SUFFIXES = tuple(name.removeprefix("X_") for name in X_READ_VARS + X_WRITE_VARS)  # API_KEY, ...
X_WRITE_SUFFIXES = X_SUFFIXES[len(X_READ_VARS):]  # what posting as an account needs


def write_vars(prefix: str) -> list[str]:
    """The variables an account behind `prefix` needs to post: X_SHOW_API_KEY, ..."""
    return [prefix + suffix for suffix in X_WRITE_SUFFIXES]


@dataclass(frozen=True)
class XCredentials:
    """One X account's credentials, read from the variables behind its routing.yaml `env_prefix`."""

    prefix: str = "X_"
    bearer_token: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    api_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    access_token_secret: str | None = field(default=None, repr=False)

    def missing(self) -> list[str]:
        """The variables needed to post as the account that are not set, by name (e.g. X_SHOW_API_KEY)."""
        return [self.prefix + suffix for suffix in X_WRITE_SUFFIXES if not getattr(self, suffix.lower())]


@dataclass(frozen=True)
class Settings:
    redis_url: str = "redis://localhost:6379/0"
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    x_api_url: str = "https://api.twitter.com"
    x_bearer_token: str | None = field(default=None, repr=False)
    x_api_key: str | None = field(default=None, repr=False)
    x_api_secret: str | None = field(default=None, repr=False)
    x_access_token: str | None = field(default=None, repr=False)
    x_access_token_secret: str | None = field(default=None, repr=False)
    x_user_id: str | None = None
    x_poll_seconds: int | None = None  # None: adaptive, from X's rate-limit window
    routing_file: str = "routing.yaml"
    port: int = 3000
    smtp_url: str | None = field(default=None, repr=False)  # smtp[s]://user:pass@host:port; holds a password
    slack_post_interval: float = 1.0  # SLACK_POST_INTERVAL: seconds between posts to one channel (Slack: ~1)
    # Every X_*{API_KEY,...} variable set: the credentials of accounts behind another env_prefix (issue 16).
    x_env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def require(self, *names: str) -> None:
        """Raise SettingsError naming the first missing variable (by its environment name)."""
        for name in names:
            if not getattr(self, name.lower()):
                raise SettingsError(f"missing environment variable {name}")

    def secrets(self) -> list[str]:
        """Every secret value that is set, so log filters can mask them (every account's X credentials too)."""
        return [v for v in (getattr(self, n.lower()) for n in SECRET_VARS) if v] + \
            [v for v in self.x_env.values() if v]

    def x_credentials(self, prefix: str = "X_") -> XCredentials:
        """The X credentials behind an account's env_prefix: {prefix}API_KEY, {prefix}BEARER_TOKEN, ..."""
        if prefix == "X_":
            return XCredentials(prefix, self.x_bearer_token, self.x_api_key, self.x_api_secret, self.x_access_token,
                                self.x_access_token_secret)
        return XCredentials(prefix, *(self.x_env.get(prefix + suffix) or None for suffix in X_SUFFIXES))


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"environment variable {name} must be at least {minimum}, got {value}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the contract's environment variables; empty strings count as unset."""
    env = os.environ if env is None else env

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name)
        return value if value else default

    slack_api_url = get("SLACK_API_URL", "https://slack.com/api/") or ""
    if not slack_api_url.endswith("/"):
        slack_api_url += "/"
    return Settings(
        redis_url=get("REDIS_URL", "redis://localhost:6379/0") or "",
        slack_bot_token=get("SLACK_BOT_TOKEN"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=get("SLACK_APP_TOKEN"),
        slack_api_url=slack_api_url,
        x_api_url=(get("X_API_URL", "https://api.twitter.com") or "").rstrip("/"),
        x_bearer_token=get("X_BEARER_TOKEN"),
        x_api_key=get("X_API_KEY"),
        x_api_secret=get("X_API_SECRET"),
        x_access_token=get("X_ACCESS_TOKEN"),
        x_access_token_secret=get("X_ACCESS_TOKEN_SECRET"),
        x_user_id=get("X_USER_ID"),
        x_poll_seconds=_int(env, "X_POLL_SECONDS", 0) or None,
        routing_file=get("ROUTING_FILE", "routing.yaml") or "",
        port=_int(env, "PORT", 3000, minimum=0),
        smtp_url=get("SMTP_URL"),
        slack_post_interval=_seconds(env, "SLACK_POST_INTERVAL", 1.0),
        x_env={k: v for k, v in env.items() if k.startswith("X_") and k.endswith(X_SUFFIXES) and v},
    )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value <= 60:
        raise SettingsError(f"environment variable {name} must be between 0 and 60 seconds, got {value}")
    return value


# -- `python -m bot check`: every problem with the environment at once -------------------------------------

REQUIRED_VARS = SLACK_VARS + X_WRITE_VARS
TOKEN_PREFIXES = {"SLACK_BOT_TOKEN": ("xoxb-",), "SLACK_APP_TOKEN": ("xapp-",)}
URL_SCHEMES = {"REDIS_URL": ("redis://", "rediss://", "unix://", "redis+sentinel://", "rediss+sentinel://"),
               "SLACK_API_URL": ("http://", "https://"),
               "X_API_URL": ("http://", "https://"), "SMTP_URL": ("smtp://", "smtps://")}
NUMBERS = {"X_POLL_SECONDS": 1, "PORT": 0}


def problems(env: Mapping[str, str] | None = None, accounts: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Every missing or malformed variable, one line each (empty when the bot can start).

    `accounts`: (id, env_prefix) of the further X accounts in routing.yaml; each missing credential is named."""
    env = os.environ if env is None else env
    found = [f"missing environment variable {name}" for name in REQUIRED_VARS if not env.get(name)]
    for account, prefix in accounts:
        if prefix != "X_":
            found += [f"account {account}: {name} is not set"
                      for name in write_vars(prefix) if not env.get(name)]
    for name, prefixes in TOKEN_PREFIXES.items():
        value = env.get(name)
        if value and not value.startswith(prefixes):
            found.append(f"{name} must start with {' or '.join(prefixes)} (got {value[:5]!r}…): copy it again from "
                         "the app's settings at https://api.slack.com/apps")
    for name in SECRET_VARS:
        value = env.get(name)
        if value and value != value.strip():
            found.append(f"{name} has spaces at its start or end: copy it again without them")
    for name, schemes in URL_SCHEMES.items():
        value = env.get(name)
        if value and not value.startswith(schemes):
            found.append(f"{name} must start with {' or '.join(schemes)}")
    for name, minimum in NUMBERS.items():
        try:
            _int(env, name, minimum, minimum)
        except SettingsError as exc:
            found.append(str(exc))
    return found
