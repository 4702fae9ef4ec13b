"""/escalate, in-process: an operator makes a ticket of any tweet.

Driven as Slack and the worker drive it: the command's ack (escalate.accept, what the /escalate listener
answers within 3 seconds), then the job it queued, run with the arguments it was queued with (escalate.run, as
jobs.escalate_tweet calls it). What people see is read back from the Slack and X stand-ins. Parsing alone:
test_escalate_parse.py; through the real processes: tests/e2e/test_chatops.py; a tweet that does not summon the
account: test_x_access.py; `/escalate storm` from the declare job on: test_storm.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.flows import escalate
from tests.e2e.test_chatops import flat
from tests.harness import ROOT, make_context

ACCOUNT = "escalator_kr"
BASE = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")
ROUTING = BASE.replace("departments:", "operators: [U0OPS1]\ndepartments:")
RESPONSE_URL = "https://hooks.slack.com/commands/T0SANDBOX/1/secret-part"


@pytest.fixture
def ctx(redis_url, slack, x):
    return make_context(redis_url, slack, x, ROUTING)


def now() -> datetime:
    return datetime.now(UTC)


def command(text: str, user: str = "U0OPS1") -> dict:
    """The slash command's payload as the listener gets it."""
    return {"command": "/escalate", "text": text, "user_id": user, "channel_id": "C0OPS",
            "response_url": RESPONSE_URL}


def queued(ctx) -> list[tuple[str, tuple]]:
    return [(job.func_name, tuple(job.args)) for job in ctx.queue.jobs + ctx.queue.bulk.jobs]


def run_queued(ctx, at: datetime | None = None) -> str:
    """The queued escalate_tweet job, run with its own arguments; returns the sentence sent to the asker."""
    ((name, args),) = queued(ctx)
    assert name == "bot.jobs.escalate_tweet"
    ctx.queue.empty()
    tweet_id, department, fast, note, user, _response_url = args
    return escalate.run(ctx, escalate.Request(tweet_id, department, fast, note), user, at or now())


def escalate_now(ctx, text: str, user: str = "U0OPS1", at: datetime | None = None) -> str:
    ack = escalate.accept(ctx, command(text, user))
    assert ack["response_type"] == "ephemeral" and ack["text"].startswith("⏳"), ack
    return run_queued(ctx, at)


def customer_post(x, text: str, username: str) -> str:
    """A tweet that does not mention the account: only /escalate makes it a ticket."""
    return x.add_post(text, username=username)


def link(channel: str, ts: str) -> str:
    return f"https://sandbox.slack.com/archives/{channel}/p{ts.replace('.', '')}"


# -- the ack -------------------------------------------------------------------------------------------------

def test_an_operator_is_answered_at_once_and_the_work_is_queued(ctx, slack, x):
    tweet_id = customer_post(x, "요금이 두 번 나갔어요", "billing")
    ack = escalate.accept(ctx, command(f"https://x.com/billing/status/{tweet_id} wibro fast VIP 고객"))
    assert ack["response_type"] == "ephemeral" and "⏳" in ack["text"] and tweet_id in ack["text"]
    ((name, args),) = queued(ctx)
    assert name == "bot.jobs.escalate_tweet"
    assert args[:5] == (tweet_id, "wibro", True, "VIP 고객", "U0OPS1")
    assert slack.messages("C0WIBRO") == [], "the ack makes nothing; the job does"


