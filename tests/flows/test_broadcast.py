"""A storm's broadcast, in-process: one confirmed staff reply to exactly the members listed when it was offered.

Driven as the storm buttons' job drives it (storm.confirm for Send, storm.cancel, storm.stop; the key read from
the button the bot posted), the storm_broadcast job (storm.broadcast) and the sweeper (storm.sweep). What people
see is read back from the Slack and X stand-ins. Detection and the storm thread are in test_storm.py; X's posting
budget against a broadcast in tests/flows/test_x_access.py and tests/e2e/test_x_limits.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from bot.domain.relays import reference
from bot.flows import storm
from tests.flows.test_storm import (
    ACCOUNT,
    STORM_ROUTING,
    burst,
    button_value,
    has_button,
    header,
    number,
    poll,
    private_to,
    say,
)
from tests.harness import make_context, wait_for

SORRY = "불편을 드려 죄송합니다. 강남 일대 기지국을 복구 중입니다."


@pytest.fixture
def ctx(redis_url, slack, x):
    slack.events_url = None  # people's messages stay in the stand-in; the test runs the job itself
    return make_context(redis_url, slack, x, STORM_ROUTING)


def now() -> datetime:
    return datetime.now(UTC)


def offer(ctx, slack, text: str = SORRY, user: str = "U0STAFF1") -> tuple[str, dict]:
    """A staff reply in the storm thread; returns the Send button's value and the confirmation message."""
    thread_ts = header(slack)["ts"]
    assert say(ctx, slack, "C0WIBRO", thread_ts, text, user=user)[0] == "confirm"
    ask = [m for m in slack.thread("C0WIBRO", thread_ts) if has_button(m, "storm_send")][-1]
    return button_value(ask, "storm_send"), ask


def thread_texts(slack) -> list[str]:
    return [m.get("text", "") for m in slack.thread("C0WIBRO", header(slack)["ts"])]


def replies(x) -> dict[str, list[str]]:
    """The account's replies on X, by the tweet they answer."""
    out: dict[str, list[str]] = {}
    for p in x.posted():
        if not p["deleted"]:
            out.setdefault(p["in_reply_to_tweet_id"], []).append(p["text"])
    return out


# -- Send --------------------------------------------------------------------------------------------------

def test_send_reaches_every_member_once_each_reply_starting_with_their_handle(ctx, slack, x):
    ids = burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "done"
    got = replies(x)
    assert sorted(got) == sorted(ids)
    assert all(len(texts) == 1 for texts in got.values()), "each member once"
    assert {got[tweet_id][0] for tweet_id in ids} == {f"@angry{i:03d} {SORRY}" for i in range(6)}
    assert any("✅" in m and "6/6" in m for m in thread_texts(slack)), "the thread shows the result"


def test_members_count_as_answered_when_their_reply_is_sent(ctx, slack, x):
    ids = burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    assert all(ctx.store.ticket(i).first_response_at is None for i in ids)
    storm.confirm(ctx, key, "U0STAFF1", now())
    for tweet_id in ids:
        ticket = ctx.store.ticket(tweet_id)
        assert ticket.state.value == "answered" and ticket.first_response_at is not None


def test_a_customer_with_two_tweets_in_the_storm_gets_a_distinct_reply_to_each(ctx, slack, x):
    twice = [x.add_mention(f"@{ACCOUNT} 와이브로 안 돼요", username="twice"),
             x.add_mention(f"@{ACCOUNT} 와이브로 아직도 안 돼요", username="twice")]
    burst(ctx, x, 5)
    key, _ = offer(ctx, slack, "복구 중입니다.")
    storm.confirm(ctx, key, "U0STAFF1", now())
    got = replies(x)
    assert got[twice[0]] == ["@twice 복구 중입니다."]
    assert got[twice[1]] == ["@twice 복구 중입니다. (2)"]


def test_send_reaches_exactly_the_members_listed_when_it_was_offered(ctx, slack, x):
    burst(ctx, x, 6)
    key, ask = offer(ctx, slack)
    assert number(6, ask["text"])
    x.add_mention(f"@{ACCOUNT} 와이브로 저도요", username="latecomer")  # joins after the offer
    poll(ctx)
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "done"
    assert len(x.posted()) == 6, "Send to 6 sent to 6"
    assert not any(p["text"].startswith("@latecomer") for p in x.posted())


def test_pressing_send_twice_sends_each_member_once(ctx, slack, x):
    burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "done"
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "not-waiting"
    assert storm.broadcast(ctx, key, now()) == "not-sending", "a stray broadcast job sends nothing either"
    assert len(x.posted()) == 6


def test_someone_outside_the_department_cannot_send_and_is_told_privately(ctx, slack, x):
    slack.set_members("C0WIBRO", ["U0STAFF1"])
    slack.add_user("U0STRANGER", "stranger")
    burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    assert storm.confirm(ctx, key, "U0STRANGER", now()) == "not-staff"
    assert any("🔒" in said for said in private_to(slack, "U0STRANGER"))
    assert x.posted() == []
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "done", "the offer still stands for its author"


