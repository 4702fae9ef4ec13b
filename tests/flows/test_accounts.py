"""Several X accounts in one bot (issue 16), in-process: the real flows, a real Redis, the stand-ins.

The X stand-in holds two accounts, each with its own access token: @escalator_kr (the first, on today's X_*
variables) and @show_tweet (a brand account on X_SHOW_*, answering for iPhones only, with its own triage).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.slack import TRIAGE_OPTION
from bot.adapters.x import NotSummoned
from bot.domain.figures import Window
from bot.errors import RoutingError
from bot.flows import buttons, escalate, home, ingest, relay, report, storm, xusage
from bot.routing import parse_routing
from bot.settings import load_settings, problems
from tests.harness import make_context

ROOT = Path(__file__).resolve().parents[2]
TWO = ROOT / "tests" / "data" / "routing_accounts.yaml"
ONE = ROOT / "tests" / "data" / "routing.yaml"
CARE, SHOW = "escalator_kr", "show_tweet"
SHOW_ENV = {"X_SHOW_BEARER_TOKEN": "show-bearer", "X_SHOW_API_KEY": "show-key", "X_SHOW_API_SECRET": "show-secret",
            "X_SHOW_ACCESS_TOKEN": "show-access", "X_SHOW_ACCESS_TOKEN_SECRET": "show-access-secret"}


@pytest.fixture
def ctx(redis_url, slack, x):
    x.add_account(SHOW, access_token="show-access")
    return make_context(redis_url, slack, x, routing=TWO, **SHOW_ENV)


def now() -> datetime:
    return datetime.now(UTC)


def poll_and_post(ctx, account: str | None = None, at: datetime | None = None) -> int:
    stored = ingest.poll(ctx, at or now(), account)
    ingest.flush_outbox(ctx, at or now())
    return stored


_seq = iter(range(1, 10**6))


def reply(ctx, ticket, text: str, user: str = "U0STAFF1") -> str:
    ts = f"{int(now().timestamp())}.{next(_seq):06d}"
    return relay.on_reply(ctx, ticket.channel, ticket.message_ts, ts, user, text, now())


def texts(slack, channel: str) -> list[str]:
    return [m.get("text", "") for m in slack.messages(channel)]


def flat(message: dict) -> str:
    return repr(message)


def test_two_accounts_each_mentioned_make_tickets_in_their_channels(ctx, slack, x):
    care_iphone = x.add_mention("아이폰 배송 언제 오나요", username="minsu")
    care_other = x.add_mention("요금이 이상해요", username="jiwoo")
    show_iphone = x.add_mention("아이폰 15 이벤트 당첨 문의", username="fan", to=SHOW)
    show_wibro = x.add_mention("와이브로도 되나요?", username="fan2", to=SHOW)
    assert poll_and_post(ctx) == 4

    tickets = {i: ctx.store.ticket(i) for i in (care_iphone, care_other, show_iphone, show_wibro)}
    assert tickets[care_iphone].account is None, "the first account's tickets look as they did with one account"
    assert tickets[care_other].account is None and tickets[care_other].channel == "C0TRIAGE"
    assert tickets[show_iphone].account == "show" and tickets[show_iphone].channel == "C0IPHONE"
    # @show_tweet answers for iPhones only: a WiBro question goes to its own triage, not to the WiBro desk.
    assert tickets[show_wibro].account == "show" and tickets[show_wibro].department is None
    assert tickets[show_wibro].channel == "C0SHOWTRIAGE"
    assert slack.messages("C0WIBRO") == []
    assert len(slack.messages("C0IPHONE")) == 2
    # Each account was read with its own user id and its own cursor.
    reads = {r["path"] for r in x.requests if r["path"].endswith("/mentions")}
    show_id = ctx.account("show")[0]
    assert reads == {"/2/users/1000/mentions", f"/2/users/{show_id}/mentions"}
    assert ctx.redis.get("esc:x:since_id") and ctx.redis.get("esc:x:since_id:show")
    assert poll_and_post(ctx) == 0, "nothing twice"
    # Usernames were resolved once each (GET /2/users/by/username) and kept in Redis: a restart asks X nothing.
    def lookups() -> list[str]:
        return [r["path"] for r in x.requests if r["path"].startswith("/2/users/by/username/")]

    assert sorted(lookups()) == [f"/2/users/by/username/{CARE}", f"/2/users/by/username/{SHOW}"]
    restarted = make_context(ctx.settings.redis_url, slack, x, routing=TWO, **SHOW_ENV)
    assert restarted.account("show") == (show_id, SHOW) and len(lookups()) == 2
    assert x.spec_violations == []


def test_the_ticket_message_names_the_account_only_when_there_are_several(ctx, slack, x, redis_url):
    x.add_mention("아이폰 케이스 문의", username="fan", to=SHOW)
    x.add_mention("아이폰 액정 문의", username="minsu")
    poll_and_post(ctx)
    shown = [flat(m) for m in slack.messages("C0IPHONE")]
    assert sum(f"→ @{SHOW}" in m for m in shown) == 1 and sum(f"→ @{CARE}" in m for m in shown) == 1

    slack.reset()
    x.reset()
    ctx.redis.flushall()
    single = make_context(redis_url, slack, x, routing=ONE)
    x.add_mention("아이폰 액정 문의", username="minsu")
    poll_and_post(single)
    (message,) = slack.messages("C0IPHONE")
    assert "→ @" not in flat(message)


def test_a_reply_goes_from_the_account_the_customer_mentioned(ctx, slack, x):
    care = x.add_mention("아이폰 배송 문의", username="minsu")
    show = x.add_mention("아이폰 이벤트 문의", username="fan", to=SHOW)
    poll_and_post(ctx)
    care_ticket, show_ticket = ctx.store.ticket(care), ctx.store.ticket(show)

    assert reply(ctx, show_ticket, "이벤트 당첨자는 내일 발표합니다") == "sent"
    assert reply(ctx, care_ticket, "내일 도착 예정입니다") == "sent"

    def posted(username: str) -> list[tuple[str, str]]:
        return [(t["text"], t["in_reply_to_tweet_id"]) for t in x.posted(username)]

    assert posted(SHOW) == [("이벤트 당첨자는 내일 발표합니다", show)]
    assert posted(CARE) == [("내일 도착 예정입니다", care)]
    posts = [r for r in x.requests if r["method"] == "POST" and r["path"] == "/2/tweets"]
    assert [r["as"] for r in posts] == [SHOW, CARE], "each reply signed with its own account's token"
    # The ✅ note links the tweet under the account that posted it.
    (show_tweet,) = x.posted(SHOW)
    thread = [m["text"] for m in slack.thread(show_ticket.channel, show_ticket.message_ts)]
    assert any(f"https://x.com/{SHOW}/status/{show_tweet['id']}" in m for m in thread), thread
    # Each account spends its own posting budget.
    windows = ctx.routing.x.windows()
    assert ctx.store.posts_in(ctx.account("show")[0], windows, now().timestamp() + 1)[0] == 1
    assert ctx.store.posts_in(ctx.account()[0], windows, now().timestamp() + 1)[0] == 1
    budget = [line for line in xusage.lines(ctx, now()) if "99/100" in line]  # App Home and the summary show it
    assert [line.split(":")[0] for line in budget] == [f"@{CARE}", f"@{SHOW}"], budget


def test_the_x_stand_in_refuses_a_reply_from_an_account_the_tweet_did_not_summon(ctx, slack, x):
    show = x.add_mention("아이폰 이벤트 문의", username="fan", to=SHOW)
    with pytest.raises(NotSummoned):
        ctx.x.reply("첫 번째 계정이 답합니다", in_reply_to=show)  # @escalator_kr's token: X says 403
    assert x.posted(CARE) == [] and x.posted(SHOW) == []
    assert ctx.x_for("show").reply("브랜드 계정이 답합니다", in_reply_to=show)
    assert [t["text"] for t in x.posted(SHOW)] == ["브랜드 계정이 답합니다"]


@pytest.mark.parametrize("first", ["show", "care"])
def test_a_tweet_mentioning_both_accounts_is_one_ticket_whichever_poll_finds_it(ctx, slack, x, first):
    # @show_tweet is named first but answers only iPhones: this WiBro question is @escalator_kr's.
    wibro = x.add_mention(f"@{SHOW} @{CARE} 와이브로 신호가 약해요", username="both")
    # Named first and its departments take the route: @show_tweet's.
    iphone = x.add_mention(f"@{SHOW} @{CARE} 아이폰 사전예약 문의", username="both2")
    poll_and_post(ctx, first)
    poll_and_post(ctx, "care" if first == "show" else "show")

    assert ctx.store.ticket(wibro).account is None and ctx.store.ticket(wibro).channel == "C0WIBRO"
    assert ctx.store.ticket(iphone).account == "show" and ctx.store.ticket(iphone).channel == "C0IPHONE"
    assert len(slack.messages("C0WIBRO")) == 1 and len(slack.messages("C0IPHONE")) == 1, "one ticket each"
    assert reply(ctx, ctx.store.ticket(iphone), "사전예약은 금요일부터입니다") == "sent"
    assert [t["in_reply_to_tweet_id"] for t in x.posted(SHOW)] == [iphone] and x.posted(CARE) == []


def test_a_storm_broadcast_answers_each_member_from_its_own_account(redis_url, slack, x):
    x.add_account(SHOW, access_token="show-access")
    routing = TWO.read_text(encoding="utf-8") + "storm: {threshold: 50, window: 10m, quiet: 10m, pace: 0s}\n"
    ctx = make_context(redis_url, slack, x, routing, **SHOW_ENV)
    storm.declare(ctx, "iphone", "아이폰 출시 지연", now(), by="U0OPS1")
    members = {x.add_mention(f"아이폰 언제 와요 {i}", username=f"care{i}"): CARE for i in range(2)}
    members |= {x.add_mention(f"아이폰 이벤트 {i}", username=f"show{i}", to=SHOW): SHOW for i in range(2)}
    poll_and_post(ctx)
    storm_id = ctx.store.active_storm("iphone")
    header_ts = ctx.store.storm(storm_id)["header_ts"]
    storm.on_reply(ctx, storm_id, "C0IPHONE", header_ts, "1800000000.000001", "U0STAFF1", "곧 출고됩니다", now())
    assert storm.confirm(ctx, f"{storm_id}:1800000000.000001", "U0STAFF1", now()) == "done"
    for username in (CARE, SHOW):
        assert sorted(t["in_reply_to_tweet_id"] for t in x.posted(username)) == \
            sorted(i for i, account in members.items() if account == username)


def test_escalate_makes_the_ticket_on_the_account_the_tweet_mentions(ctx, slack, x):
    mentioned = x.add_post(f"@{SHOW} 아이폰 매장 재고 있나요", username="walkin")
    plain = x.add_post("아이폰 재고 없네", username="grumpy")
    for tweet_id in (mentioned, plain):
        escalate.run(ctx, escalate.Request(tweet_id, None, False, ""), "U0OPS1", now())
    assert ctx.store.ticket(mentioned).account == "show"
    assert not ctx.store.ticket(mentioned).unsummoned, "it summons @show_tweet, the account that will answer"
    assert ctx.store.ticket(plain).account is None, "a tweet that mentions none of them: the first account"


def test_each_account_has_its_own_adaptive_polling_schedule(ctx, slack, x):
    t0 = now()
    assert ingest.poll_if_due(ctx, t0)
    first, second = ctx.store.next_poll_at(), ctx.store.next_poll_at("show")
    assert first > t0.timestamp() and second > t0.timestamp()
    x.add_mention("아이폰 이벤트 문의", username="fan", to=SHOW)
    assert not ingest.poll_if_due(ctx, t0), "neither is due yet"
    later = datetime.fromtimestamp(max(first, second) + 0.1, UTC)
    assert ingest.poll_if_due(ctx, later)
    ingest.flush_outbox(ctx, later)
    assert len(slack.messages("C0IPHONE")) == 1


def test_a_failing_account_backs_off_alone(ctx, slack, x):
    show_id = ctx.account("show")[0]
    x.fail_next("GET", f"/2/users/{show_id}/mentions", 503, count=1)
    x.add_mention("아이폰 문의", username="minsu")
    x.add_mention("아이폰 이벤트 문의", username="fan", to=SHOW)
    t0 = now()
    assert poll_and_post(ctx, at=t0) == 1, "the first account's mention is in; the other's waits"
    assert ctx.store.poll_paused_until("show") > t0.timestamp() and ctx.store.poll_paused_until() == 0
    assert any("show" in m for m in texts(slack, "C0SHOWTRIAGE")), "its own triage hears it"
    assert poll_and_post(ctx, at=t0 + timedelta(seconds=16)) == 1


def test_one_account_keeps_its_redis_keys_and_an_upgrade_to_two_loses_nothing(redis_url, slack, x):
    single = make_context(redis_url, slack, x, routing=ONE)
    x.add_mention("아이폰 배송 문의", username="minsu")
    poll_and_post(single)
    (ticket_id,) = [m["metadata"]["event_payload"]["tweet_id"] for m in slack.messages("C0IPHONE")]
    keys = sorted(k for k in single.redis.keys("esc:x:*"))
    assert keys == ["esc:x:me", "esc:x:since_id"], keys
    stored = single.redis.hgetall(f"esc:t:{ticket_id}")
    assert stored["tweet_id"] == ticket_id and not stored.get("account"), "no account on a one-account ticket"
    assert "→ @" not in flat(slack.messages("C0IPHONE")[0])
    assert reply(single, single.store.ticket(ticket_id), "내일 도착합니다") == "sent"
    cursor = single.redis.get("esc:x:since_id")

    # The same bot, now with a second account: the first account goes on from its cursor.
    x.add_account(SHOW, access_token="show-access")
    two = make_context(redis_url, slack, x, routing=TWO, **SHOW_ENV)
    fresh = x.add_mention("아이폰 액정 문의", username="jiwoo")
    assert poll_and_post(two) == 1, "only the new mention: the old one was not read again"
    assert ctx_ticket_ids(slack, "C0IPHONE") == [ticket_id, fresh]
    assert int(two.redis.get("esc:x:since_id")) > int(cursor)
    assert two.store.ticket(fresh).account is None


def ctx_ticket_ids(slack, channel: str) -> list[str]:
    return [m["metadata"]["event_payload"]["tweet_id"] for m in slack.messages(channel) if m.get("metadata")]


# -- routing.yaml's accounts: refused with file:line: key ----------------------------------------------------

BASE = ONE.read_text(encoding="utf-8")
LINE = len(BASE.splitlines()) + 1  # the line of `accounts:`


@pytest.mark.parametrize(("accounts", "line", "key", "message"), [
    ("  - {id: care, username: a, env_prefix: X_SHOW_}\n", LINE + 1, "accounts[0].env_prefix",
     "the first account uses X_"),
    ("  - {id: care, username: a, env_prefix: X_}\n  - {id: care, username: b, env_prefix: X_B_}\n", LINE + 2,
     "accounts[1].id", "duplicate id 'care' (first at accounts[0])"),
    ("  - {id: care, username: a, env_prefix: X_}\n  - {id: b, username: b, env_prefix: X_}\n", LINE + 2,
     "accounts[1].env_prefix", "duplicate env_prefix 'X_'"),
    ("  - {id: care, username: a, env_prefix: X_}\n  - {id: b, username: b, env_prefix: SHOW_}\n", LINE + 2,
     "accounts[1].env_prefix", "expected an environment prefix like X_SHOW_"),
    ("  - {id: care, username: a, env_prefix: X_}\n  - {id: b, username: b, user_id: \"12\", env_prefix: X_B_}\n",
     LINE + 2, "accounts[1]", "give exactly one of username and user_id"),
    ("  - {id: care, env_prefix: X_}\n", LINE + 1, "accounts[0]", "give exactly one of username and user_id"),
    ("  - {id: care, username: a, env_prefix: X_}\n  - {id: b, username: b, env_prefix: X_B_, "
     "departments: [iphone, tv]}\n", LINE + 2, "accounts[1].departments[1]",
     "unknown department 'tv' (known: iphone, wibro)"),
    ("  - {id: care, username: a, env_prefix: X_, triage: {channel: triage}}\n", LINE + 1,
     "accounts[0].triage.channel", "a Slack channel id"),
    ("  - {id: care, username: a, env_prefix: X_, colour: red}\n", LINE + 1, "accounts[0].colour",
     "unknown key 'colour'"),
    ("  []\n", LINE + 1, "accounts", "list at least one account"),
])
def test_a_bad_accounts_block_is_refused_naming_file_line_and_key(accounts, line, key, message):
    with pytest.raises(RoutingError) as caught:
        parse_routing(BASE + "accounts:\n" + accounts, "routing.yaml")
    assert (caught.value.line, caught.value.key) == (line, key), str(caught.value)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"routing.yaml:{line}: {key}: ")


def test_no_accounts_key_is_one_account_on_todays_variables():
    routing = parse_routing(BASE, "routing.yaml")
    (account,) = routing.accounts
    assert account.env_prefix == "X_" and account.user_id is None and account.departments is None
    assert not routing.multi_account and routing.account_key(None) == ""


# -- credentials: read behind each prefix, named by `check` when missing ---------------------------------------

def test_each_account_reads_its_credentials_behind_its_prefix_and_they_are_masked():
    settings = load_settings({"X_API_KEY": "k", "X_ACCESS_TOKEN": "a", **SHOW_ENV, "X_POLL_SECONDS": "5"})
    show = settings.x_credentials("X_SHOW_")
    assert (show.api_key, show.access_token, show.bearer_token) == ("show-key", "show-access", "show-bearer")
    assert settings.x_credentials("X_").api_key == "k"
    assert "show-access-secret" in settings.secrets() and "show-key" not in repr(settings)
    assert settings.x_credentials("X_OTHER_").missing() == ["X_OTHER_API_KEY", "X_OTHER_API_SECRET",
                                                             "X_OTHER_ACCESS_TOKEN", "X_OTHER_ACCESS_TOKEN_SECRET"]
    env = {k: v for k, v in SHOW_ENV.items() if k != "X_SHOW_ACCESS_TOKEN"}
    assert "account show: X_SHOW_ACCESS_TOKEN is not set" in problems(env, [("care", "X_"), ("show", "X_SHOW_")])


def test_check_names_each_missing_credential_per_account(redis_url):
    creds = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "X_API_KEY": "k", "X_API_SECRET": "s",
             "X_ACCESS_TOKEN": "a", "X_ACCESS_TOKEN_SECRET": "as", "X_SHOW_API_KEY": "sk"}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "ROUTING"))}
    done = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=ROOT, capture_output=True, text=True,
                          env={**base, **creds, "REDIS_URL": redis_url, "ROUTING_FILE": str(TWO)}, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "account show: X_SHOW_API_SECRET is not set" in done.stdout
    assert "account show: X_SHOW_ACCESS_TOKEN is not set" in done.stdout
    assert "X_SHOW_API_KEY" not in done.stdout and "account care" not in done.stdout
    ok = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=ROOT, capture_output=True, text=True,
                        env={**base, **creds, **SHOW_ENV, "REDIS_URL": redis_url, "ROUTING_FILE": str(TWO)},
                        timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_cron_stops_at_start_naming_an_accounts_missing_credential():
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "ROUTING"))}
    env = {**base, "ROUTING_FILE": str(TWO), "SLACK_BOT_TOKEN": "xoxb-1", "X_API_KEY": "k", "X_API_SECRET": "s",
           "X_ACCESS_TOKEN": "a", "X_ACCESS_TOKEN_SECRET": "as",
           **{k: v for k, v in SHOW_ENV.items() if k != "X_SHOW_ACCESS_TOKEN_SECRET"}}
    done = subprocess.run([sys.executable, "-c", "import bot.cron"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)  # what `rq cron ... bot.cron` imports first
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["escalator: account show: X_SHOW_ACCESS_TOKEN_SECRET is not set"]


def test_two_accounts_sharing_one_apps_mentions_window_poll_without_a_429(ctx, slack, x):
    """Both accounts read mentions with the app's bearer token: X counts them in one 450-per-15-min window. Each
    account's schedule follows the headers X sends it, so together they still keep a third of it spare."""
    t0 = 1_800_000_000.0
    clock = {"now": t0}
    x.clock = lambda: clock["now"]
    polls = []
    for _ in range(1800):  # half a simulated hour, a cron tick a second
        at = datetime.fromtimestamp(clock["now"], UTC)
        if ingest.poll_if_due(ctx, at):
            polls.append(clock["now"])
        clock["now"] += 1
    reads = [r["path"] for r in x.requests if r["path"].endswith("/mentions")]
    show_id = ctx.account("show")[0]
    per_account = (reads.count("/2/users/1000/mentions"), reads.count(f"/2/users/{show_id}/mentions"))
    assert x.limits.throttled == 0, "no 429 in steady state"
    assert len(reads) <= 2 * 300 + 10, f"at most two thirds of two windows: {per_account}"
    assert min(per_account) >= 100, f"neither account is starved: {per_account}"
    print(f"two accounts, one app window, 30 simulated minutes: {per_account} polls, 0 throttled")


