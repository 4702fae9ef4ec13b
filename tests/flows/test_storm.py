"""Storm mode, in-process: a burst of mentions for one department becomes one thread, answered once for all.

Driven as the jobs drive it: the poll job (ingest.poll + flush_outbox), a person's thread message (the message
job: relay.on_reply), the End storm button (storm.end_by), the sweeper (storm.sweep), an operator's
`/escalate storm` (storm.declare_by + post_members). What people see is read back from the Slack and X
stand-ins. The broadcast itself (Send, Cancel, Stop) is in test_broadcast.py; 500 mentions through the real
processes in tests/e2e/test_storm.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.flows import ingest, relay, storm
from tests.e2e.test_chatops import flat
from tests.harness import ROOT, make_context

ACCOUNT = "escalator_kr"
BASE = (ROOT / "tests" / "data" / "routing.yaml").read_text(encoding="utf-8")
STORM_ROUTING = BASE + "storm: {threshold: 5, window: 10m, quiet: 30m, pace: 0s}\n"
LINE = "• <https://x.com/"  # one member's line in the storm thread


@pytest.fixture
def ctx(redis_url, slack, x):
    slack.events_url = None  # people's messages stay in the stand-in; the test runs the job itself
    return make_context(redis_url, slack, x, STORM_ROUTING)


def now() -> datetime:
    return datetime.now(UTC)


def poll(ctx, at: datetime | None = None) -> None:
    """The poll job: read X's new mentions, store them, post them."""
    at = at or now()
    ingest.poll(ctx, at)
    ingest.flush_outbox(ctx, at)


def burst(ctx, x, n: int, text: str = "와이브로 또 먹통이에요", prefix: str = "angry") -> list[str]:
    ids = [x.add_mention(f"@{ACCOUNT} {text} ({i})", username=f"{prefix}{i:03d}") for i in range(n)]
    poll(ctx)
    return ids


def header(slack, channel: str = "C0WIBRO") -> dict:
    """The storm's one message in the channel."""
    found = [m for m in slack.messages(channel) if "🌩️" in m.get("text", "") or "🌤️" in m.get("text", "")]
    assert len(found) == 1, f"one storm message expected in {channel}, found {len(found)}"
    return found[0]


def number(n: int, text: str) -> bool:
    """n appears in text as a number of its own ("9명", "9 people"; not "19")."""
    return re.search(rf"(?<!\d){n}(?!\d)", text) is not None


def lines_in(slack, channel: str, ts: str) -> str:
    return "\n".join(m.get("text", "") for m in slack.thread(channel, ts)[1:])


def button_value(msg: dict, action_id: str) -> str:
    return next(e["value"] for b in msg.get("blocks") or [] if b["type"] == "actions"
                for e in b["elements"] if e.get("action_id") == action_id)


def has_button(msg: dict, action_id: str) -> bool:
    return any(e.get("action_id") == action_id for b in msg.get("blocks") or [] if b["type"] == "actions"
               for e in b["elements"])


def say(ctx, slack, channel: str, thread_ts: str, text: str, user: str = "U0STAFF1") -> tuple[str, str]:
    """A person writes in a thread, and the message job handles it."""
    ts = slack.user_message(channel, text, user=user, thread_ts=thread_ts).ts
    return relay.on_reply(ctx, channel, thread_ts, ts, user, text, now()), ts


def private_to(slack, user: str) -> list[str]:
    """What only this person was shown: ephemerals, or a DM when they are not in the channel."""
    dm = [m.get("text", "") for m in slack.messages("D" + user[1:])]
    return [e.get("text", "") for e in slack.ephemerals if e.get("user") == user] + dm


# -- detection ------------------------------------------------------------------------------------------------

def test_a_storm_groups_20_outage_tweets_into_one_thread(ctx, slack, x):
    for i in range(3):  # an ordinary morning first: one post each
        x.add_mention(f"@{ACCOUNT} 와이브로 요금 문의 {i}", username=f"calm{i}")
    poll(ctx)
    assert len(slack.messages("C0WIBRO")) == 3
    burst(ctx, x, 20)
    top = slack.messages("C0WIBRO")
    assert len(top) == 4, "three tickets and one storm message, not 23 posts"
    storm_msg = header(slack)
    shown = lines_in(slack, "C0WIBRO", storm_msg["ts"])
    assert all(f"@angry{i:03d}" in shown for i in range(20))
    assert x.posted() == [], "nothing goes to X without a reply and its confirmation"


