"""Issue 12, finding 6: tickets past the retention leave Redis with everything about them; their day's figures stay.

On the real redis-server and the Slack stand-in: tickets are stored and posted as the bot does it, then the
retention purge runs, then `python -m bot report --format json` is asked about their day.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.tickets import Author, Mention, State, Ticket
from bot.flows import ingest, retention
from tests.harness import make_context
from tests.test_cli import ROOT, bot

ROUTING = ROOT / "tests" / "data" / "routing.yaml"
# Keys that do not grow with the number of mentions: one each, whatever the volume.
SINGLETONS = ("esc:idx:created", "esc:outbox:", "esc:m:", "esc:x:", "esc:agg:")


def make(n: int, dept: str | None, created: datetime) -> Ticket:
    return Ticket(f"10{n:04d}", f"문의 {n}", Author(f"9{n}", f"customer{n}", f"고객 {n}", 10 * n), created,
                  "standard", created + timedelta(hours=24), department=dept, conversation_id=f"10{n:04d}",
                  opened_at=created, first_due_at=created + timedelta(hours=24))


def growing_keys(r) -> dict[str, int]:
    """Every key that is there per mention, with its TTL (-1: none)."""
    return {k: r.ttl(k) for k in r.scan_iter("esc:*", count=1000) if not k.startswith(SINGLETONS)}


def test_after_the_retention_a_ticket_and_everything_about_it_leave_redis_but_its_day_figures_stay(
        redis_url, r, slack, x):
    ctx = make_context(redis_url, slack, x, ROUTING)
    now = datetime.now(UTC)
    old = (now - timedelta(days=100)).astimezone(ctx.routing.timezone).replace(hour=10, minute=0, second=0,
                                                                                microsecond=0)
    tickets = [make(1, "iphone", old), make(2, "iphone", old + timedelta(minutes=5)),
               make(3, "iphone", old + timedelta(minutes=9)), make(4, None, old + timedelta(hours=2)),
               make(5, "iphone", now - timedelta(hours=1))]
    ctx.store.create_tickets(tickets, old.timestamp())
    while ingest.flush_outbox(ctx, now):
        pass
    answered = {"100001": 840, "100002": 3600}
    for t in ctx.store.tickets(answered):
        at = t.created_at + timedelta(seconds=answered[t.tweet_id])
        ctx.store.save(replace(t, state=State.ANSWERED, first_response_at=at, answered_at=at))
    # what a reply and a customer's follow-up leave behind: our tweet's conversation pointer, the follow-up
    ctx.store.link_conversation("200001", "100001")
    ctx.store.add_followups([(Mention("300001", "감사합니다", Author("91", "customer1"), old + timedelta(hours=1),
                                      "100001", "200001"), "100001")], old.timestamp())
    ctx.store.done_posting("fu:300001")
    assert ctx.store.once("sla:remind:100001:0:x", ttl=86400)

    before = growing_keys(r)
    assert len(before) >= 8, before

    assert retention.purge(ctx, now) == 4

    after = growing_keys(r)
    assert not [k for k in after if k.startswith("esc:t:") and k != "esc:t:100005"], after
    assert r.zrange("esc:idx:created", 0, -1) == ["100005"]
    # what is left of the old tickets goes by itself: every per-mention key but the live ticket has a lifetime,
    # none longer than the retention and two days
    limit = int(ctx.routing.retention.total_seconds()) + 3 * 86400
    assert {k: ttl for k, ttl in after.items() if not 0 < ttl <= limit and k != "esc:t:100005"} == {}
    assert len(r.keys("esc:agg:*")) == 2  # one day's figures, and the horizon
    # the pointers the tickets knew of went with them: the Slack threads no longer lead to a ticket
    assert not [k for k in after if k.startswith("esc:threads:C0TRIAGE")]
    assert sorted(r.hvals(next(k for k in after if k.startswith("esc:threads:C0IPHONE")))) == ["100005"]

    day = old.date().isoformat()
    done = bot("report", "--format", "json", "--since", day, "--until", day, REDIS_URL=redis_url,
               ROUTING_FILE=str(ROUTING))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    iphone = next(d for d in data["departments"] if d["id"] == "iphone")
    assert (iphone["received"], iphone["answered"], iphone["open"], iphone["breached"]) == (3, 2, 1, 1)
    assert iphone["sla_met_pct"] == 66.7
    assert abs(iphone["first_response_p50_s"] - 2220) <= 0.11 * 2220, iphone
    triage = next(d for d in data["departments"] if d["id"] == "triage")
    assert (triage["received"], triage["open"], triage["breached"]) == (1, 1, 1)
    assert data["tickets"] == []
    assert data["retention"]["aggregated_days"] == [day, day]
    assert "retention" in data["retention"]["note"]

    # today is untouched: the live ticket is reported as before, from itself
    today = bot("report", "--format", "json", REDIS_URL=redis_url, ROUTING_FILE=str(ROUTING))
    assert [t["tweet_id"] for t in json.loads(today.stdout)["tickets"]] == ["100005"]
    assert "retention" not in json.loads(today.stdout)


def test_a_second_purge_finds_nothing_and_counts_nothing_twice(redis_url, r, slack, x):
    ctx = make_context(redis_url, slack, x, ROUTING)
    now = datetime.now(UTC)
    old = now - timedelta(days=95)
    ctx.store.create_tickets([make(n, "wibro", old + timedelta(minutes=n)) for n in range(1, 4)], old.timestamp())
    assert retention.purge(ctx, now, batch=2) == 3
    assert retention.purge(ctx, now) == 0
    figures = ctx.store.day_figures([old.astimezone(ctx.routing.timezone).date()])
    assert [f.received for f in figures[old.astimezone(ctx.routing.timezone).date()].values()] == [3]
