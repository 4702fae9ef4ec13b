"""The newcomer's tour: sample mentions from the story go through the running bot, step by step."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.launcher import SANDBOX_ENV, say
from bot.routing import load_routing
from bot.sandbox.slack_api import SlackStandIn
from bot.sandbox.x_api import XStandIn

T = TypeVar("T")

# From the story: a telecom's account on launch week, 2010.
SAMPLES = [
    ("iphone_waiter", "김민수", 312,
     "@escalator_kr 아이폰4 예약 구매했는데 출시일이 지났는데도 아직 배송 연락이 없네요. 언제 받을 수 있나요?"),
    ("gangnam_commuter", "Jiwon Park", 1840,
     "@escalator_kr 강남역 근처에서 와이브로가 30분째 안 잡혀요 & 에그도 먹통입니다 <급함>"),
    ("teen_parent", "이수진", 95, "@escalator_kr 중학생 아이 청소년 요금제도 데이터 무제한이 되나요?"),
    ("nexus_fan", "Android Lee", 5120,
     "@escalator_kr 넥서스원 개통 신청했는데 아직 개통이 안 됐어요. 확인 부탁드립니다!"),
]
STAFF_REPLY = ("<@U0STAFF1> 안녕하세요, 기다리게 해 드려 죄송합니다. 아이폰4 예약분은 이번 주 안에 순차 배송됩니다. "
               "배송 조회: <https://shop.example.com/track|배송 조회> :pray:")
INTERNAL_NOTE = "// 물류팀에 재고 확인 요청함 (고객에게는 보내지 않는 내부 메모)"


@dataclass
class StandIns:
    slack: SlackStandIn
    x: XStandIn

    def stop(self) -> None:
        self.slack.stop()
        self.x.stop()


def start_standins(env: dict[str, str], events_url: str) -> StandIns:
    """Start both stand-ins in this process and point the bot's environment at them."""
    slack = SlackStandIn(signing_secret=env.get("SLACK_SIGNING_SECRET") or "sandbox-signing-secret",
                         bot_token=env.get("SLACK_BOT_TOKEN") or "xoxb-sandbox", events_url=events_url)
    x = XStandIn()
    slack.start()
    x.start()
    for key, value in SANDBOX_ENV.items():
        env.setdefault(key, value)
    env["SLACK_BOT_TOKEN"] = slack.bot_token
    env["SLACK_SIGNING_SECRET"] = slack.signing_secret
    env["SLACK_API_URL"] = slack.url.rstrip("/") + "/api/"
    env["X_API_URL"] = x.url
    env.setdefault("X_POLL_SECONDS", "3")
    return StandIns(slack, x)


def wait_for(what: Callable[[], T | None], timeout: float = 60.0) -> T | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    return None


def _ticket_message(slack: SlackStandIn, channels: list[str], handle: str) -> tuple[str, dict[str, Any]] | None:
    for channel in channels:
        for msg in slack.messages(channel):
            if f"@{handle}" in (msg.get("text") or ""):
                return channel, msg
    return None


def narrate(s: StandIns, env: dict[str, str]) -> bool:
    """Play the story against the running bot. Returns True when every step happened."""
    routing = load_routing(env["ROUTING_FILE"])
    channels = [d.channel for d in routing.departments] + [routing.triage_channel]
    names = {d.channel: d.name for d in routing.departments} | {routing.triage_channel: "triage"}
    say("waiting for the web process to answer…")
    import urllib.request

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    if not wait_for(healthy, 60):
        say("the web process did not come up; see its log lines above")
        return False
    say(f"four customers tweet at @{s.x.account_username} (the X stand-in holds the tweets; the bot polls "
        f"every {env.get('X_POLL_SECONDS')} s):")
    for handle, name, followers, text in SAMPLES:
        s.x.add_mention(text, username=handle, name=name, followers=followers)
        say(f"  @{handle}: {text}")
    ok = True
    for handle, *_ in SAMPLES:
        found = wait_for(functools.partial(_ticket_message, s.slack, channels, handle), 60)
        if not found:
            say(f"  ✗ no Slack post for @{handle} after 60 s")
            ok = False
            continue
        channel, _msg = found
        say(f"  → Slack #{channel} ({names.get(channel, channel)}): the ticket for @{handle}")
    first = _ticket_message(s.slack, channels, SAMPLES[0][0])
    if not first:
        return False
    channel, msg = first
    hold = routing.relay.hold.total_seconds()
    say(f"a staff member (U0STAFF1) writes an internal note in the thread: {INTERNAL_NOTE!r}")
    s.slack.user_message(channel, INTERNAL_NOTE, user="U0STAFF1", thread_ts=msg["ts"])
    say(f"…and replies in the thread: {STAFF_REPLY!r}")
    s.slack.user_message(channel, STAFF_REPLY, user="U0STAFF1", thread_ts=msg["ts"])
    say(f"the reply waits {hold:.0f} s (relay.hold, the undo window: edit to change it, delete to cancel)")
    def replies() -> list[dict[str, Any]]:
        return [t for t in s.x.posted() if t.get("in_reply_to_tweet_id")]

    sent = wait_for(replies, hold + 60)
    if not sent:
        say("  ✗ the reply did not reach X")
        return False
    tweet = sent[0]
    say(f"  → X: @{s.x.account_username} replied to the customer's tweet: {tweet['text']!r}")
    say("    (the Slack mention was removed, the link became its URL, :pray: became 🙏; the note was not sent)")
    note = wait_for(lambda: [m for m in s.slack.thread(channel, msg["ts"]) if "x.com" in (m.get("text") or "")
                             and m.get("bot_id")], 30)
    if note:
        say(f"  → the Slack thread shows what was sent: {note[-1]['text']}")
    say("done. The bot keeps running; add your own mention with\n"
        f"    curl -s -X POST {s.x.url}/_sandbox/mentions -H 'content-type: application/json' "
        "-d '{\"text\": \"@escalator_kr 요금 청구서가 이상해요\", \"username\": \"you\"}'\n"
        f"  and watch it arrive (GET {s.slack.url}/_sandbox/messages?channel=C0BILLING). Ctrl-C stops everything.")
    return ok
