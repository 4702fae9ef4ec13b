"""SLA timers in process: real Redis, the real RQ scheduled-job registry, the Slack and X stand-ins.

Tickets go through the real flows (ingest posts them and sets their timers; relay answers them). Nothing runs
a worker: `run_due` does what RQ's scheduler and a worker would, calling each due job's flow with an
explicit `now`, so every test reads as a timeline.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rq.job import Job

from bot.context import Context
from bot.domain.tickets import Author, Event, Mention, Ticket, transition
from bot.flows import ingest, relay, timers
from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn
from tests.harness import make_context

KST = ZoneInfo("Asia/Seoul")
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=KST)  # a Wednesday, inside office hours
ROUTING = """
timezone: Asia/Seoul
triage: {channel: C0TRIAGE}
managers: {channel: C0MANAGERS}
relay: {hold: 0s}
sla:
  standard: {first_response: 24h, remind: ["50%", "90%"], next_response: 4h}
  fast_track:
    first_response: 3h
    remind: ["1h", "2h"]
    escalate: [{after: 1h, to: [U0HEAD]}, {after: 3h, to: managers}]
  office:
    first_response: 8h
    remind: ["50%"]
    business_hours: {days: [mon, tue, wed, thu, fri], hours: "09:00-18:00", holidays: KR}
fast_track: {keywords: [장애], sla: fast_track}
departments:
  - {id: wibro, name: WiBro 고객센터, channel: C0WIBRO, keywords: [와이브로], sla: standard, leads: [U0LEAD],
     staff: [U0STAFF1]}
  - {id: office, name: 기업 고객센터, channel: C0OFFICE, keywords: [기업], sla: office, leads: [U0BOSS]}
"""


@pytest.fixture
def ctx(redis_url: str, slack: SlackStandIn, x: XStandIn) -> Context:
    return make_context(redis_url, slack, x, ROUTING)


def at(hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def post(ctx: Context, x: XStandIn, text: str, created: datetime = T0, now: datetime | None = None) -> Ticket:
    """A tweet on X, read through the real X client when polled at `now` (default: when it was written) and
    posted by the real ingest flow."""
    tweet_id = x.add_mention(text, username="minsu", name="김민수", created_at=created)
    mention = ctx.x.get_tweet(tweet_id)
    assert mention is not None
    ctx.store.create_tickets([ingest.make_ticket(ctx, mention, now or created)], (now or created).timestamp())
    assert ingest.flush_outbox(ctx, now or created) == 1
    ticket = ctx.store.ticket(tweet_id)
    assert ticket is not None and ticket.message_ts
    return ticket


def scheduled(ctx: Context) -> dict[str, datetime]:
    """Each scheduled job id with the instant RQ's scheduler will enqueue it."""
    key = ctx.queue.scheduled_job_registry.key
    return {jid.decode(): datetime.fromtimestamp(score, KST)
            for jid, score in ctx.queue.connection.zrange(key, 0, -1, withscores=True)}


def run_due(ctx: Context, now: datetime) -> list[tuple[str, str]]:
    """What the scheduler and a worker do at `now`: run every job due by then, earliest first, including the
    ones a job schedules (each timer job schedules the next) when they are due by then too."""
    return [(kind, result) for _, kind, result in _run(ctx, now, at_their_time=False)]


def fire_times(ctx: Context, until: datetime) -> list[tuple[str, datetime]]:
    """Each timer that fires until `until`, run at its own scheduled instant (workers always up)."""
    return [(kind, when) for when, kind, _ in _run(ctx, until, at_their_time=True)]


def _run(ctx: Context, until: datetime, at_their_time: bool) -> list[tuple[datetime, str, str]]:
    registry = ctx.queue.scheduled_job_registry
    done = []
    while due := registry.get_jobs_to_schedule(int(until.timestamp()), chunk_size=1):
        job = Job.fetch(due[0], connection=ctx.queue.connection)
        when = datetime.fromtimestamp(registry.get_scheduled_time(job).timestamp(), KST)
        registry.remove(job)
        kind = job.func_name.rsplit(".", 1)[1]
        now = when if at_their_time else until
        done.append((when, kind, getattr(timers, kind)(ctx, *job.args, now, **job.kwargs)))
    return done


def thread(slack: SlackStandIn, ticket: Ticket) -> list[str]:
    """The bot's messages in the ticket's thread, after the ticket itself."""
    return [m["text"] for m in slack.thread(ticket.channel or "", ticket.message_ts or "")[1:]]


