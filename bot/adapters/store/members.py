"""A short memory of "is this person in that channel" answers, so a staff reply does not wait on Slack for it."""

from __future__ import annotations

from typing import Any

from bot.adapters.store.tickets import P

MEMBER_TTL_S = 60  # a "yes" is trusted this long: someone removed from a channel may still answer for a minute


class MemberKeys:
    r: Any

    def known_member(self, channel: str, user: str) -> bool:
        """Whether Slack said in the last MEMBER_TTL_S that user is in channel (a "no" is never remembered:
        someone just invited must not be refused)."""
        return bool(self.r.exists(P + f"member:{channel}:{user}"))

    def remember_member(self, channel: str, user: str) -> None:
        self.r.set(P + f"member:{channel}:{user}", "1", ex=MEMBER_TTL_S)
