"""Saved replies: a department's ready answers, found by name and expanded for one ticket. Pure: time is a
parameter.

Placeholders are the only variable parts, and each is safe on X (no @, nothing a customer wrote):
- `{ticket}`: the ticket's short reference, `#` and the last six digits of the customer's tweet id (the
  digits the relay's duplicate rule shows as "(#123456)"; digits only, so X does not make it a hashtag);
- `{phone}`: the department's `phone:` from routing.yaml;
- `{time}`: the time the reply was chosen, "HH:MM" in routing.yaml's timezone (e.g. "14:05 기준 복구 중").
Literal braces are written `{{` and `}}`.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.relays import distinct_form

NAME = re.compile(r"[a-z0-9_-]{1,32}")
PLACEHOLDERS = ("ticket", "phone", "time")
MAX_PER_DEPARTMENT = 100  # Slack's static_select shows at most 100 options
TYPED_PREFIX = ";"
_TYPED = re.compile(r";([a-z0-9_-]{1,32})")
_AT = ("@", "＠")  # X reads either as the start of a mention
# The widest value each placeholder can take, for the length check at load time.
_LONGEST_TICKET, _LONGEST_TIME = "#999999", "23:59"


@dataclass(frozen=True)
class SavedReply:
    name: str
    text: str
    line: int = field(default=0, compare=False)  # where routing.yaml defines it, for error messages
    key: str = field(default="", compare=False)  # its key path there, e.g. departments[0].replies.call

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(placeholders_in(self.text))

    @property
    def needs_phone(self) -> bool:
        return "phone" in self.placeholders


def placeholders_in(text: str) -> list[str]:
    """The placeholders a text uses; ValueError names an unknown one or a brace that is not a placeholder."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise ValueError("a lone { or }: placeholders are {ticket}, {phone} and {time}; "
                         "write {{ or }} for a brace") from None
    found = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"unknown placeholder {shown} (known: {{ticket}}, {{phone}}, {{time}})")
        found.append(name)
    return found


def check_text(text: str) -> None:
    """What a saved reply's text may not be: ValueError with the reason (placeholders, an @)."""
    placeholders_in(text)
    if any(at in text for at in _AT):
        raise ValueError("a saved reply may not contain @ or ＠: X would read @name as a mention "
                         "(write the name without @)")


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise ValueError(f"a saved reply's name is 1 to 32 of a-z, 0-9, - and _, not {name!r}")


def ticket_reference(ticket_id: str) -> str:
    return f"#{ticket_id[-6:]}"


def expand(reply: SavedReply, ticket_id: str, phone: str | None, now: datetime, tz: ZoneInfo) -> str:
    """The text for one ticket, chosen at `now`. A {phone} without a phone is a configuration the loader
    refuses (or `available` leaves out), so it is a ValueError here."""
    if reply.needs_phone and not phone:
        raise ValueError(f"saved reply {reply.name!r} needs a phone number")
    return reply.text.format(ticket=ticket_reference(ticket_id), phone=phone or "",
                             time=now.astimezone(tz).strftime("%H:%M"))


def longest_form(reply: SavedReply, phone: str | None) -> str:
    """The longest text this reply can become on X: widest placeholders, plus the duplicate rule's suffix."""
    text = reply.text.format(ticket=_LONGEST_TICKET, phone=phone or "", time=_LONGEST_TIME)
    return distinct_form(text, "999999")


def available(shared: Iterable[SavedReply], own: Iterable[SavedReply], phone: str | None
              ) -> dict[str, SavedReply]:
    """A department's replies by name, in file order: the shared ones, then its own; its own win a name.
    Without a phone (triage), the replies that need one are left out."""
    found = {r.name: r for r in shared}
    found.update({r.name: r for r in own})
    return {name: r for name, r in found.items() if phone or not r.needs_phone}


def typed_name(text: str) -> str | None:
    """The name in a thread reply that is just `;name` (a full-width ；, as some keyboards type, too)."""
    match = _TYPED.fullmatch(unicodedata.normalize("NFKC", text).strip())
    return match.group(1) if match else None


def known_names(replies: Mapping[str, SavedReply]) -> str:
    return ", ".join(f"{TYPED_PREFIX}{name}" for name in replies) or "—"
