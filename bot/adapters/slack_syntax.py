"""Slack's message syntax in one place: mentions, user groups, channel links, and the tweet URLs posts carry."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.text import escape_slack


def tweet_url(username: str, tweet_id: str) -> str:
    """The tweet's address on X (`i` stands in for an unknown author: X redirects it)."""
    return f"https://x.com/{username or 'i'}/status/{tweet_id}"


def mention(user: str) -> str:
    """A person, pinged: <@U…>."""
    return f"<@{user}>"


def mention_each(users: Iterable[str]) -> str:
    """People (or user groups) pinged at the start of a sentence: each mention followed by a space."""
    return "".join(f"{person_or_group(u)} " for u in users)


def person_or_group(who: str) -> str:
    """A user id as a mention, a user group id (S…) as the group's handle."""
    return f"<!subteam^{who}>" if who.startswith("S") else mention(who)


def people_or_groups(ids: Iterable[str]) -> str:
    """Routing's lists (operators, leads) as Slack shows them, for "ask one of …" sentences."""
    return ", ".join(person_or_group(i) for i in sorted(ids))


def channel_link(channel: str) -> str:
    return f"<#{channel}>"


def quoted(text: str) -> str:
    """Text as the rest of a `>` quote the message template opened: escaped, every further line quoted too."""
    return escape_slack(text).replace("\n", "\n>")