# -- Cancel and Stop -----------------------------------------------------------------------------------------

def test_cancel_sends_nothing_says_who_cancelled_and_send_afterwards_does_nothing(ctx, slack, x):
    burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    assert storm.cancel(ctx, key, "U0STAFF1") == "cancelled"
    assert any("🚫" in m and "U0STAFF1" in m for m in thread_texts(slack))
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "not-waiting"
    assert x.posted() == []


def test_a_stranger_cannot_cancel_but_a_lead_may(ctx, slack, x):
    slack.set_members("C0WIBRO", ["U0STAFF1"])  # the lead is not in the channel; leads may still decide
    slack.add_user("U0STRANGER", "stranger")
    burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    told: list[str] = []
    assert storm.cancel(ctx, key, "U0STRANGER", told.append) == "not-staff"
    assert told and "🔒" in told[0]
    assert not any("🚫" in m for m in thread_texts(slack))
    assert storm.cancel(ctx, key, "U0LEAD", told.append) == "cancelled"
    assert x.posted() == []


def test_a_running_broadcast_can_be_stopped_by_its_people_only(ctx, slack, x):
    slack.set_members("C0WIBRO", ["U0STAFF1"])
    slack.add_user("U0STRANGER", "stranger")
    burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    arrived, release = x.hold_next("POST", "/2/tweets")
    result: dict[str, str] = {}
    other = make_context(ctx.settings.redis_url, slack, x, STORM_ROUTING)  # the worker running the broadcast
    worker = threading.Thread(target=lambda: result.setdefault("o", storm.confirm(other, key, "U0STAFF1", now())))
    worker.start()
    assert arrived.wait(10)
    progress = wait_for(lambda: next((m for m in slack.thread("C0WIBRO", header(slack)["ts"])
                                      if "📤" in m.get("text", "")), None), 5)
    assert has_button(progress, "storm_stop"), "the progress line has a Stop button"
    assert storm.stop(ctx, key, "U0STRANGER", lambda _: None) == "not-staff"
    assert storm.stop(ctx, key, "U0STAFF1") == "stopped"
    release.set()
    worker.join(20)
    assert result["o"] == "stopped"
    assert len(x.posted()) == 1, "only the reply already in flight went out"
    assert any("⏹️" in m for m in thread_texts(slack))


# -- X's answers -------------------------------------------------------------------------------------------

def test_words_x_already_has_still_reach_the_member(ctx, slack, x):
    ids = burst(ctx, x, 6)
    member = ids[0]
    ctx.x.reply(f"@angry000 {SORRY}", in_reply_to=member)  # the same words went out before, by hand
    key, _ = offer(ctx, slack)
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "done"
    assert replies(x)[member] == [f"@angry000 {SORRY}", f"@angry000 {SORRY} {reference(member)}"], \
        "told apart by the ticket's reference"


def test_x_unavailable_mid_broadcast_resumes_in_the_next_job_and_sends_each_member_once(ctx, slack, x):
    ids = burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    x.fail_next("POST", "/2/tweets", 503, count=1)  # X did not take it
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "retrying"
    assert len(x.posted()) < 6
    assert storm.broadcast(ctx, key, now()) == "done"  # the storm_broadcast job, scheduled 30 s later
    got = replies(x)
    assert sorted(got) == sorted(ids) and all(len(v) == 1 for v in got.values())


def test_a_reply_x_took_but_whose_answer_was_lost_is_not_sent_twice_when_the_sweeper_resumes(ctx, slack, x):
    ids = burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    x.fail_next("POST", "/2/tweets", 503, count=1, after=True)  # X took it; the answer was lost
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "retrying"
    storm.sweep(ctx, now())  # the sweeper resumes a broadcast still marked as sending
    got = replies(x)
    assert sorted(got) == sorted(ids)
    assert all(len(v) == 1 for v in got.values()), f"one reply per member: {got}"
    assert any("✅" in m and "6/6" in m for m in thread_texts(slack))


def test_an_x_rate_limit_pauses_the_broadcast_says_so_and_it_resumes(ctx, slack, x):
    ids = burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    x.fail_next("POST", "/2/tweets", 429, count=1)
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "rate-limited"
    assert any("⏸️" in m for m in thread_texts(slack)), "the progress line says it waits for X"
    assert storm.broadcast(ctx, key, now()) == "done"
    got = replies(x)
    assert sorted(got) == sorted(ids) and all(len(v) == 1 for v in got.values())


def test_a_member_x_refuses_is_counted_failed_and_the_others_still_get_theirs(ctx, slack, x):
    burst(ctx, x, 6)
    key, _ = offer(ctx, slack)
    x.fail_next("POST", "/2/tweets", 400, count=1)
    assert storm.confirm(ctx, key, "U0STAFF1", now()) == "done"
    assert len(x.posted()) == 5
    done = [m for m in thread_texts(slack) if "✅" in m and "/" in m]
    assert done and "5/" in done[-1] and number(1, done[-1].split("(")[-1]), done
