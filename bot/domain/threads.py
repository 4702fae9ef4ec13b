"""What a Slack thread the bot posted stands for: a ticket, a storm, or the old place of a moved ticket."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ThreadKind(StrEnum):
    TICKET = "ticket"  # replies here are relayed to the ticket's tweet
    STORM = "storm"  # a storm's thread: replies go to the storm's broadcast
    MOVED = "moved"  # a reassigned ticket's old thread: no ticket here any more, replies are not relayed


@dataclass(frozen=True)
class ThreadRef:
    kind: ThreadKind
    id: str  # the ticket's tweet id, or the storm's id

    @classmethod
    def ticket(cls, tweet_id: str) -> ThreadRef:
        return cls(ThreadKind.TICKET, tweet_id)

    @classmethod
    def storm(cls, storm_id: str) -> ThreadRef:
        return cls(ThreadKind.STORM, storm_id)

    @classmethod
    def moved(cls, tweet_id: str) -> ThreadRef:
        return cls(ThreadKind.MOVED, tweet_id)

    @property
    def ticket_id(self) -> str | None:
        """The ticket whose thread this is; None for a storm's thread or a moved ticket's old one."""
        return self.id if self.kind is ThreadKind.TICKET else None
