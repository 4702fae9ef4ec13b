"""Saved replies (issue 16), in-process: the real flows, a real Redis, the Slack and X stand-ins.

A saved reply, typed as `;name` or picked from the ticket message's menu, goes through the relay exactly like a
typed reply: staff check, the undo window (whose notice shows the expanded words), approval, the ✅ note, and
it is counted once X took it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.adapters.slack import SAVED_CANCEL, SAVED_PICK
from bot.domain.figures import Window
from bot.domain.relays import reference
from bot.errors import RoutingError
from bot.flows import approval, home, ingest, relay, report, saved_replies, summary
from bot.messages import t
from bot.routing import parse_routing
from tests.harness import make_context

ACCOUNT = "escalator_kr"
SORRY = "불편을 드려 죄송합니다. 담당부서에 확인해 보도록 하겠습니다."
ROUTING = """\
timezone: Asia/Seoul
triage: {channel: C0TRIAGE}
managers: {channel: C0MANAGERS}
relay: {hold: 10s}
sla:
  standard: {first_response: 24h}
replies:
  sorry: "불편을 드려 죄송합니다. 담당부서에 확인해 보도록 하겠습니다."
  ref: "확인 후 안내드리겠습니다. 문의번호 {ticket}"
departments:
  - id: iphone
    name: 아이폰 고객센터
    channel: C0IPHONE
    keywords: [아이폰]
    sla: standard
    leads: [U0LEAD]
    staff: [U0STAFF1, U0STAFF2]
    phone: 080-123-4567
    replies:
      call: "아이폰 문의는 {phone}으로 전화 주세요. {time} 기준으로 안내드렸습니다."
  - id: billing
    name: 요금 고객센터
    channel: C0BILLING
    keywords: [요금]
    sla: standard
    leads: [U0LEAD]
    relay: {mode: approve}
