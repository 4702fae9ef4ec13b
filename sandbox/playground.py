"""The playground: one browser page onto the running stand-ins, for trying Escalator without Slack or X.

It is a window, not a second bot. The page reads the stand-ins' state (GET /api/state, long-polled) and acts
as the people in the story through the same calls the tests use: a customer's tweet is `XStandIn.add_mention`,
a staff reply is `SlackStandIn.user_message` (the signed `message` event), a button is `block_action` (the
signed block_actions payload), a command is `slash_command`, the App Home is an `app_home_opened` event and a
modal is a signed `view_submission`. The bot answers through its real processes; nothing here decides
anything the bot decides.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from bot.routing import Routing
from sandbox.http import Reply, Request, StandInServer, json_reply
from sandbox.slack_api import SlackStandIn
from sandbox.slack_events import VERIFICATION_TOKEN, Delivery
from sandbox.slack_workspace import APP_ID, TEAM_ID, SlackError
from sandbox.x_api import XStandIn

log = logging.getLogger(__name__)

LONG_POLL_S = 20.0
OUTSIDER = "U0OUTSIDER"


def people(routing: Routing) -> list[dict[str, str]]:
    """Who the page can act as: each department's staff and leads, the operators, and an outsider."""
    found: dict[str, str] = {}
    for d in routing.departments:
        for user in sorted(d.staff or ()):
            found.setdefault(user, f"staff · {d.name}")
        for user in d.leads:
            found.setdefault(user, f"lead · {d.name}")
    for user in sorted(routing.operators or ()):
        found.setdefault(user, "operator")
    found.setdefault("U0STAFF1", "staff")
    found[OUTSIDER] = "outsider (not on any staff list)"
    return [{"id": user, "role": role} for user, role in found.items()]


def channels(routing: Routing) -> list[dict[str, str]]:
    out = [{"id": d.channel, "name": d.name, "kind": "department"} for d in routing.departments]
    out.append({"id": routing.triage_channel, "name": "triage", "kind": "triage"})
    out.append({"id": routing.managers_channel, "name": "managers", "kind": "managers"})
    seen: set[str] = set()
    return [c for c in out if not (c["id"] in seen or seen.add(c["id"]))]  # type: ignore[func-returns-value]