def test_reports_split_by_account_and_total_when_two_accounts_had_mentions(ctx, slack, x):
    x.add_mention("아이폰 배송 언제 오나요", username="minsu")
    x.add_mention("요금이 이상해요", username="jiwoo")
    show_iphone = x.add_mention("아이폰 15 이벤트 당첨 문의", username="fan", to=SHOW)
    assert poll_and_post(ctx) == 3
    assert reply(ctx, ctx.store.ticket(show_iphone), "당첨 안내 드립니다") == "sent"

    moment = now()
    day = report.day_window(moment, ctx.routing.timezone)
    data = report.load(ctx, Window(*day), moment + timedelta(seconds=1)).to_json()
    accounts = {a["id"]: (a["received"], a["answered"], a["open"]) for a in data["accounts"]}
    assert accounts == {"care": (2, 0, 2), "show": (1, 1, 0)}
    assert {row["tweet_id"]: row["account"] for row in data["tickets"]}[show_iphone] == "show"
    sla = home.sla_text(ctx, None, "today", moment + timedelta(seconds=1))
    assert "계정 care" in sla and "계정 show" in sla, sla


def test_one_account_reports_exactly_as_before(redis_url, slack, x):
    single = make_context(redis_url, slack, x, routing=ONE)
    x.add_mention("아이폰 액정 문의", username="minsu")
    poll_and_post(single)
    moment = now()
    data = report.load(single, Window(*report.day_window(moment, single.routing.timezone)), moment).to_json()
    assert "accounts" not in data and all("account" not in row for row in data["tickets"])
    assert "계정" not in home.sla_text(single, None, "today", moment)


