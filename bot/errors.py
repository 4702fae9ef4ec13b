"""The bot's own errors: one root, small named subclasses, messages that say what to do next."""

from __future__ import annotations

from collections.abc import Iterable


class BotError(Exception):
    """Root of every error the bot raises on purpose."""


class ConfigError(BotError):
    """The configuration (environment or routing file) cannot be used; the bot must not start."""


class RoutingError(ConfigError):
    """A routing file breaks the schema; names the file, the line and the key path."""

    def __init__(self, file: str, line: int | None, key: str, message: str) -> None:
        super().__init__(file, line, key, message)
        self.file = file
        self.line = line
        self.key = key
        self.message = message

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class SettingsError(ConfigError):
    """A required environment variable is missing or malformed."""


class UnknownName(BotError, KeyError):
    """A department or policy name that the routing does not define; lists the known ones."""

    kind = "name"

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(name, self.known)  # both in args, so the error pickles (RQ, multiprocessing)

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.name!r} (known: {', '.join(self.known) or 'none'})"


class UnknownDepartment(UnknownName):
    kind = "department"


class UnknownPolicy(UnknownName):
    kind = "policy"


class ExternalServiceError(BotError):
    """Slack, X or Redis failed in a way a retry may fix."""