class Playground(StandInServer):
    """Serves the page and its small JSON API on top of one Slack and one X stand-in."""

    def __init__(self, slack: SlackStandIn, x: XStandIn, routing: Routing) -> None:
        super().__init__()
        self.slack, self.x, self.routing = slack, x, routing
        self.people = people(routing)
        self.channels = channels(routing)
        for person in self.people:
            slack.add_user(person["id"], person["id"].lower().removeprefix("u0"), real_name=person["role"])

    # ----- reading --------------------------------------------------------------------------------------

    def version(self) -> str:
        """Changes whenever anything a person could see may have changed."""
        s, x = self.slack, self.x
        with s._lock, x._lock:
            tweets = x.timeline.tweets.values()
            return ".".join(str(n) for n in (
                len(s.calls), len(s.deliveries), len(s.ephemerals), len(s.responses), len(s.views),
                len(tweets), sum(1 for t in tweets if t.deleted)))

    def state(self) -> dict[str, Any]:
        s, x = self.slack, self.x
        known = {c["id"] for c in self.channels}
        with s._lock:
            extra = [{"id": c.id, "name": c.name, "kind": "other"} for c in s.workspace.channels.values()
                     if c.id not in known and not c.is_im]
            users = {u: {"name": d["name"], "real_name": d.get("real_name", "")}
                     for u, d in s.workspace.users.items()}
            homes: dict[str, Any] = {}
            modals: list[dict[str, Any]] = []
            for number, view in enumerate(s.views):
                if view["method"] == "views.publish" and view.get("user_id"):
                    homes[str(view["user_id"])] = view["view"]
                elif view["method"] in ("views.open", "views.push"):
                    modals.append({"index": number, "view": view["view"]})
            ephemerals = [{k: e.get(k) for k in ("channel", "user", "text", "blocks", "thread_ts")}
                          for e in s.ephemerals[-30:]]
        slack = {"channels": [{**c, "messages": s.messages(c["id"])} for c in self.channels + extra],
                 "users": users, "homes": homes, "modals": modals[-5:], "ephemerals": ephemerals}
        with x._lock:
            tweets = [{**x._raw(t), "username": x.timeline.users[t.author_id].username
                       if t.author_id in x.timeline.users else t.author_id,
                       "name": x.timeline.users[t.author_id].name if t.author_id in x.timeline.users else ""}
                      for t in x.timeline.tweets.values()]
        return {"version": self.version(), "account": x.account_username, "people": self.people,
                "slack": slack, "x": {"tweets": tweets}}

    # ----- acting -----------------------------------------------------------------------------------------

    def tweet(self, body: dict[str, Any]) -> dict[str, Any]:
        username = str(body.get("username") or "").strip().lstrip("@") or "customer"
        text = str(body.get("text") or "").strip()
        if not text:
            raise ValueError("write something to tweet")
        reply_to = body.get("in_reply_to") or None
        if body.get("mention", True):
            return {"id": self.x.add_mention(text, username=username, name=body.get("name") or None,
                                             in_reply_to=reply_to)}
        with self.x._lock:  # a tweet that does not mention the account: the bot sees it only via /escalate
            user = self.x.timeline.add_user(username, body.get("name") or None)
            return {"id": self.x.timeline.add_tweet(text, user.id, in_reply_to=reply_to).id}

    def message(self, body: dict[str, Any]) -> Delivery:
        return self.slack.user_message(str(body["channel"]), str(body["text"]), user=str(body["user"]),
                                       thread_ts=body.get("thread_ts") or None).delivery

    def action(self, body: dict[str, Any]) -> Delivery:
        selected = body.get("selected_option")
        return self.slack.block_action(str(body["user"]), str(body["channel"]), str(body["ts"]),
                                       str(body["action_id"]), value=body.get("value"),
                                       selected_option=selected if isinstance(selected, dict) else None)

    def slash(self, body: dict[str, Any]) -> Delivery:
        line = str(body.get("line") or "").strip()
        command, _, text = line.partition(" ")
        if not command.startswith("/"):
            raise ValueError("a command starts with / (try /escalate or /sla)")
        return self.slack.slash_command(command, text.strip(), user=str(body["user"]),
                                        channel=str(body.get("channel") or self.routing.triage_channel))

    def home(self, body: dict[str, Any]) -> Delivery:
        user = str(body["user"])
        return self.slack.deliver_event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:],
                                         "tab": "home", "event_ts": f"{time.time():.6f}"})

    def submit_view(self, body: dict[str, Any]) -> Delivery:
        """A person submits a modal: the signed view_submission, with what they typed in each input."""
        with self.slack._lock:
            view = dict(self.slack.views[int(body["index"])]["view"])
        typed = body.get("values") or {}
        values = {}
        for block in view.get("blocks", []):
            element = block.get("element") or {}
            if block.get("type") == "input" and element.get("action_id"):
                values[block["block_id"]] = {element["action_id"]: {
                    "type": element.get("type", "plain_text_input"), "value": typed.get(block["block_id"], "")}}
        user = str(body["user"])
        payload = {"type": "view_submission", "team": {"id": TEAM_ID, "domain": "sandbox"},
                   "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
                   "api_app_id": APP_ID, "token": VERIFICATION_TOKEN, "trigger_id": f"{time.time():.0f}.1.pg",
                   "view": {**view, "state": {"values": values}}, "response_urls": [],
                   "is_enterprise_install": False, "enterprise": None}
        form = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
        return self.slack.deliver_raw(form, content_type="application/x-www-form-urlencoded")

    # ----- HTTP -------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.method == "GET" and request.path in ("/", "/index.html"):
            page = resources.files("sandbox").joinpath("playground.html").read_bytes()
            return Reply(200, page, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})
        if request.method == "GET" and request.path == "/api/state":
            seen = request.arg("v")
            deadline = time.monotonic() + LONG_POLL_S
            while seen and self.version() == seen and time.monotonic() < deadline:
                time.sleep(0.2)
            return json_reply(self.state())
        actions: dict[str, Callable[[dict[str, Any]], Delivery | dict[str, Any]]] = {
            "/api/tweet": self.tweet, "/api/message": self.message, "/api/action": self.action,
            "/api/slash": self.slash, "/api/home": self.home, "/api/view": self.submit_view}
        if request.method == "POST" and request.path in actions:
            try:
                body = request.json() or {}
                done = actions[request.path](body)
            except (KeyError, TypeError, ValueError, IndexError, SlackError) as err:
                return json_reply({"ok": False, "error": str(err)}, 400)
            if isinstance(done, Delivery):
                return json_reply({"ok": 200 <= done.status < 300, "status": done.status,
                                   "answer": done.json() or done.response})
            return json_reply({"ok": True, **done})
        return json_reply({"ok": False, "error": f"no {request.method} {request.path}"}, 404)


def start_playground(slack: SlackStandIn, x: XStandIn, routing: Routing, port: int = 0) -> Playground:
    """Serve the page on 127.0.0.1:port (a free port when that one is taken)."""
    playground = Playground(slack, x, routing)
    try:
        playground.start("127.0.0.1", port)
    except OSError:
        playground.start("127.0.0.1", 0)
    return playground