def test_the_storm_message_names_the_department_its_topic_and_the_count_updated_in_place(ctx, slack, x):
    burst(ctx, x, 8)
    first = header(slack)
    text = flat(first)
    assert "WiBro 고객센터" in text and "와이브로" in text and number(8, text), text
    assert has_button(first, "storm_end")
    burst(ctx, x, 4, prefix="later")
    again = header(slack)
    assert again["ts"] == first["ts"], "the same message, updated in place"
    assert number(12, flat(again)) and not number(8, flat(again))


def test_members_are_shown_forty_to_a_thread_message(ctx, slack, x):
    burst(ctx, x, 45)
    storm_msg = header(slack)
    thread = slack.thread("C0WIBRO", storm_msg["ts"])[1:]
    member_messages = [m for m in thread if LINE in m.get("text", "")]
    assert len(member_messages) == 2
    assert sorted(m["text"].count(LINE) for m in member_messages) == [5, 40]


def test_each_member_is_still_a_ticket_with_its_own_sla_clock(ctx, slack, x):
    ids = burst(ctx, x, 7)
    for tweet_id in ids:
        ticket = ctx.store.ticket(tweet_id)
        assert ticket is not None and ticket.state.value == "open"
        assert ticket.due_at == ticket.created_at + timedelta(hours=24), "the standard policy, from its own tweet"
    assert len(slack.messages("C0WIBRO")) == 1


def test_a_member_line_cannot_ping_anyone(ctx, slack, x):
    x.add_mention(f"@{ACCOUNT} 와이브로 장애 <!channel> <@U0LEAD> & 빨리", username="shouter")
    burst(ctx, x, 6)
    shown = lines_in(slack, "C0WIBRO", header(slack)["ts"])
    assert "@shouter" in shown
    assert "<!channel>" not in shown and "<@U0LEAD>" not in shown
    assert "&lt;!channel&gt;" in shown and "&amp; 빨리" in shown


def test_up_to_the_threshold_every_mention_is_posted_on_its_own(ctx, slack, x):
    burst(ctx, x, 5)
    top = slack.messages("C0WIBRO")
    assert len(top) == 5 and not any("🌩️" in m.get("text", "") for m in top)


def test_without_a_storm_section_a_burst_is_posted_one_by_one(redis_url, slack, x):
    plain = make_context(redis_url, slack, x)  # tests/data/routing.yaml has no storm: section
    burst(plain, x, 12)
    top = slack.messages("C0WIBRO")
    assert len(top) == 12 and not any("🌩️" in m.get("text", "") for m in top)


def test_a_storm_in_one_department_leaves_another_departments_tickets_alone(ctx, slack, x):
    burst(ctx, x, 10)
    x.add_mention(f"@{ACCOUNT} 아이폰 배송 문의", username="iphone_waiter")
    poll(ctx)
    assert len(slack.messages("C0WIBRO")) == 1
    (iphone,) = slack.messages("C0IPHONE")
    assert "@iphone_waiter" in flat(iphone) and has_button(iphone, "ticket_claim")


# -- replies in the storm thread ------------------------------------------------------------------------------

def test_a_reply_in_the_storm_thread_asks_for_confirmation_with_the_head_count(ctx, slack, x):
    burst(ctx, x, 9)
    storm_msg = header(slack)
    outcome, _ = say(ctx, slack, "C0WIBRO", storm_msg["ts"], "강남 일대 기지국을 복구 중입니다. 죄송합니다.")
    assert outcome == "confirm"
    ask = next(m for m in slack.thread("C0WIBRO", storm_msg["ts"]) if "📣" in m.get("text", ""))
    assert number(9, ask["text"]) and "기지국을 복구 중입니다" in ask["text"]
    assert has_button(ask, "storm_send") and has_button(ask, "storm_cancel")
    assert x.posted() == [], "nothing is sent before Send is pressed"


def test_an_internal_note_in_the_storm_thread_asks_nothing(ctx, slack, x):
    burst(ctx, x, 6)
    storm_msg = header(slack)
    assert say(ctx, slack, "C0WIBRO", storm_msg["ts"], "// 기지국 팀에 확인 중")[0] == "note"
    assert not any("📣" in m.get("text", "") for m in slack.thread("C0WIBRO", storm_msg["ts"]))


