"""What the bench feeds the bot: a routing with many departments, Korean mentions and replies, old tickets."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.adapters.store import P, ticket_to_hash
from bot.adapters.store.tickets import thread_key
from bot.domain.tickets import Author, State, Ticket

STAFF = "U0STAFF1"


def hangul(rng: random.Random, length: int) -> str:
    return "".join(chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(length))


@dataclass(frozen=True)
class Department:
    id: str
    channel: str
    keywords: tuple[str, ...]


def departments(count: int, per_department: int, seed: int = 7) -> list[Department]:
    rng = random.Random(seed)
    return [Department(f"d{i}", f"C0DEPT{i:04d}", tuple(hangul(rng, rng.randint(2, 4))
                                                          for _ in range(per_department)))
            for i in range(count)]


def routing_yaml(depts: list[Department], hold: str = "0s") -> str:
    """A routing file: every other department names its staff (the rest ask Slack who is in the channel)."""
    lines = ["timezone: Asia/Seoul", "triage: {channel: C0TRIAGE}", "managers: {channel: C0MANAGERS}",
             f"relay: {{hold: {hold}}}",
             "sla:", '  standard: {first_response: 24h, remind: ["50%", "90%"]}',
             '  fast_track: {first_response: 3h, remind: ["1h", "2h"]}',
             "fast_track: {keywords: [개통, 장애], sla: fast_track}",
             # The bot's own throughput is measured, not X's posting limits (bench/xlimits.py measures those).
             "x: {post_limits: [{per: 15m, max: 1000000}], reserve: 0}", "departments:"]
    for i, d in enumerate(depts):
        lines += [f"  - id: {d.id}", f"    name: 부서 {i}", f"    channel: {d.channel}",
                  f"    keywords: [{', '.join(d.keywords)}]", "    sla: standard", "    leads: [U0LEAD]"]
        if i % 2 == 0:
            lines.append(f"    staff: [{STAFF}, U0STAFF2]")
    return "\n".join(lines) + "\n"


def mention_texts(depts: list[Department], count: int, seed: int = 11) -> list[str]:
    """~100-character Korean mentions; all but one in ten carry a department keyword, spread evenly."""
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        words = [hangul(rng, rng.randint(1, 5)) for _ in range(22)]
        if n % 10:
            words[rng.randrange(8)] = depts[n % len(depts)].keywords[rng.randrange(len(depts[0].keywords))]
        texts.append(" ".join(words)[:100])
    return texts


def reply_text(rng: random.Random, n: int) -> str:
    return f"안녕하세요 고객님, 확인해 보니 {hangul(rng, 12)} 문제였습니다. 조치했습니다 ({n})."


def synthetic_tickets(first: int, last: int, now: datetime, today: datetime, days: int = 365,
                      seed: int = 3) -> Iterator[Ticket]:
    """Tickets number first..last-1 of a set spread over the last `days` days, a day's share each, today's
    between `today` (local midnight) and `now`; nine in ten answered, as the bot leaves them."""
    texts = [hangul(random.Random(seed), 40) + " " + hangul(random.Random(seed + i), 50) for i in range(64)]
    rng = random.Random(seed * 1_000_003 + first)
    so_far = max(1.0, (now - today).total_seconds())
    for n in range(first, last):
        day = n % days
        created = today - timedelta(days=day) + timedelta(seconds=rng.random() * (so_far if day == 0 else 86400))
        tweet_id = str(1_700_000_000_000_000_000 + n)
        answer = created + timedelta(minutes=rng.randint(5, 600))
        answered = answer if rng.random() < 0.9 and answer < now else None
        yield Ticket(
            tweet_id=tweet_id, text=texts[n % len(texts)],
            author=Author(str(10_000_000 + n % 50_000), f"customer{n % 50_000}", f"고객 {n % 50_000}",
                          rng.randint(0, 5000)),
            created_at=created, policy="standard", due_at=created + timedelta(hours=24),
            department=f"d{n % 8}", keywords=(texts[n % len(texts)][:3],), conversation_id=tweet_id,
            state=State.ANSWERED if answered else State.OPEN, channel=f"C0DEPT{n % 8:04d}",
            message_ts=f"{created.timestamp() + 1:.6f}", clock_start=created,
            first_response_at=answered, answered_at=answered,
        )


def resp(command: tuple[str, ...]) -> bytes:
    """One command in the Redis protocol, as redis-py would send it."""
    out = [b"*%d\r\n" % len(command)]
    for arg in command:
        data = arg.encode("utf-8")
        out += [b"$%d\r\n" % len(data), data, b"\r\n"]
    return b"".join(out)


def ticket_commands(t: Ticket) -> list[tuple[str, ...]]:
    """The keys a posted ticket has: what Store.create_tickets and Store.mark_posted write, minus the outbox."""
    flat: list[str] = []
    for k, v in ticket_to_hash(t).items():
        if v:
            flat += [k, v]
    flat += ["post_attempts", "1"]  # Store.post_attempt counts the one post
    return [("HSET", P + "t:" + t.tweet_id, *flat),
            ("ZADD", P + "idx:created", str(t.clock_origin.timestamp()), t.tweet_id),
            ("HSET", thread_key(t.channel or "", t.message_ts or ""), t.message_ts or "", t.tweet_id)]