def managers(slack: SlackStandIn) -> list[str]:
    return [m["text"] for m in slack.messages("C0MANAGERS")]


def answer(ctx: Context, ticket: Ticket, now: datetime) -> None:
    """A staff reply in the thread, relayed to X by the real relay flow (hold 0s)."""
    result = relay.on_reply(ctx, ticket.channel or "", ticket.message_ts or "", f"{now.timestamp():.6f}",
                            "U0STAFF1", "확인해 보겠습니다", now)
    assert result == "sent"


# -- scheduling -------------------------------------------------------------------------------------------

def test_a_posted_ticket_gets_its_reminders_breach_and_escalation_steps(ctx, x):
    ticket = post(ctx, x, "와이브로 장애예요")  # fast-track: 3h, reminders at 1h and 2h
    assert ticket.policy == "fast_track" and ticket.due_at == at(3)
    assert list(scheduled(ctx).values()) == [at(1)], "one timer waits at a time: the next one"
    assert fire_times(ctx, at(7)) == [("remind", at(1)), ("remind", at(2)), ("breach", at(3)),
                                      ("escalate", at(4)), ("escalate", at(6))]


def test_a_hand_escalated_ticket_runs_from_the_escalation(ctx, x):
    escalated = at(5)
    mention = Mention("102", "와이브로 장애예요", Author("a", "minsu"), T0)
    made = ingest.make_ticket(ctx, mention, escalated)
    made = replace(made, source="escalate", clock_start=escalated, opened_at=escalated,
                   due_at=escalated + timedelta(hours=3), first_due_at=escalated + timedelta(hours=3))
    ctx.store.create_tickets([made], escalated.timestamp())
    ingest.flush_outbox(ctx, escalated)
    assert [when for _, when in fire_times(ctx, at(12))] == [at(6), at(7), at(8), at(9), at(11)]


def test_reminders_missed_by_a_late_poll_collapse_into_one_sent_at_once(ctx, x, slack):
    # 24h standard: reminders at 12h and 21h36m; the poll only sees the tweet at 22h.
    ticket = post(ctx, x, "와이브로 문의", now=at(22))
    assert list(scheduled(ctx).values()) == [at(22)]
    assert run_due(ctx, at(22)) == [("remind", "reminded")]
    assert list(scheduled(ctx).values()) == [at(24)], "then the breach"
    assert len(thread(slack, ticket)) == 1 and "2시간" in thread(slack, ticket)[0]


