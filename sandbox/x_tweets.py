"""The X stand-in's world: users and tweets, and how X renders them (fields, entities, t.co, escaping)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from twitter_text import extract_urls_with_indices

TWEET_ID_START = 1_860_000_000_000_000_000
USER_ID_START = 1_700_000_000
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@([A-Za-z0-9_]{1,15})")
_HASHTAG = re.compile(r"(?<![\w&])[#＃](\w*[^\W\d_]\w*)")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def x_time(moment: datetime) -> str:
    """X's timestamp format: 2021-01-06T18:40:40.000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def x_escape(text: str) -> str:
    """X sends exactly &, < and > as HTML entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tco(url: str) -> str:
    """A stable t.co-style short link for url."""
    number = int.from_bytes(hashlib.sha1(url.encode("utf-8")).digest()[:8], "big")
    code = ""
    while len(code) < 10:
        number, digit = divmod(number, 62)
        code += _BASE62[digit]
    return "https://t.co/" + code


@dataclass
class User:
    id: str
    username: str
    name: str
    followers: int = 0
    created_at: datetime = field(default_factory=lambda: datetime(2015, 3, 1, tzinfo=UTC))

    def render(self, fields: set[str], tweet_count: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "username": self.username}
        if "created_at" in fields:
            out["created_at"] = x_time(self.created_at)
        if "public_metrics" in fields:
            out["public_metrics"] = {"followers_count": self.followers, "following_count": 0,
                                     "tweet_count": tweet_count, "listed_count": 0, "like_count": 0}
        for name, value in (("protected", False), ("verified", False), ("description", "")):
            if name in fields:
                out[name] = value
        return out


@dataclass
class Tweet:
    id: str
    text: str  # raw, as written
    author_id: str
    created_at: datetime
    conversation_id: str
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    deleted: bool = False
    quoted_tweet_id: str | None = None  # a quote post: the post it quotes


class Timeline:
    """Users and tweets in creation order; ids grow like snowflakes."""

    def __init__(self, account_username: str, account_id: str, wrap_urls: bool = True) -> None:
        self.wrap_urls = wrap_urls
        self.users: dict[str, User] = {}
        self.tweets: dict[str, Tweet] = {}
        self._next_tweet = TWEET_ID_START
        self._next_user = USER_ID_START
        self.account = self.add_user(account_username, "Escalator", user_id=account_id)

    def add_user(self, username: str, name: str | None = None, followers: int | None = None,
                 user_id: str | None = None) -> User:
        """The user with this username, created if new; name and followers updated when given."""
        user = self.user_by_name(username)
        if user is None:
            if user_id is None:
                self._next_user += 1
                user_id = str(self._next_user)
            user = User(user_id, username, name or username)
            self.users[user_id] = user
        if name is not None:
            user.name = name
        if followers is not None:
            user.followers = followers
        return user

    def user_by_name(self, username: str) -> User | None:
        wanted = username.lstrip("@").lower()
        return next((u for u in self.users.values() if u.username.lower() == wanted), None)

    def live(self, tweet_id: str) -> Tweet | None:
        tweet = self.tweets.get(str(tweet_id))
        return tweet if tweet is not None and not tweet.deleted else None

    def add_tweet(self, text: str, author_id: str, created_at: datetime | None = None,
                  in_reply_to: str | None = None, quote_of: str | None = None) -> Tweet:
        parent = self.live(in_reply_to) if in_reply_to else None
        if in_reply_to and parent is None:
            raise KeyError(f"no tweet {in_reply_to} to reply to")
        self._next_tweet += 1 + len(self.tweets) % 7  # gaps, like real snowflakes
        tweet_id = str(self._next_tweet)
        tweet = Tweet(tweet_id, text, author_id, created_at or datetime.now(UTC),
                      conversation_id=parent.conversation_id if parent else tweet_id,
                      in_reply_to_tweet_id=parent.id if parent else None,
                      in_reply_to_user_id=parent.author_id if parent else None,
                      quoted_tweet_id=str(quote_of) if quote_of else None)
        self.tweets[tweet_id] = tweet
        return tweet

    def summons(self, tweet: Tweet, user: User) -> bool:
        """Whether the tweet's author summoned `user`: it is theirs, it @mentions them, or it quotes their post."""
        handle = "@" + user.username.lower()
        quoted = self.tweets.get(tweet.quoted_tweet_id or "")
        return (tweet.author_id == user.id
                or any(m.group(0).lower() == handle for m in _MENTION.finditer(tweet.text))
                or (quoted is not None and quoted.author_id == user.id))

    def mentions_of(self, user: User) -> list[Tweet]:
        """Live tweets mentioning user, by others, newest first."""
        handle = "@" + user.username.lower()
        found = [t for t in self.tweets.values() if not t.deleted and t.author_id != user.id
                 and any(m.group(0).lower() == handle for m in _MENTION.finditer(t.text))]
        return sorted(found, key=lambda t: int(t.id), reverse=True)

    def display_text(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """The text with URLs as t.co links (unescaped), and the url entities."""
        if not self.wrap_urls:
            return text, []
        out, urls, cursor = "", [], 0
        for found in extract_urls_with_indices(text):
            start, end = found["indices"]
            out += text[cursor:start]
            link = tco(found["url"])
            expanded = found["url"] if "://" in found["url"] else "http://" + found["url"]
            display = re.sub(r"^https?://(www\.)?", "", expanded)
            urls.append({"start": len(out), "end": len(out) + len(link), "url": link,
                         "expanded_url": expanded,
                         "display_url": display if len(display) <= 26 else display[:25] + "…"})
            out += link
            cursor = end
        return out + text[cursor:], urls

    def render_text(self, text: str) -> str:
        return x_escape(self.display_text(text)[0])

    def entities(self, text: str) -> dict[str, Any]:
        shown, urls = self.display_text(text)
        entities: dict[str, Any] = {}
        mentions = []
        for m in _MENTION.finditer(shown):
            user = self.user_by_name(m.group(1))
            mentions.append({"start": m.start(), "end": m.end(), "username": m.group(1),
                             **({"id": user.id} if user else {})})
        hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(shown)]
        for name, items in (("mentions", mentions), ("hashtags", hashtags), ("urls", urls)):
            if items:
                entities[name] = items
        return entities

    def render_tweet(self, tweet: Tweet, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": tweet.id, "text": self.render_text(tweet.text),
                               "edit_history_tweet_ids": [tweet.id]}
        if "created_at" in fields:
            out["created_at"] = x_time(tweet.created_at)
        if "author_id" in fields:
            out["author_id"] = tweet.author_id
        if "conversation_id" in fields:
            out["conversation_id"] = tweet.conversation_id
        if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
            out["in_reply_to_user_id"] = tweet.in_reply_to_user_id
        refs = [{"type": "replied_to", "id": tweet.in_reply_to_tweet_id}] if tweet.in_reply_to_tweet_id else []
        refs += [{"type": "quoted", "id": tweet.quoted_tweet_id}] if tweet.quoted_tweet_id else []
        if "referenced_tweets" in fields and refs:
            out["referenced_tweets"] = refs
        if "entities" in fields and (entities := self.entities(tweet.text)):
            out["entities"] = entities
        if "lang" in fields:
            out["lang"] = "ko" if re.search("[\uac00-\ud7a3]", tweet.text) else "en"
        if "public_metrics" in fields:
            out["public_metrics"] = {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0,
                                     "bookmark_count": 0, "impression_count": 0}
        return out

    def includes(self, tweets: list[Tweet], expansions: set[str], user_fields: set[str],
                 tweet_fields: set[str]) -> dict[str, Any]:
        """The `includes` object for these tweets and expansions (empty dict when nothing to add)."""
        user_ids: list[str] = []
        referenced: list[Tweet] = []
        for tweet in tweets:
            if "author_id" in expansions:
                user_ids.append(tweet.author_id)
            if "in_reply_to_user_id" in expansions and tweet.in_reply_to_user_id:
                user_ids.append(tweet.in_reply_to_user_id)
            if "entities.mentions.username" in expansions:
                user_ids += [m["id"] for m in self.entities(tweet.text).get("mentions", []) if "id" in m]
            if "referenced_tweets.id" in expansions:
                for ref in (tweet.in_reply_to_tweet_id, tweet.quoted_tweet_id):
                    parent = self.live(ref) if ref else None
                    if parent is not None:
                        referenced.append(parent)
        out: dict[str, Any] = {}
        unique = list(dict.fromkeys(user_ids))
        if unique:
            out["users"] = [self.users[u].render(user_fields, self.tweet_count(u))
                            for u in unique if u in self.users]
        if referenced:
            unique_tweets = {t.id: t for t in referenced}.values()
            out["tweets"] = [self.render_tweet(t, tweet_fields) for t in unique_tweets]
        return out

    def tweet_count(self, user_id: str) -> int:
        return sum(1 for t in self.tweets.values() if t.author_id == user_id and not t.deleted)
