"""Text at the edges: X tweet text -> Slack mrkdwn, Slack mrkdwn -> plain text for X, tweet length."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import emoji
from twitter_text import parse_tweet
from twitter_text.config import config as _twitter_config

# --- escaping

# X encodes exactly these three in tweet text, and Slack decodes exactly these three; html.unescape would also
# turn a literally typed "&copy" (no semicolon needed) into ©, so it is deliberately not used.
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITY_CHAR = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_entities(text: str) -> str:
    """Decode &amp; &lt; &gt; once, in one pass: "&amp;lt;" becomes the literal "&lt;", not "<"."""
    return _ENTITY.sub(lambda m: _ENTITY_CHAR[m.group(1)], text)


def escape_slack(text: str) -> str:
    """Escape &, < and > for Slack mrkdwn so the text can never form a mention, a link or a command."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tweet_to_slack(text: str) -> str:
    """Tweet text as X returns it (entity-encoded) -> mrkdwn that shows exactly what the customer typed.

    Without `<` nothing can become <!channel>, <@U…>, <#C…>, <!subteam^…> or a link. Bare words like
    "@channel" or "@here" only ping when a message is posted with link_names (or parse=full), which the bot
    never sets, so they are left as the customer wrote them.
    """
    return escape_slack(unescape_entities(text))


# --- Slack mrkdwn -> plain text

_CODE = re.compile(r"```(.*?)```|`([^`\n]+)`", re.DOTALL)
_TOKEN = re.compile(r"<([^<>]*)>")
_STRAY = re.compile(r"[<>]")  # Slack sends a typed < or > as an entity, so a bare one is never text
_SHORTCODE = re.compile(r":([a-z0-9_+'-]+):(?::skin-tone-([2-6]):)?", re.IGNORECASE)
_SKIN_TONES = {"2": "\U0001f3fb", "3": "\U0001f3fc", "4": "\U0001f3fd", "5": "\U0001f3fe", "6": "\U0001f3ff"}
_SLACK_ONLY = {"simple_smile": "\U0001f642"}  # names Slack has that the emoji package's aliases lack
# A marker pair counts only when it wraps words: not inside snake_case, 2*3*4 or "a * b".
# The text inside holds no marker, which keeps the search linear on lines full of unmatched markers.
_MARKERS = [re.compile(rf"(?<![\w{m}])\{m}(?=[^\s{m}])([^{m}\n]*?)(?<=[^\s{m}])\{m}(?![\w{m}])")
            for m in "*_~"]


def _free_chars(text: str, count: int) -> list[str]:
    """Private-use characters that do not occur in text, to stand in for pieces kept out of later steps."""
    private = itertools.chain(range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))
    free = (chr(cp) for cp in private if chr(cp) not in text)
    return list(itertools.islice(free, count))


def _link(target: str, label: str | None) -> str:
    """A link's URL, since X shows URLs; the label only when it is the URL as typed (Slack's auto-link)."""
    scheme, _, rest = target.partition(":")
    if scheme.lower() == "mailto":
        return label or rest
    if scheme.lower() in ("http", "https"):
        return label if label and target.split("://", 1)[-1] == label else target
    return label or target


def _token(inner: str, users: Mapping[str, str]) -> str | None:
    """The plain text for one <…> sequence, or None when it is a mention to remove."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        name = users.get(target[1:])
        return None if name is None else escape_slack(name)
    if target.startswith("!date^"):
        return label or None
    if target.startswith(("#", "!")):
        return None
    return _link(target, label or None)


def _lookup(name: str) -> str | None:
    """The emoji for a Slack shortcode name, or None when neither Slack nor the alias list knows it."""
    if name in _SLACK_ONLY:
        return _SLACK_ONLY[name]
    for candidate in (f":{name}:", f":{name.replace('-', '_')}:"):
        if (found := emoji.emojize(candidate, language="alias")) != candidate:
            return found
    if flag := re.fullmatch(r"flag-([a-z]{2})", name):  # Slack's :flag-kr:
        return "".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in flag.group(1))
    if skin := re.fullmatch(r"skin-tone-([2-6])", name):
        return _SKIN_TONES[skin.group(1)]
    return None


def _emojize(text: str) -> str:
    """:code: -> emoji with Slack's names; :code::skin-tone-N: adds the modifier; unknown codes stay."""
    out, pos = [], 0
    while (m := _SHORTCODE.search(text, pos)) is not None:
        found, tone = _lookup(m.group(1).lower()), m.group(2)
        if found is None:
            out.append(text[pos:m.end(1)])
            pos = m.end(1)  # the closing colon may open the next code, as in "10:30:smile:"
            continue
        if tone:
            toned = found[0] + _SKIN_TONES[tone] + found[1:].removeprefix("\ufe0f")
            found = toned if emoji.is_emoji(toned) else found
        out.append(text[pos:m.start()] + found)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_CLOSING = set(".,!?;:…%。、！？，．：；")


def _is_closing(ch: str) -> bool:
    """Punctuation that sits right after a word, so no space goes before it ("Hi <@U1>!" -> "Hi!")."""
    return ch in _CLOSING or unicodedata.category(ch) in ("Pe", "Pf")


def _close_gaps(s: str, gap: str) -> str:
    """Remove mention stand-ins with the spaces around them, so no double spaces or empty lines remain."""
    g = re.escape(gap)
    run = re.compile(rf"[ \t]*{g}(?:[ \t,:，：]*{g})*[ \t]*(?P<tail>[,:，：][ \t]*)?(?P<nl>\n)?")

    def close(m: re.Match[str]) -> str:
        tail, nl = m.group("tail") or "", m.group("nl") or ""
        line_start = m.start() == 0 or s[m.start() - 1] == "\n"
        line_end = bool(nl) or m.end() == len(s)
        if line_start:  # "<@U1>, hello" -> "hello"; a line of only mentions goes, newline and all
            return ""
        if line_end:
            return tail.rstrip() + nl
        after = tail[:1] or s[m.end()]
        before = s[m.start() - 1]
        space = "" if _is_closing(after) or unicodedata.category(before) in ("Ps", "Pi") else " "
        return space + tail

    return run.sub(close, s)