def test_the_response_url_never_travels_in_the_jobs_arguments(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 끊겨요", "flaky")
    escalate.accept(ctx, command(tweet_id))
    ((_, args),) = queued(ctx)
    assert RESPONSE_URL not in repr(args)
    assert ctx.queue.unseal(args[-1]) == RESPONSE_URL, "the job can still answer through it"


def test_someone_who_is_not_an_operator_is_refused_at_once_with_whom_to_ask(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 끊겨요", "flaky")
    ack = escalate.accept(ctx, command(tweet_id, user="U0STAFF1"))
    assert ack["response_type"] == "ephemeral" and "🔒" in ack["text"] and "<@U0OPS1>" in ack["text"]
    assert queued(ctx) == []


def test_input_the_command_cannot_use_gets_a_sentence_that_says_what_to_do_and_queues_nothing(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 끊겨요", "flaky")
    empty = escalate.accept(ctx, command(""))["text"]
    assert "/escalate" in empty and "fast" in empty, "the usage line"
    not_tweet = escalate.accept(ctx, command("https://example.com/1 wibro"))["text"]
    assert "`https://example.com/1`" in not_tweet and "/escalate" in not_tweet
    unknown = escalate.accept(ctx, command(f"{tweet_id} lte"))["text"]
    assert "`lte`" in unknown and "`iphone`" in unknown and "`wibro`" in unknown
    assert queued(ctx) == []


# -- the job -------------------------------------------------------------------------------------------------

def test_the_ticket_is_posted_with_its_note_in_the_thread_and_the_asker_gets_its_link(ctx, slack, x):
    tweet_id = customer_post(x, "요금이 두 번 나갔어요 & 환불 부탁", "billing")
    done = escalate_now(ctx, f"<https://x.com/billing/status/{tweet_id}> wibro VIP 고객")
    (msg,) = slack.messages("C0WIBRO")
    assert done.startswith("✅") and "WiBro 고객센터" in done and link("C0WIBRO", msg["ts"]) in done
    shown = flat(msg)
    assert "요금이 두 번 나갔어요 &amp; 환불 부탁" in shown and "VIP 고객" in shown and "🟡 open" in shown
    (note,) = [m["text"] for m in slack.thread("C0WIBRO", msg["ts"])[1:]]
    assert "🚩" in note and "<@U0OPS1>" in note and "VIP 고객" in note


def test_without_a_department_the_routing_rules_decide(ctx, slack, x):
    escalate_now(ctx, customer_post(x, "아이폰 액정이 깨졌어요", "cracked"))
    escalate_now(ctx, customer_post(x, "그냥 궁금한 게 있어요", "curious"))
    assert ["@cracked" in m["text"] for m in slack.messages("C0IPHONE")] == [True]
    assert ["@curious" in m["text"] for m in slack.messages("C0TRIAGE")] == [True]
    assert slack.messages("C0WIBRO") == []


def test_the_clock_starts_at_the_escalation_not_at_the_tweet(ctx, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 와이브로 어제부터 안 돼요", username="yesterday",
                             created_at=now() - timedelta(hours=20))
    at = now()
    escalate_now(ctx, f"{tweet_id} wibro", at=at)
    ticket = ctx.store.ticket(tweet_id)
    assert ticket.due_at == at + timedelta(hours=24), "the standard 24 h from the escalation"


def test_fast_applies_the_fast_track_policy(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 요금 문의", "hurry")
    at = now()
    escalate_now(ctx, f"{tweet_id} wibro fast", at=at)
    assert "fast_track" in flat(slack.messages("C0WIBRO")[0])
    assert ctx.store.ticket(tweet_id).due_at == at + timedelta(hours=3)


def test_a_tweet_that_is_already_a_ticket_gets_its_link_and_nothing_is_posted_twice(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 끊겨요", "flaky")
    escalate_now(ctx, f"{tweet_id} wibro 첫 번째")
    again = escalate_now(ctx, f"{tweet_id} iphone 두 번째")
    (msg,) = slack.messages("C0WIBRO")
    assert again.startswith("ℹ️") and link("C0WIBRO", msg["ts"]) in again
    assert slack.messages("C0IPHONE") == []
    assert len(slack.thread("C0WIBRO", msg["ts"])) == 2, "one 🚩 note"


def test_a_retried_job_posts_the_ticket_and_its_note_once(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 끊겨요", "flaky")
    escalate.accept(ctx, command(f"{tweet_id} wibro 메모"))
    ((_, args),) = queued(ctx)
    request = escalate.Request(*args[:4])
    first, second = (escalate.run(ctx, request, "U0OPS1", now()) for _ in range(2))
    assert first.startswith("✅") and second.startswith("ℹ️")
    (msg,) = slack.messages("C0WIBRO")
    assert [m["text"].count("🚩") for m in slack.thread("C0WIBRO", msg["ts"])[1:]] == [1]


def test_when_x_is_down_nothing_is_made_and_the_same_command_works_once_it_is_back(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 끊겨요", "flaky")
    x.fail_next("GET", "/2/tweets/", 503)
    down = escalate_now(ctx, f"{tweet_id} wibro")
    assert down.startswith("❌") and "503" in down
    assert slack.messages("C0WIBRO") == [] and ctx.store.ticket(tweet_id) is None
    assert escalate_now(ctx, f"{tweet_id} wibro").startswith("✅")
    assert len(slack.messages("C0WIBRO")) == 1


def test_a_deleted_tweet_is_not_found_and_nothing_is_made(ctx, slack, x):
    tweet_id = customer_post(x, "곧 지울 트윗", "gone")
    x.delete_tweet(tweet_id)
    answer = escalate_now(ctx, tweet_id)
    assert answer.startswith("❌") and tweet_id in answer
    assert all(slack.messages(c) == [] for c in ("C0WIBRO", "C0IPHONE", "C0TRIAGE"))


def test_a_note_cannot_ping_anyone(ctx, slack, x):
    tweet_id = customer_post(x, "와이브로 끊겨요", "flaky")
    escalate_now(ctx, f"{tweet_id} wibro <!channel> 급함 <@U0LEAD>")
    (msg,) = slack.messages("C0WIBRO")
    said = flat(msg) + "\n".join(m["text"] for m in slack.thread("C0WIBRO", msg["ts"]))
    assert "급함" in said
    assert not re.search(r"<!channel>|<@U0LEAD>", said), said


# -- /escalate storm -------------------------------------------------------------------------------------

def test_escalate_storm_is_queued_for_a_known_department_and_says_when_storm_mode_is_off(redis_url, slack, x):
    off = make_context(redis_url, slack, x, ROUTING)
    answer = escalate.accept(off, command("storm wibro 강남 기지국 장애"))["text"]
    assert "storm:" in answer, "storm mode is off: the routing file has no storm: section"
    on = make_context(redis_url, slack, x, ROUTING + "storm: {threshold: 30, window: 10m, quiet: 30m, pace: 2s}\n")
    usage = escalate.accept(on, command("storm lte 장애"))["text"]
    assert "`wibro`" in usage and "`triage`" in usage
    assert queued(on) == []
    ack = escalate.accept(on, command("storm wibro 강남 기지국 장애"))["text"]
    assert "🌩️" in ack and "wibro" in ack
    ((name, args),) = queued(on)
    assert name == "bot.jobs.declare_storm" and args[:3] == ("wibro", "강남 기지국 장애", "U0OPS1")