"""
KST_NOON = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 12:00 in Seoul


@pytest.fixture
def ctx(redis_url, slack, x):
    return make_context(redis_url, slack, x, ROUTING)


def now() -> datetime:
    return datetime.now(UTC)


def ticket_for(ctx, x, text: str = "아이폰 문의", username: str = "minsu"):
    tweet_id = x.add_mention(f"@{ACCOUNT} {text}", username=username)
    ingest.poll(ctx, now())
    ingest.flush_outbox(ctx, now())
    ticket = ctx.store.ticket(tweet_id)
    assert ticket is not None and ticket.message_ts
    return ticket


_seq = iter(range(1, 10**6))


def reply(ctx, ticket, text: str, at: datetime, user: str = "U0STAFF1") -> tuple[str, str]:
    ts = f"{int(at.timestamp())}.{next(_seq):06d}"
    return relay.on_reply(ctx, ticket.channel, ticket.message_ts, ts, user, text, at), ts


def pick(ctx, ticket, name: str, at: datetime, user: str = "U0STAFF1") -> tuple[str, list[str]]:
    told: list[str] = []
    outcome = saved_replies.handle(ctx, SAVED_PICK, ticket.channel, ticket.message_ts, user, name,
                                   str(next(_seq)), at, told.append)
    return outcome, told


def cancel(ctx, channel: str, clicked_ts: str, key: str, user: str, at: datetime) -> tuple[str, list[str]]:
    told: list[str] = []
    return saved_replies.handle(ctx, SAVED_CANCEL, channel, clicked_ts, user, key, "", at, told.append), told


def thread(slack, ticket) -> list[dict]:
    return slack.thread(ticket.channel, ticket.message_ts)[1:]


def flat(message: dict) -> str:
    return message.get("text", "") + str(message.get("blocks") or "")


def cancel_buttons(message: dict) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b.get("type") == "actions"
            for e in b["elements"] if e.get("action_id") == SAVED_CANCEL]


def replies_to(x, tweet_id: str) -> list[str]:
    return [t["text"] for t in x.posted() if t["in_reply_to_tweet_id"] == tweet_id and not t["deleted"]]


def today(ctx, at: datetime) -> date:
    return at.astimezone(ctx.routing.timezone).date()


# -- typed as ;name -----------------------------------------------------------------------------------------

def test_a_typed_saved_reply_waits_showing_the_expanded_words_then_goes_to_x(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    outcome, ts = reply(ctx, ticket, ";call", KST_NOON)
    assert outcome == "pending"
    expected = "아이폰 문의는 080-123-4567으로 전화 주세요. 12:00 기준으로 안내드렸습니다."
    (notice,) = [m for m in thread(slack, ticket) if "⏳" in m.get("text", "")]
    assert expected in notice["text"] and "`call`" in notice["text"], "the notice shows what will go"
    assert x.posted() == []
    assert relay.send(ctx, ticket.channel, ts, KST_NOON + timedelta(seconds=10)) == "sent"
    assert replies_to(x, ticket.tweet_id) == [expected]
    done = [m for m in thread(slack, ticket) if m["ts"] == notice["ts"]][0]
    assert "✅" in done["text"] and expected in done["text"] and not cancel_buttons(done)
    record = ctx.store.relay(ticket.channel, ts)
    assert (record.saved, record.user) == ("call", "U0STAFF1")
    assert ctx.store.saved_reply_counts([today(ctx, KST_NOON)]) == {"iphone": {"call": 1}}


def test_full_width_semicolon_and_spaces_are_the_same_saved_reply(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    outcome, ts = reply(ctx, ticket, "  ；sorry ", KST_NOON)
    assert outcome == "pending" and ctx.store.relay(ticket.channel, ts).text == SORRY


def test_an_edit_to_another_saved_reply_changes_what_will_go(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    _, ts = reply(ctx, ticket, ";sorry", KST_NOON)
    assert relay.on_edit(ctx, ticket.channel, ticket.message_ts, ts, "U0STAFF1", ";ref", KST_NOON) == "edited"
    expected = f"확인 후 안내드리겠습니다. 문의번호 #{ticket.tweet_id[-6:]}"
    assert any(expected in m["text"] for m in thread(slack, ticket) if "⏳" in m["text"])
    assert relay.send(ctx, ticket.channel, ts, KST_NOON + timedelta(seconds=10)) == "sent"
    assert replies_to(x, ticket.tweet_id) == [expected]
    assert ctx.store.saved_reply_counts([today(ctx, KST_NOON)]) == {"iphone": {"ref": 1}}


def test_an_edit_that_keeps_the_name_changes_nothing_and_an_edit_to_own_words_is_no_longer_saved(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    _, ts = reply(ctx, ticket, ";call", KST_NOON)
    later = KST_NOON + timedelta(minutes=1)  # {time} would read 12:01 now: the chosen words stay
    assert relay.on_edit(ctx, ticket.channel, ticket.message_ts, ts, "U0STAFF1", " ;call", later) == "unchanged"
    assert "12:00" in ctx.store.relay(ticket.channel, ts).text
    assert relay.on_edit(ctx, ticket.channel, ticket.message_ts, ts, "U0STAFF1", "직접 쓴 답변", later) == "edited"
    assert relay.send(ctx, ticket.channel, ts, KST_NOON + timedelta(seconds=10)) == "sent"
    assert replies_to(x, ticket.tweet_id) == ["직접 쓴 답변"]
    assert ctx.store.saved_reply_counts([today(ctx, KST_NOON)]) == {}, "own words are not a saved reply's use"


def test_an_unknown_name_is_told_with_the_known_ones_and_nothing_is_sent(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    outcome, ts = reply(ctx, ticket, ";sory", KST_NOON)
    assert outcome == "unknown-saved-reply"
    (told,) = [e for e in slack.ephemerals if e["user"] == "U0STAFF1"]
    assert "`sory`" in told["text"] and all(n in told["text"] for n in (";sorry", ";ref", ";call"))
    assert told["thread_ts"] == ticket.message_ts
    assert ctx.store.relay(ticket.channel, ts) is None
    assert relay.recover(ctx, KST_NOON + timedelta(minutes=5)) == 0 and x.posted() == []


def test_a_semicolon_in_ordinary_text_is_an_ordinary_reply(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    outcome, ts = reply(ctx, ticket, "확인했습니다 ;)", KST_NOON)
    assert outcome == "pending" and ctx.store.relay(ticket.channel, ts).saved == ""


def test_someone_not_on_the_staff_cannot_send_a_saved_reply(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    assert reply(ctx, ticket, ";sorry", KST_NOON, user="U0OUTSIDER")[0] == "not-staff"
    assert pick(ctx, ticket, "sorry", KST_NOON, user="U0OUTSIDER")[0] == "not-staff"
    assert len(thread(slack, ticket)) == 0 and x.posted() == []


# -- picked from the ticket message ---------------------------------------------------------------------------

def test_the_ticket_message_offers_its_departments_saved_replies(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    (message,) = [m for m in slack.messages(ticket.channel) if m["ts"] == ticket.message_ts]
    menus = [e for b in message["blocks"] if b.get("type") == "actions" for e in b["elements"]
             if e.get("action_id") == SAVED_PICK]
    assert len(menus) == 1 and [o["value"] for o in menus[0]["options"]] == ["sorry", "ref", "call"]
    triage = ticket_for(ctx, x, "그냥 질문", "someone")
    (message,) = [m for m in slack.messages("C0TRIAGE") if m["ts"] == triage.message_ts]
    menus = [e for b in message.get("blocks", []) if b.get("type") == "actions" for e in b["elements"]
             if e.get("action_id") == SAVED_PICK]
    assert [o["value"] for o in menus[0]["options"]] == ["sorry", "ref"]


def test_a_full_menu_of_long_saved_replies_fits_slacks_limits(redis_url, slack, x):
    many = "".join(f'      r{i:02d}: "{"아주 긴 저장된 답변입니다 " * 9}{i}"\n' for i in range(97))
    ctx = make_context(redis_url, slack, x, ROUTING.replace('''      call: "''', many + '''      call: "'''))
    ticket = ticket_for(ctx, x)
    (message,) = [m for m in slack.messages(ticket.channel) if m["ts"] == ticket.message_ts]
    (menu,) = [e for b in message["blocks"] if b.get("type") == "actions" for e in b["elements"]
               if e.get("action_id") == SAVED_PICK]
    assert len(menu["options"]) == 100 and menu["options"][-1]["value"] == "call"
    assert all(len(o["description"]["text"]) <= 75 for o in menu["options"])


def test_a_picked_saved_reply_is_posted_held_and_sent_as_the_choosers_reply(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    outcome, told = pick(ctx, ticket, "ref", KST_NOON, user="U0STAFF2")
    assert (outcome, told) == ("pending", [])
    expected = f"확인 후 안내드리겠습니다. 문의번호 #{ticket.tweet_id[-6:]}"
    picked, notice = thread(slack, ticket)
    assert "<@U0STAFF2>" in picked["text"] and expected in picked["text"]
    assert expected in notice["text"] and cancel_buttons(notice), "the notice shows the words, with Cancel"
    assert relay.send(ctx, ticket.channel, picked["ts"], KST_NOON + timedelta(seconds=10)) == "sent"
    assert replies_to(x, ticket.tweet_id) == [expected]
    record = ctx.store.relay(ticket.channel, picked["ts"])
    assert (record.user, record.saved, record.state) == ("U0STAFF2", "ref", "sent"), "credited to the chooser"
    done = [m for m in thread(slack, ticket) if m["ts"] == notice["ts"]][0]
    assert "✅" in done["text"] and not cancel_buttons(done)
    assert ctx.store.ticket(ticket.tweet_id).state.value == "answered"


def test_cancel_is_the_choosers_alone_and_a_cancelled_reply_is_not_counted(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    pick(ctx, ticket, "sorry", KST_NOON, user="U0STAFF2")
    picked, notice = thread(slack, ticket)
    key = cancel_buttons(notice)[0]["value"]
    outcome, told = cancel(ctx, ticket.channel, notice["ts"], key, "U0STAFF1", KST_NOON + timedelta(seconds=2))
    assert outcome == "not-chooser" and "<@U0STAFF2>" in told[0]
    assert ctx.store.relay(ticket.channel, picked["ts"]).state == "pending"
    outcome, told = cancel(ctx, ticket.channel, notice["ts"], key, "U0STAFF2", KST_NOON + timedelta(seconds=3))
    assert (outcome, told) == ("cancelled", [])
    shown = [m for m in thread(slack, ticket) if m["ts"] == notice["ts"]][0]
    assert "🚫" in shown["text"] and not cancel_buttons(shown)
    assert relay.send(ctx, ticket.channel, picked["ts"], KST_NOON + timedelta(seconds=10)) == "not-pending"
    assert relay.recover(ctx, KST_NOON + timedelta(minutes=5)) == 0
    assert x.posted() == []
    assert ctx.store.saved_reply_counts([today(ctx, KST_NOON)]) == {}
    assert cancel(ctx, ticket.channel, notice["ts"], key, "U0STAFF2", KST_NOON)[0] == "too-late"


def test_a_typed_saved_replys_author_can_cancel_with_the_button_too(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    _, ts = reply(ctx, ticket, ";sorry", KST_NOON)
    (notice,) = [m for m in thread(slack, ticket) if cancel_buttons(m)]
    assert cancel(ctx, ticket.channel, notice["ts"], f"{ticket.channel}:{ts}", "U0STAFF1", KST_NOON)[0] \
        == "cancelled"
    assert ctx.store.relay(ticket.channel, ts).state == "cancelled"


# -- approval ----------------------------------------------------------------------------------------------

def test_saved_replies_typed_and_picked_wait_for_a_lead_where_the_department_requires_it(ctx, slack, x):
    ticket = ticket_for(ctx, x, "요금 문의", "payer")
    outcome, ts = reply(ctx, ticket, ";sorry", KST_NOON)
    assert outcome == "awaiting-approval"
    (request,) = [m for m in thread(slack, ticket) if "🛂" in m["text"]]
    assert SORRY in request["text"], "the lead sees the words, not ;sorry"
    assert x.posted() == []
    assert approval.decide(ctx, "approve", f"{ticket.channel}:{ts}", "U0LEAD", "", KST_NOON,
                           lambda _: None) == "sent"
    assert replies_to(x, ticket.tweet_id) == [SORRY]

    second = ticket_for(ctx, x, "요금 또 문의", "payer2")
    outcome, _ = pick(ctx, second, "ref", KST_NOON)
    assert outcome == "awaiting-approval"
    picked = thread(slack, second)[0]
    assert cancel_buttons(picked), "while a lead decides, the chooser can cancel on the posted choice"
    key = f"{second.channel}:{picked['ts']}"
    assert approval.decide(ctx, "approve", key, "U0LEAD", "", KST_NOON, lambda _: None) == "sent"
    expected = f"확인 후 안내드리겠습니다. 문의번호 #{second.tweet_id[-6:]}"
    assert replies_to(x, second.tweet_id) == [expected]
    assert any("✅" in m["text"] for m in thread(slack, second))
    assert ctx.store.saved_reply_counts([today(ctx, KST_NOON)]) == {"billing": {"sorry": 1, "ref": 1}}


def test_a_picked_reply_awaiting_approval_is_cancelled_by_its_chooser(ctx, slack, x):
    ticket = ticket_for(ctx, x, "요금 문의", "payer")
    pick(ctx, ticket, "sorry", KST_NOON)
    picked = thread(slack, ticket)[0]
    key = cancel_buttons(picked)[0]["value"]
    assert cancel(ctx, ticket.channel, picked["ts"], key, "U0LEAD", KST_NOON)[0] == "not-chooser"
    assert cancel(ctx, ticket.channel, picked["ts"], key, "U0STAFF1", KST_NOON)[0] == "cancelled"
    shown = thread(slack, ticket)[0]
    assert "🚫" in shown["text"] and not cancel_buttons(shown)
    (request,) = [m for m in thread(slack, ticket) if "🛂" in m["text"]]
    said = t("ko", "saved_cancelled", user="U0STAFF1", name="sorry")
    assert said in flat(request) and "reply_approve" not in str(request["blocks"]), \
        "the lead's request says who cancelled, and its buttons are gone"
    told: list[str] = []
    assert approval.decide(ctx, "approve", key, "U0LEAD", "", KST_NOON, told.append) == "already-decided"
    assert x.posted() == []


# -- identical texts, counting ----------------------------------------------------------------------------------

def test_the_same_saved_reply_to_three_customers_makes_three_tweets(redis_url, slack, x):
    ctx = make_context(redis_url, slack, x, ROUTING.replace("hold: 10s", "hold: 0s"))
    tickets = [ticket_for(ctx, x, "아이폰 문의", name) for name in ("minsu", "jiwoo", "seoyeon")]
    for ticket in tickets:
        assert reply(ctx, ticket, ";sorry", KST_NOON)[0] == "sent"
    assert replies_to(x, tickets[0].tweet_id) == [SORRY]
    for ticket in tickets[1:]:
        assert replies_to(x, ticket.tweet_id) == [f"{SORRY} {reference(ticket.tweet_id)}"]
    assert len(x.posted()) == 3
    assert ctx.store.saved_reply_counts([today(ctx, KST_NOON)]) == {"iphone": {"sorry": 3}}


def test_a_saved_reply_is_counted_when_x_takes_it_not_when_it_is_picked(ctx, slack, x):
    ticket = ticket_for(ctx, x)
    _, ts = reply(ctx, ticket, ";sorry", KST_NOON)
    day = today(ctx, KST_NOON)
    assert ctx.store.saved_reply_counts([day]) == {}
    x.fail_next("POST", "/2/tweets", 503, count=1)
    assert relay.send(ctx, ticket.channel, ts, KST_NOON + timedelta(seconds=10)) == "retrying"
    assert ctx.store.saved_reply_counts([day]) == {}
    assert relay.send(ctx, ticket.channel, ts, KST_NOON + timedelta(seconds=20)) == "sent"
    assert ctx.store.saved_reply_counts([day]) == {"iphone": {"sorry": 1}}
    assert ctx.store.saved_reply_counts([day + timedelta(days=1)]) == {}
    ttl = ctx.redis.ttl(f"esc:saved:{day.isoformat()}")
    assert 0 < ttl <= int(ctx.routing.retention.total_seconds()) + 2 * 86400


# -- routing.yaml: bad replies blocks are refused with file:line ---------------------------------------------

def _with(block: str, phone: str = "    phone: 080-123-4567\n") -> str:
    return f"""\
