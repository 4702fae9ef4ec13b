"""The newcomer's tour: sample mentions from the story go through the running bot, step by step."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.logs import say
from bot.routing import load_routing
from sandbox.slack_api import SlackStandIn
from sandbox.x_api import XStandIn

T = TypeVar("T")
# The stand-ins' own tokens: what `make run` sets when it finds no Slack or X credentials.
SANDBOX_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": "sandbox-signing-secret",
    "X_BEARER_TOKEN": "sandbox-bearer", "X_API_KEY": "sandbox-key", "X_API_SECRET": "sandbox-secret",
    "X_ACCESS_TOKEN": "sandbox-access", "X_ACCESS_TOKEN_SECRET": "sandbox-access-secret",
}
log = logging.getLogger(__name__)

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
    continue_after_cursor(x, env.get("REDIS_URL"))
    return StandIns(slack, x)


def continue_after_cursor(x: XStandIn, redis_url: str | None) -> None:
    """Number the stand-in's tweets after the bot's stored mention cursor, so a Redis kept from an earlier
    run (REDIS_URL given) does not take every new tweet for an old one and skip it."""
    if not redis_url:
        return
    import redis

    from bot.adapters.redis_url import connect  # REDIS_URL's forms (Sentinel, TLS), like every process
    from bot.adapters.store.tickets import P

    try:
        cursor = connect(redis_url, retry_for=0, socket_connect_timeout=1).get(P + "x:since_id")
    except redis.RedisError:
        return
    if cursor and cursor.isdigit():
        timeline = x.timeline
        timeline._next_tweet = max(timeline._next_tweet, int(cursor) + 1000)


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
    say("done. The bot keeps running and this log tells what happens next. Try it yourself:")
    if env.get("PLAYGROUND_URL"):
        say(f"  in the playground, {env['PLAYGROUND_URL']}/ : tweet as a customer, reply as staff, press the "
            "buttons, run /escalate")
    say(f"  or tweet with curl: curl -s -X POST {s.x.url}/_sandbox/mentions -H 'content-type: application/json' "
        "-d '{\"text\": \"@escalator_kr 요금 청구서가 이상해요\", \"username\": \"you\"}'")
    say("  Ctrl-C stops everything.")
    return ok


def _line(text: str, limit: int = 110) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fields(message: dict[str, Any]) -> list[str]:
    """The texts of a message's section fields (a ticket's department, due time, state, keywords)."""
    return [str(f.get("text", "")) for block in message.get("blocks") or [] if block.get("type") == "section"
            for f in block.get("fields") or []]


class Narrator:
    """Tells, one line each, what happens on the stand-ins after the story: tweets, tickets, replies, clicks,
    commands and whispers, whoever caused them (the playground, curl or the bot)."""

    def __init__(self, s: StandIns, routing_file: str) -> None:
        self.s = s
        routing = load_routing(routing_file)
        self.names = {d.channel: d.name for d in routing.departments} | {
            routing.triage_channel: "triage", routing.managers_channel: "managers"}
        self.tweets: set[str] = set()
        self.messages: dict[tuple[str, str], str] = {}  # (channel, ts) -> edited ts
        self.fields: dict[tuple[str, str], list[str]] = {}  # (channel, ts) -> the Block Kit fields it showed
        self.deliveries = 0
        self.ephemerals = 0
        self.step(say_anything=False)

    def _channel(self, channel: str) -> str:
        name = self.names.get(channel)
        return f"#{channel} ({name})" if name else f"#{channel}"

    def step(self, say_anything: bool = True) -> None:
        lines: list[str] = []
        x, slack = self.s.x, self.s.slack
        with x._lock:
            users = {u.id: u.username for u in x.timeline.users.values()}
        for tweet in x.tweets():
            if tweet["id"] in self.tweets:
                continue
            self.tweets.add(tweet["id"])
            who = users.get(tweet["author_id"], tweet["author_id"])
            if tweet["author_id"] == x.account_id:
                parent = next((t for t in x.tweets() if t["id"] == tweet["in_reply_to_tweet_id"]), None)
                to = f" to @{users.get(parent['author_id'], '?')}" if parent else ""
                lines.append(f"→ X: @{who} replied{to}: {_line(tweet['text'])!r}")
            else:
                lines.append(f"@{who} tweets: {_line(tweet['text'])!r}")
        with slack._lock:
            channels = list(slack.workspace.channels)
            records = slack.deliveries[self.deliveries:]
            self.deliveries = len(slack.deliveries)
            whispers = slack.ephemerals[self.ephemerals:]
            self.ephemerals = len(slack.ephemerals)
        for delivery in records:
            lines += self._delivery(delivery)
        for channel in channels:
            with slack._lock:
                history = [dict(m) for m in slack.workspace.history.get(channel, [])]
            for m in history:
                key, edited = (channel, m["ts"]), str((m.get("edited") or {}).get("ts", ""))
                if key in self.messages and self.messages[key] == edited:
                    continue
                new = key not in self.messages
                self.messages[key] = edited
                before, self.fields[key] = self.fields.get(key, []), _fields(m)
                changed = [f for f in self.fields[key] if f not in before]
                in_thread = m.get("thread_ts") not in (None, m["ts"])
                where = self._channel(channel) + (" thread" if in_thread else "")
                if m.get("bot_id"):
                    if new or not changed:
                        verb = "posts" if new else "updates its message"
                        lines.append(f"→ Slack {where}: the bot {verb}: {_line(m.get('text', ''))!r}")
                    else:
                        about = _line((m.get("text") or "").split(":")[0], 40)
                        lines.append(f"→ Slack {where}: the bot updates {about}'s message: "
                                     + "; ".join(_line(f, 60) for f in changed))
                elif new:
                    lines.append(f"{m.get('user')} writes in {where}: {_line(m.get('text', ''))!r}")
        for whisper in whispers:
            lines.append(f"→ Slack (only {whisper.get('user')} sees it): {_line(whisper.get('text', ''))!r}")
        if say_anything:
            for line in lines:
                say(line)

    @staticmethod
    def _delivery(delivery: Any) -> list[str]:
        payload = delivery.payload()
        if not isinstance(payload, dict):
            return []
        if delivery.kind == "slash":
            return [f"{payload.get('user_id')} runs {payload.get('command')} {payload.get('text', '')}".rstrip()]
        if payload.get("type") == "block_actions":
            action = (payload.get("actions") or [{}])[0]
            label = (action.get("text") or {}).get("text") or (action.get("selected_option") or {}).get(
                "text", {}).get("text") or action.get("action_id")
            return [f"{payload['user']['id']} clicks {label!r} in #{payload['channel']['id']}"]
        if payload.get("type") == "view_submission":
            return [f"{payload['user']['id']} submits {payload['view'].get('callback_id', 'a form')}"]
        event = payload.get("event") or {}
        if event.get("type") == "app_home_opened":
            return [f"{event.get('user')} opens the App Home"]
        return []


def watch(s: StandIns, env: dict[str, str], stop: Callable[[], bool] = lambda: False) -> None:
    """Narrate what happens until stop() (or the process ends)."""
    narrator = Narrator(s, env["ROUTING_FILE"])
    while not stop():
        time.sleep(0.5)
        try:
            narrator.step()
        except Exception:  # noqa: BLE001 - the story must never take the demo down
            log.debug("narrator step failed", exc_info=True)