def test_a_reply_from_outside_the_channel_is_refused_privately(ctx, slack, x):
    slack.set_members("C0WIBRO", ["U0STAFF1", "U0OUTSIDER"])  # wibro lists no staff: its channel's members
    burst(ctx, x, 6)
    storm_msg = header(slack)
    slack.set_members("C0WIBRO", ["U0STAFF1"])  # the outsider has since left the channel
    assert say(ctx, slack, "C0WIBRO", storm_msg["ts"], "제가 답할게요", user="U0OUTSIDER")[0] == "not-staff"
    assert any("🔒" in said for said in private_to(slack, "U0OUTSIDER"))
    assert not any("📣" in m.get("text", "") for m in slack.thread("C0WIBRO", storm_msg["ts"]))


def test_a_reply_too_long_once_the_longest_handle_is_in_front_is_refused_with_the_numbers(ctx, slack, x):
    burst(ctx, x, 6, prefix="a_rather_long_handle")
    storm_msg = header(slack)
    words = "가" * 136  # 272 weighted: fits alone, not with "@a_rather_long_handle005 " in front
    assert say(ctx, slack, "C0WIBRO", storm_msg["ts"], words)[0] == "refused"
    thread = [m.get("text", "") for m in slack.thread("C0WIBRO", storm_msg["ts"])]
    assert any("⚠️" in m and "280" in m for m in thread)
    assert not any("📣" in m for m in thread)


# -- the end of a storm --------------------------------------------------------------------------------------

def test_a_storm_ends_after_its_quiet_time_and_mentions_are_posted_one_by_one_again(ctx, slack, x):
    burst(ctx, x, 6)
    storm_msg = header(slack)
    assert storm.sweep(ctx, now() + timedelta(minutes=10)) == 0, "ten quiet minutes: still a storm"
    later = now() + timedelta(minutes=31)
    assert storm.sweep(ctx, later) == 1
    ended = header(slack)
    assert ended["ts"] == storm_msg["ts"] and "🌤️" in ended["text"] and not has_button(ended, "storm_end")
    assert any("🌤️" in m.get("text", "") for m in slack.thread("C0WIBRO", storm_msg["ts"])[1:])
    x.add_mention(f"@{ACCOUNT} 와이브로 이제 되나요?", username="after")
    poll(ctx, later)
    assert len(slack.messages("C0WIBRO")) == 2
    assert has_button(slack.messages("C0WIBRO")[-1], "ticket_claim"), "a ticket of its own again"


def test_the_end_storm_button_is_for_the_departments_people_and_refused_to_others(ctx, slack, x):
    slack.set_members("C0WIBRO", ["U0STAFF1"])
    slack.add_user("U0STRANGER", "stranger")
    burst(ctx, x, 6)
    storm_id = button_value(header(slack), "storm_end")
    told: list[str] = []
    assert storm.end_by(ctx, storm_id, "U0STRANGER", now(), told.append) == "not-staff"
    assert told and "🔒" in told[0] and "WiBro 고객센터" in told[0]
    assert "🌩️" in header(slack)["text"], "still running"
    assert storm.end_by(ctx, storm_id, "U0LEAD", now()) == "ended", "a lead may, though not in the channel"
    assert "🌤️" in header(slack)["text"]
    note = [m["text"] for m in slack.thread("C0WIBRO", header(slack)["ts"]) if "🌤️" in m.get("text", "")]
    assert any("<@U0LEAD>" in n for n in note), "the thread says who ended it"
    assert storm.end_by(ctx, storm_id, "U0STAFF1", now()) == "not-active", "a second click changes nothing"


def test_an_operator_opens_a_storm_by_hand_and_the_next_mention_joins_it(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, STORM_ROUTING.replace("departments:", "operators: [U0OPS1]\ndepartments:"))
    assert storm.declare_by(ctx, "wibro", "강남 기지국 장애", "U0NOTOP", now()) is None
    assert slack.messages("C0WIBRO") == []
    storm_id = storm.declare_by(ctx, "wibro", "강남 기지국 장애", "U0OPS1", now())
    assert storm_id
    storm.post_members(ctx, storm_id, [], now())  # what the declare job does next: the storm message, at once
    assert "강남 기지국 장애" in header(slack)["text"]
    x.add_mention(f"@{ACCOUNT} 와이브로 안 돼요", username="joiner")
    poll(ctx)
    assert len(slack.messages("C0WIBRO")) == 1, "one mention, far below the threshold, still joins the storm"
    assert "@joiner" in lines_in(slack, "C0WIBRO", header(slack)["ts"])