timezone: Asia/Seoul
triage: {{channel: C0TRIAGE}}
managers: {{channel: C0MANAGERS}}
sla:
  standard: {{first_response: 24h}}
departments:
  - id: iphone
    name: 아이폰
    channel: C0IPHONE
    sla: standard
{phone}    replies:
{block}"""


@pytest.mark.parametrize(("block", "phone", "line", "key", "words"), [
    ('      ok: "확인 중입니다 {name}"\n', None, 13, "departments[0].replies.ok", "unknown placeholder {name}"),
    ('      ok: "괄호 { 하나"\n', None, 13, "departments[0].replies.ok", "lone {"),
    ('      ok: "{ticket!r}"\n', None, 13, "departments[0].replies.ok", "unknown placeholder {ticket!r}"),
    ('      ok: "@kt_help 로 문의하세요"\n', None, 13, "departments[0].replies.ok", "@"),
    ('      ok: "＠kt_help 로 문의하세요"\n', None, 13, "departments[0].replies.ok", "＠"),
    ('      ok: "' + "가" * 136 + '"\n', None, 13, "departments[0].replies.ok", "too long"),
    ('      ok: "' + "가" * 132 + '{ticket}"\n', None, 13, "departments[0].replies.ok", "too long"),
    ('      Sorry!: "죄송합니다"\n', None, 13, "departments[0].replies.Sorry!", "1 to 32 of a-z"),
    ('      ' + "a" * 33 + ': "죄송합니다"\n', None, 13, "departments[0].replies." + "a" * 33, "1 to 32"),
    ('      call: "{phone}으로 전화 주세요"\n', "", 12, "departments[0].replies.call", "has no phone"),
    ('      ok: [a, b]\n', None, 13, "departments[0].replies.ok", "expected a single value"),
])
def test_bad_saved_replies_are_refused_with_file_line_and_key(block, phone, line, key, words):
    text = _with(block) if phone is None else _with(block, phone)
    with pytest.raises(RoutingError) as error:
        parse_routing(text, "routing.yaml")
    assert str(error.value).startswith(f"routing.yaml:{line}: {key}: "), str(error.value)
    assert words in str(error.value)


def test_a_reply_just_within_280_with_the_widest_values_and_the_reference_is_accepted():
    # 135 Hangul = 270, plus " (#123456)" = 10: exactly 280 with the duplicate rule's suffix
    routing = parse_routing(_with('      ok: "' + "가" * 135 + '"\n'), "r.yaml")
    assert routing.departments[0].replies[0].name == "ok"
    # 131 Hangul = 262, {ticket} at its widest "#999999" = 7, the suffix 10: 279
    routing = parse_routing(_with('      ok: "' + "가" * 131 + '{ticket}"\n'), "r.yaml")
    assert routing.departments[0].replies[0].name == "ok"


def test_a_shared_phone_reply_needs_every_department_to_have_a_phone():
    text = _with('      own: "안녕하세요"\n') + """\
  - id: wibro
    name: WiBro
    channel: C0WIBRO
    sla: standard
