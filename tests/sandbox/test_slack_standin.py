"""The Slack stand-in through the real slack_sdk WebClient, and its signed deliveries to a tiny local app."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox import SlackStandIn, sign

SECRET = "test-signing-secret"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Receiver:
    """A tiny app endpoint: checks each request's signature with slack_sdk and answers `answer`."""

    requests: list[Received] = field(default_factory=list)
    answer: tuple[int, bytes] = (200, b"")
    url: str = ""

    def wait_for(self, predicate: Any, timeout: float = 3.0) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in list(self.requests) if _matches(predicate, r)]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError("nothing matching was delivered")


def _matches(predicate: Any, received: Received) -> bool:
    try:
        return bool(predicate(received))
    except (ValueError, KeyError, TypeError):  # another kind of request (a form, a raw body)
        return False


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    verifier = SignatureVerifier(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            valid = verifier.is_valid(body, self.headers.get("X-Slack-Request-Timestamp", ""),
                                      self.headers.get("X-Slack-Signature", ""))
            state.requests.append(Received(dict(self.headers.items()), body, valid))
            status, answer = state.answer
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    yield state
    server.shutdown()


@pytest.fixture(scope="module")
def server(receiver: Receiver) -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn(signing_secret=SECRET, bot_token="xoxb-test", events_url=receiver.url)
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def slack(server: SlackStandIn, receiver: Receiver) -> SlackStandIn:
    server.reset()
    receiver.requests.clear()
    receiver.answer = (200, b"")
    return server


@pytest.fixture
def web(slack: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.url + "/api/")


def test_post_in_a_thread_update_and_permalink(slack: SlackStandIn, web: WebClient) -> None:
    parent = web.chat_postMessage(channel="C0WIBRO", text="새 문의 from @kim", unfurl_links=False)
    reply = web.chat_postMessage(channel="C0WIBRO", text="SLA 50%", thread_ts=parent["ts"])
    assert float(reply["ts"]) > float(parent["ts"])
    assert reply["message"]["bot_id"] == "BBOT" and reply["message"]["thread_ts"] == parent["ts"]
    web.chat_update(channel="C0WIBRO", ts=parent["ts"], text="답변 완료")
    [top] = slack.messages("C0WIBRO")
    assert top["text"] == "답변 완료" and top["edited"]["user"] == "UBOT"
    assert [r["text"] for r in top["replies"]] == ["SLA 50%"]
    assert [m["text"] for m in slack.thread("C0WIBRO", parent["ts"])] == ["답변 완료", "SLA 50%"]
    link = web.chat_getPermalink(channel="C0WIBRO", message_ts=reply["ts"])["permalink"]
    assert link == (f"https://sandbox.slack.com/archives/C0WIBRO/p{reply['ts'].replace('.', '')}"
                    f"?thread_ts={parent['ts']}&cid=C0WIBRO")
    assert web.auth_test()["user_id"] == "UBOT"


def test_history_pages_newest_first_and_returns_metadata_when_asked(web: WebClient) -> None:
    for n in range(3):
        web.chat_postMessage(channel="C0WIBRO", text=f"ticket {n}",
                             metadata={"event_type": "ticket", "event_payload": {"tweet_id": str(n)}})
    first = web.conversations_history(channel="C0WIBRO", limit=2, include_all_metadata=True)
    assert [m["text"] for m in first["messages"]] == ["ticket 2", "ticket 1"]
    assert first["messages"][0]["metadata"] == {"event_type": "ticket", "event_payload": {"tweet_id": "2"}}
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = web.conversations_history(channel="C0WIBRO", limit=2, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["ticket 0"]
    assert "metadata" not in rest["messages"][0] and rest["has_more"] is False


def test_files_upload_v2_end_to_end_in_a_thread(slack: SlackStandIn, web: WebClient) -> None:
    parent = web.chat_postMessage(channel="C0MANAGERS", text="daily summary")
    done = web.files_upload_v2(channel="C0MANAGERS", content=b"\x89PNG chart", filename="sla.png",
                               title="SLA", initial_comment="오늘의 SLA", thread_ts=parent["ts"])
    assert done["file"]["title"] == "SLA"
    [upload] = slack.uploads
    assert upload["content"] == b"\x89PNG chart" and upload["channels"] == ["C0MANAGERS"]
    [shared] = slack.messages("C0MANAGERS")[0]["replies"]
    assert shared["text"] == "오늘의 SLA" and shared["files"][0]["name"] == "sla.png"


def test_ratelimited_is_a_429_with_retry_after(slack: SlackStandIn, web: WebClient) -> None:
    slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "7"})
    with pytest.raises(SlackApiError) as limited:
        web.chat_postMessage(channel="C0WIBRO", text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "7"
    assert slack.messages("C0WIBRO") == []
    web.chat_postMessage(channel="C0WIBRO", text="hi")


def test_per_channel_rate_limit_like_slack() -> None:
    stand_in = SlackStandIn(rate_limit_per_channel=1.0)
    stand_in.start()
    try:
        web = WebClient(token="xoxb-sandbox", base_url=stand_in.url + "/api/")
        web.chat_postMessage(channel="C1", text="one")
        web.chat_postMessage(channel="C2", text="other channel is fine")
        with pytest.raises(SlackApiError) as limited:
            web.chat_postMessage(channel="C1", text="two")
        assert limited.value.response.status_code == 429
        assert limited.value.response.headers["Retry-After"] == "1"
    finally:
        stand_in.stop()


def test_errors_answer_like_slack(slack: SlackStandIn, web: WebClient) -> None:
    with pytest.raises(SlackApiError) as bad_token:
        WebClient(token="xoxb-wrong", base_url=slack.url + "/api/").auth_test()
    assert bad_token.value.response["error"] == "invalid_auth" and bad_token.value.response.status_code == 200
    with pytest.raises(SlackApiError) as unknown:
        web.conversations_history(channel="C0NOWHERE")
    assert unknown.value.response["error"] == "channel_not_found"
    slack.fail_next("chat.update", status=500)
    with pytest.raises(SlackApiError) as broken:
        web.chat_update(channel="C0WIBRO", ts="1.0", text="x")
    assert broken.value.response.status_code == 500


def test_user_message_delivers_a_signed_event(slack: SlackStandIn, receiver: Receiver) -> None:
    ts = slack.user_message("C0WIBRO", "<@UBOT> 확인 부탁해요", user="U0STAFF2")
    delivery = slack.last_delivery
    assert delivery is not None and delivery.status == 200
    got = receiver.wait_for(lambda r: r.json()["event"].get("user") == "U0STAFF2")
    assert got.valid
    envelope = got.json()
    assert envelope["type"] == "event_callback" and envelope["team_id"] == "T0SANDBOX"
    assert envelope["authorizations"][0]["user_id"] == "UBOT"
    event = envelope["event"]
    assert (event["type"], event["channel"], event["ts"], event["channel_type"]) == ("message", "C0WIBRO", ts,
                                                                                     "channel")
    assert event["blocks"][0]["elements"][0]["elements"][0] == {"type": "user", "user_id": "UBOT"}
    assert slack.spec_violations == []


def test_the_bots_own_post_comes_back_as_a_message_event(slack: SlackStandIn, web: WebClient,
                                                         receiver: Receiver) -> None:
    posted = web.chat_postMessage(channel="C0WIBRO", text="ticket")
    got = receiver.wait_for(lambda r: r.json()["event"].get("ts") == posted["ts"])
    assert got.valid and got.json()["event"]["bot_id"] == "BBOT"


def test_thread_reply_edit_and_delete_events(slack: SlackStandIn, web: WebClient, receiver: Receiver) -> None:
    parent = web.chat_postMessage(channel="C0WIBRO", text="ticket")["ts"]
    ts = slack.user_message("C0WIBRO", "첫 답변", thread_ts=parent)
    reply = receiver.wait_for(lambda r: r.json()["event"].get("ts") == ts).json()["event"]
    assert reply["thread_ts"] == parent and reply["parent_user_id"] == "UBOT"
    slack.edit_message("C0WIBRO", ts, "고친 답변")
    changed = receiver.wait_for(lambda r: r.json()["event"].get("subtype") == "message_changed")
    changed = changed.json()["event"]
    assert changed["message"]["text"] == "고친 답변" and changed["previous_message"]["text"] == "첫 답변"
    assert changed["message"]["edited"]["user"] == "U0STAFF1"
    slack.delete_message("C0WIBRO", ts)
    deleted = receiver.wait_for(lambda r: r.json()["event"].get("subtype") == "message_deleted")
    deleted = deleted.json()["event"]
    assert deleted["deleted_ts"] == ts
    assert slack.thread("C0WIBRO", parent)[1:] == []


def test_slash_command_is_a_signed_form_and_its_response_url_works(slack: SlackStandIn,
                                                                   receiver: Receiver) -> None:
    receiver.answer = (200, b'{"response_type": "ephemeral", "text": "on it"}')
    delivery = slack.slash_command("/escalate", "1860000000000000001 wibro fast", user="U0OPS1")
    assert delivery.status == 200 and delivery.json() == {"response_type": "ephemeral", "text": "on it"}
    got = receiver.wait_for(lambda r: r.body.startswith(b"token="))
    assert got.valid and got.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = got.form()
    assert (form["command"], form["text"], form["user_id"], form["channel_id"]) == (
        "/escalate", "1860000000000000001 wibro fast", "U0OPS1", "C0TRIAGE")
    assert form["trigger_id"] and form["team_id"] == "T0SANDBOX"
    body = json.dumps({"response_type": "in_channel", "text": "escalated"}).encode()
    request = urllib.request.Request(form["response_url"], method="POST", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert json.loads(answer.read()) == {"ok": True}
    assert slack.responses[0]["body"]["text"] == "escalated"
    assert [m["text"] for m in slack.messages("C0TRIAGE")] == ["escalated"]


def test_block_action_payload_names_the_clicked_button(slack: SlackStandIn, web: WebClient,
                                                       receiver: Receiver) -> None:
    blocks = [{"type": "actions", "block_id": "ticket-actions", "elements": [
        {"type": "button", "action_id": "claim", "value": "1860000000000000001",
         "text": {"type": "plain_text", "text": "담당"}}]}]
    posted = web.chat_postMessage(channel="C0WIBRO", text="ticket", blocks=blocks)
    delivery = slack.block_action("U0STAFF1", "C0WIBRO", posted["ts"], "claim")
    assert delivery.status == 200
    payload = json.loads(receiver.wait_for(lambda r: r.body.startswith(b"payload=")).form()["payload"])
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U0STAFF1"
    assert payload["container"]["message_ts"] == posted["ts"]
    assert payload["actions"][0] | {"action_ts": "-"} == {
        "action_id": "claim", "block_id": "ticket-actions", "type": "button", "value": "1860000000000000001",
        "text": {"type": "plain_text", "text": "담당"}, "action_ts": "-"}


def test_redeliver_adds_slacks_retry_headers_and_signs_again(slack: SlackStandIn, receiver: Receiver) -> None:
    sent = slack.user_message("C0WIBRO", "hello")
    assert sent == sent.ts and sent.delivery is slack.last_delivery and sent.status == 200
    again = slack.redeliver(sent, retry_num=2, reason="http_error")
    assert again.body == sent.delivery.body and again.status == 200
    got = receiver.wait_for(lambda r: "X-Slack-Retry-Num" in r.headers)
    assert got.valid
    assert (got.headers["X-Slack-Retry-Num"], got.headers["X-Slack-Retry-Reason"]) == ("2", "http_error")


def test_deliver_raw_lets_a_test_send_a_bad_signature(slack: SlackStandIn, receiver: Receiver) -> None:
    receiver.answer = (401, b"")
    delivery = slack.deliver_raw(b'{"type": "event_callback"}', {"X-Slack-Signature": "v0=forged"})
    assert delivery.status == 401
    assert receiver.wait_for(lambda r: r.headers.get("X-Slack-Signature") == "v0=forged").valid is False


def test_sign_matches_slack_sdk() -> None:
    body = b"token=xyz&command=%2Fescalate&text=hi"
    headers = sign("8f742231b10e8888abcd99yyyzzz85a5", body, timestamp=1531420618)
    expected = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5").generate_signature(
        timestamp="1531420618", body=body)
    assert headers == {"X-Slack-Request-Timestamp": "1531420618", "X-Slack-Signature": expected}


def test_control_plane_over_http(slack: SlackStandIn, web: WebClient, receiver: Receiver) -> None:
    def call(path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{slack.url}/_sandbox/{path}", data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.loads(answer.read())

    parent = web.chat_postMessage(channel="C0WIBRO", text="ticket")["ts"]
    made = call("user_message", {"channel": "C0WIBRO", "text": "답변", "thread_ts": parent})
    assert made["delivery"]["status"] == 200 and made["delivery"]["sent"]["event"]["text"] == "답변"
    assert [m["text"] for m in call(f"thread?channel=C0WIBRO&ts={parent}")] == ["ticket", "답변"]
    assert call("messages?channel=C0WIBRO")[0]["reply_count"] == 1
    call("fail", {"method": "chat.postMessage", "status": 429})
    with pytest.raises(SlackApiError):
        web.chat_postMessage(channel="C0WIBRO", text="limited")
    assert call("redeliver", {"retry_num": 1})["retry_num"] == "1"
    call("reset", {})
    assert call("messages?channel=C0WIBRO") == []


# -- issue 12, finding 3: the stand-in refuses what Slack refuses for its size -----------------------------

@pytest.mark.parametrize(("blocks", "pointer", "message"), [
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "/blocks/0/text/text",
     "must be less than 3001 characters"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51, "/blocks", "no more than 50 items allowed"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "/blocks/0/text/text",
     "must be less than 151 characters"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}], "/blocks/0/fields/0/text",
     "must be less than 2001 characters"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}], "/blocks/0/fields",
     "no more than 10 items allowed"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11}], "/blocks/0/elements",
     "no more than 10 items allowed"),
    ([{"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "v" * 2001,
                                        "text": {"type": "plain_text", "text": "ok"}}]}],
     "/blocks/0/elements/0/value", "must be less than 2001 characters"),
    ([{"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                        "text": {"type": "plain_text", "text": "x" * 76}}]}],
     "/blocks/0/elements/0/text/text", "must be less than 76 characters"),
    ([{"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "options": [
        {"text": {"type": "plain_text", "text": "o"}, "value": str(n)} for n in range(101)]}]}],
     "/blocks/0/elements/0/options", "no more than 100 items allowed"),
    ([{"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "options": [
        {"text": {"type": "plain_text", "text": "o" * 76}, "value": "1"}]}]}],
     "/blocks/0/elements/0/options/0/text/text", "must be less than 76 characters"),
    ([{"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "options": [
        {"text": {"type": "plain_text", "text": "o"}, "value": "1",
         "description": {"type": "plain_text", "text": "d" * 76}}]}]}],
     "/blocks/0/elements/0/options/0/description/text", "must be less than 76 characters"),
])
def test_blocks_over_slacks_limits_are_refused_as_slack_refuses_them(web: WebClient, blocks, pointer,
                                                                      message) -> None:
    for call in (lambda: web.chat_postMessage(channel="C0WIBRO", text="t", blocks=blocks),
                 lambda: web.chat_update(channel="C0WIBRO", ts=web.chat_postMessage(channel="C0WIBRO",
                                                                                    text="t")["ts"],
                                         text="t", blocks=blocks)):
        with pytest.raises(SlackApiError) as refused:
            call()
        body = refused.value.response.data
        assert body["error"] == "invalid_blocks"
        assert f"[ERROR] {message} [json-pointer:{pointer}]" in body["response_metadata"]["messages"], body
        assert f"{message} [json-pointer:{pointer}]" in body["errors"]


def test_message_text_over_40000_characters_is_msg_too_long(web: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        web.chat_postMessage(channel="C0WIBRO", text="x" * 40_001)
    assert refused.value.response["error"] == "msg_too_long"


def test_a_view_over_100_blocks_is_refused_with_invalid_arguments(web: WebClient) -> None:
    view = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 101}
    with pytest.raises(SlackApiError) as refused:
        web.views_publish(user_id="U0STAFF1", view=view)
    body = refused.value.response.data
    assert body["error"] == "invalid_arguments"
    assert "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]" in body["response_metadata"]["messages"]
    view["blocks"] = view["blocks"][:100]
    assert web.views_publish(user_id="U0STAFF1", view=view)["ok"]