def _convert(text: str, users: Mapping[str, str], markup: bool) -> str:
    held: list[str] = []
    hold, gap = _free_chars(text, 2)

    def keep(piece: str) -> str:
        # Numbered: pieces are kept out of text order (code first, then links), and a link may wrap code.
        held.append(piece)
        return f"{hold}{len(held) - 1}{hold}"

    if markup:  # code is shown as typed: no emoji, no formatting, only its mentions resolved
        text = _CODE.sub(lambda m: keep(_convert(m.group(1) or m.group(2) or "", users, False)), text)

    def token(m: re.Match[str]) -> str:
        plain = _token(m.group(1), users)
        return gap if plain is None else keep(unescape_entities(plain))

    text = _TOKEN.sub(token, text)
    text = _STRAY.sub(gap, text)
    # Decoded before the gaps close, so "&" and "lt;" either side of a removed mention never make "<".
    text = unescape_entities(text)
    if markup:
        text = _emojize(text)
        for marker in _MARKERS:
            text = marker.sub(r"\1", text)
    text = _close_gaps(text, gap)
    kept = re.compile(re.escape(hold) + r"(\d+)" + re.escape(hold))

    def expand(piece: str) -> str:
        return kept.sub(lambda m: expand(held[int(m.group(1))]), piece)

    parts = kept.split(text)  # text, piece number, text, piece number, …, text
    out = parts[0]
    for number, part in zip(parts[1::2], parts[2::2], strict=True):
        for chunk in (expand(held[int(number)]), part):  # a kept piece ending in a space next to a gap's: one
            out += chunk.lstrip(" \t") if out.endswith((" ", "\t")) and chunk.startswith((" ", "\t")) else chunk
    return out


def slack_to_plain(text: str, users: Mapping[str, str] | None = None) -> str:
    """A Slack message as Slack delivers it (mrkdwn, entity-escaped) -> plain text for a tweet.

    Links become their URL (or the address for mailto:); user, channel and special mentions are removed
    (a date shows its fallback text). `users` maps a Slack user id to text to show instead of removing the
    mention, e.g. a public signature; ids not in it are removed. Entities are decoded once, :shortcodes:
    become emoji, *bold* _italic_ ~strike~ and `code` lose their markers. Newlines are kept.
    """
    return _convert(text, users or {}, True).strip()


# --- tweet length

_V3 = _twitter_config["version3"]


@dataclass(frozen=True, slots=True)
class TweetLength:
    """twitter-text v3 weighted length; not valid when empty, over the limit, or holding U+FFFE/FEFF/FFFF."""

    weighted: int
    limit: int
    valid: bool
    over_by: int


def tweet_length(text: str) -> TweetLength:
    """Weighted length per twitter-text v3: Hangul and most CJK 2, a URL 23, an emoji 2, limit 280."""
    parsed = parse_tweet(text, _V3)
    limit = int(_V3["max_weighted_tweet_length"])
    return TweetLength(parsed.weightedLength, limit, parsed.valid, max(0, parsed.weightedLength - limit))


# --- matching and notes


def normalise_for_match(text: str) -> str:
    """NFKC + casefold, so full-width letters and compatibility forms match; Hangul stays Hangul."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def is_internal_note(text: str, prefix: str) -> bool:
    """True when the message starts with the note prefix (leading whitespace, width and case ignored).

    Takes Slack's text as delivered or already plain: entities are decoded first, so a prefix like ">>"
    matches the "&gt;&gt;" Slack sends. An empty prefix means nothing is a note.
    """
    wanted = normalise_for_match(prefix.strip())
    return bool(wanted) and normalise_for_match(unescape_entities(text).lstrip()).startswith(wanted)


# --- Slack limits


def _joins_previous(ch: str) -> bool:
    """True for a character that belongs to the grapheme before it: marks, ZWJ, selectors, tones, jamo."""
    cp = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Me", "Mc") or cp == 0x200D or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or 0x1160 <= cp <= 0x11FF)


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def truncate_for_slack(text: str, limit: int = 3000, ellipsis: str = "…") -> str:
    """Cut mrkdwn to at most `limit` UTF-16 units (a Block Kit section holds 3000), ending with an ellipsis.

    Never cuts inside an entity (&amp;), a <…> sequence, an emoji or a combining sequence.
    """
    if limit < _utf16_len(ellipsis):
        raise ValueError(f"limit {limit} is shorter than the ellipsis {ellipsis!r}")
    if _utf16_len(text) <= limit:
        return text
    budget, cut = limit - _utf16_len(ellipsis), 0
    for ch in text:
        budget -= 2 if ord(ch) > 0xFFFF else 1
        if budget < 0:
            break
        cut += 1
    while cut > 0 and (_joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    if cut > 0 and _is_regional(text[cut]):
        pairs_start = cut
        while pairs_start > 0 and _is_regional(text[pairs_start - 1]):
            pairs_start -= 1
        cut -= (cut - pairs_start) % 2  # a flag is a pair of regional indicators
    amp = text.rfind("&", max(0, cut - 4), cut)
    if amp >= 0 and (entity := _ENTITY.match(text, amp)) is not None and entity.end() > cut:
        cut = amp
    opened = text.rfind("<", 0, cut)
    if opened > text.rfind(">", 0, cut):
        cut = opened
    return text[:cut].rstrip() + ellipsis