replies:
  call: "{phone}으로 전화 주세요"
"""
    with pytest.raises(RoutingError) as error:
        parse_routing(text, "routing.yaml")
    assert str(error.value).startswith("routing.yaml:19: replies.call: ") and "'wibro'" in str(error.value)
    # The department overriding it with its own words is fine, and triage is offered only what it can expand.
    routing = parse_routing(text.replace("    sla: standard\nreplies:",
                                         "    sla: standard\n    replies: {call: 전화 주세요}\nreplies:"), "r.yaml")
    assert list(routing.replies_for(None)) == []
    assert routing.replies_for(routing.department("wibro"))["call"].text == "전화 주세요"
    assert routing.replies_for(routing.department("iphone"))["call"].text == "{phone}으로 전화 주세요"


def test_more_than_100_saved_replies_for_a_department_are_refused():
    block = "".join(f'      r{i}: "답변 {i}"\n' for i in range(101))
    with pytest.raises(RoutingError) as error:
        parse_routing(_with(block), "routing.yaml")
    assert str(error.value).startswith("routing.yaml:113: departments[0].replies.r100: ")
    assert "at most 100" in str(error.value)


# -- the most-used replies table: /sla, the daily summary, the report -----------------------------------------

def test_the_daily_summary_sla_and_report_count_the_saved_replies_sent_that_day(redis_url, ctx, slack, x):
    hold0 = make_context(redis_url, slack, x, ROUTING.replace("hold: 10s", "hold: 0s"))
    tickets = [ticket_for(hold0, x, "아이폰 문의", name) for name in ("minsu", "jiwoo", "seoyeon", "dana")]
    for ticket in tickets[:3]:
        assert reply(hold0, ticket, ";sorry", KST_NOON)[0] == "sent"
    assert reply(hold0, tickets[3], ";call", KST_NOON)[0] == "sent"
    typed = ticket_for(hold0, x, "아이폰 문의", "typed")
    assert reply(hold0, typed, "직접 쓴 답변입니다", KST_NOON)[0] == "sent"  # typed words are not a saved reply
    cancelled = ticket_for(hold0, x, "아이폰 문의", "cancelled")
    _, ts = reply(ctx, cancelled, ";sorry", KST_NOON)  # held 10 s, then deleted: never sent, never counted
    relay.on_delete(ctx, cancelled.channel, cancelled.message_ts, ts, KST_NOON + timedelta(seconds=1))

    sla = home.sla_text(hold0, None, "today", KST_NOON + timedelta(hours=1))
    assert "💬 많이 쓴 저장 답변" in sla and "아이폰 고객센터: sorry (3) · call (1)" in sla, sla

    evening = KST_NOON + timedelta(hours=5, minutes=30)  # 17:30 in Seoul: report.daily_at's default
    assert summary.run_daily_report(hold0, evening) is not None
    posted = slack.messages("C0MANAGERS")[-1]
    assert "아이폰 고객센터: sorry (3) · call (1)" in flat(posted), flat(posted)

    day = report.day_window(datetime(2026, 12, 7, tzinfo=hold0.routing.timezone), hold0.routing.timezone)
    data = report.load(hold0, Window(*day), evening).to_json()
    assert data["saved_replies"] == [{"department": "iphone", "used": [{"name": "sorry", "count": 3},
                                                                        {"name": "call", "count": 1}]}]
    next_day = report.load(hold0, Window(day[1], day[1] + timedelta(days=1)), evening + timedelta(days=1))
    assert "saved_replies" not in next_day.to_json()