def test_a_tweet_first_seen_after_its_deadline_gets_no_reminder_only_the_breach(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의", now=at(30))
    assert list(scheduled(ctx).values()) == [at(24)]
    assert run_due(ctx, at(30)) == [("breach", "breached")]
    assert "6시간" in thread(slack, ticket)[0]


def test_business_hours_reminders_are_only_set_inside_them(ctx, x):
    # Office (8 business hours, 09-18 weekdays): a Friday 19:00 tweet is due Monday 17:00, 50% at 13:00.
    friday = datetime(2026, 3, 6, 19, 0, tzinfo=KST)
    ticket = post(ctx, x, "기업 회선 문의", created=friday)
    monday = datetime(2026, 3, 9, tzinfo=KST)
    assert ticket.due_at == monday.replace(hour=17)
    assert fire_times(ctx, monday.replace(hour=18)) == [("remind", monday.replace(hour=13)),
                                                        ("breach", monday.replace(hour=17))]


def test_a_reminder_that_comes_due_at_night_waits_for_the_opening(ctx, x, slack):
    ticket = post(ctx, x, "기업 회선 문의", created=at(2))  # Wed 12:00: reminder Wed 16:00, due Thu 11:00
    thursday = datetime(2026, 3, 5, tzinfo=KST)
    assert ticket.due_at == thursday.replace(hour=11)
    # The workers were down from 15:00 to 20:00: the 16:00 reminder must not ping anyone at night.
    assert run_due(ctx, at(10)) == [("remind", "deferred")]
    assert sorted(scheduled(ctx).values()) == [thursday.replace(hour=9), thursday.replace(hour=11)]
    assert run_due(ctx, thursday.replace(hour=9)) == [("remind", "reminded")]
    assert thread(slack, ticket) == ["⏰ 응답 기한까지 2시간 남았습니다 (기한 2026-03-05 11:00, office)."]


# -- reminders --------------------------------------------------------------------------------------------

def test_a_reminder_posts_in_the_thread_with_the_time_left(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 신호가 약해요")
    assert run_due(ctx, at(11)) == []
    assert run_due(ctx, at(12)) == [("remind", "reminded")]
    assert thread(slack, ticket) == ["⏰ 응답 기한까지 12시간 남았습니다 (기한 2026-03-05 10:00, standard)."]


def test_a_reminder_mentions_whoever_claimed_the_ticket(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의")
    ctx.store.save(transition(ticket, Event.CLAIMED, at(1), user="U0STAFF1"))
    run_due(ctx, at(12))
    assert thread(slack, ticket)[0].startswith("⏰ <@U0STAFF1> ")


def test_an_answered_ticket_gets_no_reminder_and_no_breach(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 장애예요")
    answer(ctx, ticket, at(0, 30))
    assert scheduled(ctx) == {}, "answering removes the scheduled jobs"
    assert run_due(ctx, at(10)) == []
    # A job that escaped removal (it was already running, or a duplicate) re-checks and stays quiet.
    due = timers.due_key(ticket.due_at)
    assert timers.remind(ctx, ticket.tweet_id, due, 0, at(1)) == "stale"
    assert timers.breach(ctx, ticket.tweet_id, due, 0, at(3)) == "stale"
    assert timers.escalate(ctx, ticket.tweet_id, due, 1, at(6)) == "stale"
    assert [m for m in thread(slack, ticket) if m.startswith(("⏰", "🚨", "📣"))] == []
    assert managers(slack) == []
    assert not ctx.store.ticket(ticket.tweet_id).breached


def test_a_ticket_whose_due_time_changed_ignores_its_old_jobs(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의")
    ctx.store.save(replace(ticket, due_at=at(48)))  # e.g. moved to another department's policy
    assert run_due(ctx, at(24)) == [("remind", "stale")], "a stale timer schedules no next one"
    assert thread(slack, ticket) == [] and managers(slack) == [] and scheduled(ctx) == {}


def test_a_duplicated_reminder_job_posts_once(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의")
    due = timers.due_key(ticket.due_at)
    assert timers.remind(ctx, ticket.tweet_id, due, 0, at(12)) == "reminded"
    assert timers.remind(ctx, ticket.tweet_id, due, 0, at(12, seconds=1)) == "duplicate"
    assert len(thread(slack, ticket)) == 1


def test_a_failed_post_is_retried_and_still_posted_once(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의")
    due = timers.due_key(ticket.due_at)
    slack.fail_next("chat.postMessage", "fatal_error")
    with pytest.raises(Exception, match="fatal_error"):
        timers.remind(ctx, ticket.tweet_id, due, 0, at(12))
    assert timers.remind(ctx, ticket.tweet_id, due, 0, at(12, 0, 10)) == "reminded"  # RQ's retry
    assert timers.remind(ctx, ticket.tweet_id, due, 0, at(12, 0, 20)) == "duplicate"
    assert len(thread(slack, ticket)) == 1


def test_a_reminder_that_fails_for_good_still_leaves_the_breach_in_place(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의")
    slack.fail_next("chat.postMessage", "fatal_error")
    with pytest.raises(Exception, match="fatal_error"):
        run_due(ctx, at(12))
    assert list(scheduled(ctx).values()) == [at(21, 36)], "the next timer was set before the reminder failed"
    assert fire_times(ctx, at(25)) == [("remind", at(21, 36)), ("breach", at(24))]
    assert thread(slack, ticket)[-1].startswith("🚨 <@U0LEAD> SLA 위반")


def test_a_retried_timer_job_sets_its_next_timer_once(ctx, x):
    ticket = post(ctx, x, "와이브로 문의")
    due = timers.due_key(ticket.due_at)
    run_due(ctx, at(12))
    ctx.queue.connection.zrem(ctx.queue.scheduled_job_registry.key, *scheduled(ctx))  # the next one ran
    assert timers.remind(ctx, ticket.tweet_id, due, 0, at(12, 0, 10)) == "duplicate"  # a late duplicate
    assert scheduled(ctx) == {}, "it does not bring back a timer that was already set"


# -- breach and escalation --------------------------------------------------------------------------------

def test_a_breach_calls_the_leads_and_the_managers_and_flags_the_ticket(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 신호가 약해요")
    run_due(ctx, at(23))
    assert run_due(ctx, at(24, minutes=1, seconds=30)) == [("breach", "breached")]  # a worker 90s late
    assert thread(slack, ticket)[-1] == \
        "🚨 <@U0LEAD> SLA 위반: 응답 기한(2026-03-05 10:00)이 2분 지났습니다. 확인 부탁드립니다."
    assert managers(slack) == ["🚨 SLA 위반 · WiBro 고객센터 · @minsu · 기한 2026-03-05 10:00 (standard) · "
                               f"2분 초과\nhttps://x.com/minsu/status/{ticket.tweet_id}"]
    assert ctx.store.ticket(ticket.tweet_id).breached
    shown = json.dumps(slack.messages("C0WIBRO")[0]["blocks"], ensure_ascii=False)
    assert "open · breached" in shown and "신호가 약해요" in shown


def test_a_duplicated_breach_job_posts_once(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의")
    due = timers.due_key(ticket.due_at)
    assert timers.breach(ctx, ticket.tweet_id, due, 0, at(24)) == "breached"
    assert timers.breach(ctx, ticket.tweet_id, due, 0, at(24, seconds=2)) == "duplicate"
    assert len(thread(slack, ticket)) == 1 and len(managers(slack)) == 1


def test_escalation_steps_call_named_people_then_the_managers(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 장애예요")  # fast-track: due 13:00; +1h to U0HEAD, +3h to managers
    run_due(ctx, at(3))
    assert run_due(ctx, at(4)) == [("escalate", "escalated")]
    assert thread(slack, ticket)[-1] == "📣 <@U0HEAD> 기한이 1시간 지났는데 아직 답변이 없습니다. 도와주세요."
    assert run_due(ctx, at(5, 59)) == []
    assert run_due(ctx, at(6)) == [("escalate", "escalated")]
    assert managers(slack)[-1] == "📣 아직 답변 없음 · WiBro 고객센터 · @minsu · 기한 3시간 초과" \
                                  f"\nhttps://x.com/minsu/status/{ticket.tweet_id}"
    assert len(managers(slack)) == 2  # the breach, then the last step


def test_an_answer_after_the_breach_stops_the_escalation_chain(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 장애예요")
    run_due(ctx, at(3))
    answer(ctx, ticket, at(3, 30))
    assert scheduled(ctx) == {}
    assert [m for m in thread(slack, ticket) if m.startswith("📣")] == []
    assert len(managers(slack)) == 1


def test_a_triage_ticket_breach_mentions_nobody_and_still_tells_the_managers(ctx, x, slack):
    ticket = post(ctx, x, "전화가 안 돼요")
    run_due(ctx, at(24))
    assert thread(slack, ticket)[-1].startswith("🚨 SLA 위반")
    assert "분류 대기(트리아지)" in managers(slack)[0]


# -- re-opened tickets ------------------------------------------------------------------------------------

def test_a_customer_follow_up_runs_on_the_next_response_clock(ctx, x, slack):
    ticket = post(ctx, x, "와이브로 문의")
    answer(ctx, ticket, at(1))
    follow = Mention("402", "아직도 안 돼요", ticket.author, at(2), in_reply_to=ticket.tweet_id)
    ctx.store.add_followups([(follow, ticket.tweet_id)], at(2).timestamp())
    ingest.flush_outbox(ctx, at(2))
    reopened = ctx.store.ticket(ticket.tweet_id)
    assert reopened.is_open and reopened.due_at == at(6)  # next_response: 4h
    assert list(scheduled(ctx).values()) == [at(4)]  # 50% of 4h; then 90%, then the breach
    assert run_due(ctx, at(4)) == [("remind", "reminded")]
    assert list(scheduled(ctx).values()) == [at(5, 36)]
    assert thread(slack, ticket)[-1].startswith("⏰ 응답 기한까지 2시간 남았습니다 (기한 2026-03-04 16:00")
    run_due(ctx, at(6))
    # Announced to the managers, but the first-response SLA (what `breached` and the report count) was met.
    assert not ctx.store.ticket(ticket.tweet_id).breached and len(managers(slack)) == 1
    assert run_due(ctx, at(30)) == [], "the first-response clock's jobs were removed by the answer"


def test_a_follow_up_without_next_response_starts_no_clock(ctx, x, slack):
    ticket = post(ctx, x, "기업 회선 문의")  # office: no next_response
    answer_at = at(1)
    ctx.store.save(transition(ticket, Event.REPLY_SENT, answer_at))
    follow = Mention("404", "추가 질문", ticket.author, at(2), in_reply_to=ticket.tweet_id)
    ctx.store.add_followups([(follow, ticket.tweet_id)], at(2).timestamp())
    ingest.flush_outbox(ctx, at(2))
    assert ctx.store.ticket(ticket.tweet_id).is_open
    # on_answered was not called here, so the first clock's jobs are still scheduled: they must stay quiet.
    assert run_due(ctx, at(40)) == [("remind", "stale")]
    assert managers(slack) == []