def test_a_further_account_without_credentials_does_not_stop_the_first_accounts_tickets(redis_url, slack, x):
    x.add_account(SHOW, access_token="show-access")
    ctx = make_context(redis_url, slack, x, routing=TWO)  # no X_SHOW_* variables: show cannot be read
    care = x.add_mention("아이폰 배송 언제 오나요", username="minsu")
    both = x.add_mention(f"@{CARE} @{SHOW} 아이폰 15 이벤트 문의", username="fan")  # names both; show unreadable
    poll_and_post(ctx)
    assert ctx.store.ticket(care) is not None and ctx.store.ticket(care).message_ts
    assert ctx.store.ticket(both) is not None and ctx.store.ticket(both).message_ts
    paused = [m["text"] for m in slack.messages("C0SHOWTRIAGE")]
    assert len(paused) == 1 and "X_SHOW_" in paused[0], paused  # the show account's triage is told what is missing


def test_a_second_account_ticket_reassigned_to_triage_goes_to_that_accounts_triage(ctx, slack, x):
    tweet = x.add_mention("아이폰 15 이벤트 당첨 문의", username="fan", to=SHOW)
    poll_and_post(ctx)
    ticket = ctx.store.ticket(tweet)
    assert ticket.channel == "C0IPHONE"
    outcome = buttons.handle(ctx, "ticket_reassign", ticket.channel, ticket.message_ts, "U0STAFF1", TRIAGE_OPTION,
                             now(), lambda text: None)
    assert outcome == "reassigned"
    assert ctx.store.ticket(tweet).channel == "C0SHOWTRIAGE"
    assert any("@fan" in m.get("text", "") for m in slack.messages("C0SHOWTRIAGE"))
    assert slack.messages("C0TRIAGE") == []
