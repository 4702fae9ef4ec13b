"""The spine, end to end: X mention -> department channel -> staff thread reply -> reply on X.

Every test runs the real Procfile processes (gunicorn web, rq worker --with-scheduler, rq cron) against a
real redis-server and the Slack and X stand-ins, driven only through those stand-ins.
"""

from __future__ import annotations

import pytest

from tests.harness import wait_for

pytestmark = pytest.mark.slow

ACCOUNT = "escalator_kr"


def ticket_in(slack, channel: str, handle: str) -> dict:
    return wait_for(lambda: next((m for m in slack.messages(channel) if f"@{handle}" in m.get("text", "")), None),
                    20, message=f"a ticket for @{handle} in {channel}")


def flat(msg: dict) -> str:
    """Everything a person reads in a message: its text and the text of its blocks."""
    def texts(node: object) -> list[str]:
        if isinstance(node, dict):
            return [node["text"]] if isinstance(node.get("text"), str) else \
                [x for v in node.values() for x in texts(v)]
        if isinstance(node, list):
            return [x for v in node for x in texts(v)]
        return []

    return "\n".join([msg.get("text", "")] + texts(msg.get("blocks") or []))


def replies_on_x(x, tweet_id: str) -> list[dict]:
    return [t for t in x.posted() if t.get("in_reply_to_tweet_id") == tweet_id]


def test_mention_becomes_one_post_in_its_department_channel(bot, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰4 예약했는데 배송이 너무 늦어요", username="minsu", name="김민수",
                             followers=1234)
    msg = ticket_in(slack, "C0IPHONE", "minsu")
    shown = flat(msg)
    for expected in ("@minsu", "김민수", "1,234", "아이폰4 예약했는데 배송이 너무 늦어요",
                     f"https://x.com/minsu/status/{tweet_id}", "아이폰 고객센터", "standard"):
        assert expected in shown, f"{expected!r} missing from the Slack post:\n{shown}"
    bot.settle(x, polls=2)  # two more polls, then drained: nothing else is coming
    assert [m for m in slack.messages("C0IPHONE")] == [msg], "the mention was posted more than once"
    assert slack.messages("C0TRIAGE") == []


def test_unmatched_mention_goes_to_triage_and_fullwidth_keywords_match(bot, slack, x):
    x.add_mention(f"@{ACCOUNT} 고객센터 전화가 안 돼요", username="nobody")
    x.add_mention(f"@{ACCOUNT} ＷｉＢｒｏ 신호가 약해요", username="fullwidth")
    ticket_in(slack, "C0TRIAGE", "nobody")
    ticket_in(slack, "C0WIBRO", "fullwidth")


def test_tweet_text_cannot_ping_anyone_and_ampersands_read_right(bot, slack, x):
    x.add_mention(f"@{ACCOUNT} <!channel> Tom & Jerry <@U0LEAD> 아이폰 a<b>c", username="prankster")
    msg = ticket_in(slack, "C0IPHONE", "prankster")
    shown = flat(msg)
    assert "&lt;!channel&gt;" in shown and "&lt;@U0LEAD&gt;" in shown
    assert "Tom &amp; Jerry" in shown and "&amp;amp;" not in shown
    assert "<!channel>" not in shown and "<@U0LEAD>" not in shown


def test_staff_reply_goes_to_x_once_as_plain_text_and_the_thread_shows_it(bot, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 개통이 안 돼요", username="minsu")
    msg = ticket_in(slack, "C0IPHONE", "minsu")
    slack.user_message("C0IPHONE", "<@U0LEAD> 확인했습니다 &amp; 곧 연락드릴게요 <https://kt.com/help|도움말> :smile:",
                       user="U0STAFF1", thread_ts=msg["ts"])
    sent = wait_for(lambda: replies_on_x(x, tweet_id), 15, message="the reply on X")
    assert sent[0]["text"] == "확인했습니다 & 곧 연락드릴게요 https://kt.com/help 😄"
    link = f"https://x.com/{ACCOUNT}/status/{sent[0]['id']}"
    wait_for(lambda: any(link in flat(m) for m in slack.thread("C0IPHONE", msg["ts"])), 10,
             message="the thread note with the tweet link")
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert len(replies_on_x(x, tweet_id)) == 1


def test_hold_window_edit_changes_what_is_sent_and_delete_cancels(start_bot, slack, x):
    routing = (open("tests/data/routing.yaml", encoding="utf-8").read()
               .replace("hold: 0s", "hold: 3s"))
    bot = start_bot(routing)
    kept = x.add_mention(f"@{ACCOUNT} 아이폰 케이스 문의", username="editor")
    dropped = x.add_mention(f"@{ACCOUNT} 아이폰 액정 문의", username="deleter")
    m1, m2 = ticket_in(slack, "C0IPHONE", "editor"), ticket_in(slack, "C0IPHONE", "deleter")
    r1 = slack.user_message("C0IPHONE", "첫 답변", user="U0STAFF1", thread_ts=m1["ts"])
    r2 = slack.user_message("C0IPHONE", "보내지 않을 답변", user="U0STAFF2", thread_ts=m2["ts"])
    wait_for(lambda: any("⏳" in m.get("text", "") for m in slack.thread("C0IPHONE", m1["ts"])), 5,
             message="a pending notice in the thread")
    slack.edit_message("C0IPHONE", r1.ts, "수정된 답변입니다")
    slack.delete_message("C0IPHONE", r2.ts)
    sent = wait_for(lambda: replies_on_x(x, kept), 15, message="the edited reply on X")
    assert [t["text"] for t in sent] == ["수정된 답변입니다"]
    wait_for(lambda: any("🚫" in m.get("text", "") for m in slack.thread("C0IPHONE", m2["ts"])), 5,
             message="the cancelled notice")
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert replies_on_x(x, dropped) == []


def test_notes_bots_outsiders_and_too_long_replies_are_not_relayed(bot, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 요금 문의", username="careful")
    msg = ticket_in(slack, "C0IPHONE", "careful")
    ts = msg["ts"]
    slack.user_message("C0IPHONE", "// 내부 메모: 요금팀 확인 중", user="U0STAFF1", thread_ts=ts)
    slack.user_message("C0IPHONE", "제가 답할게요", user="U0OUTSIDER", thread_ts=ts)
    slack.deliver_event({"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "channel": "C0IPHONE",
                         "text": "다른 봇의 메시지", "ts": "1800000000.000100", "thread_ts": ts})
    slack.user_message("C0IPHONE", "가" * 141, user="U0STAFF1", thread_ts=ts)
    told = wait_for(lambda: [m for m in slack.thread("C0IPHONE", ts) if "282/280" in m.get("text", "")], 10,
                    message="the thread being told the reply is too long")
    assert len(told) == 1
    wait_for(lambda: [e for e in slack.ephemerals if e.get("user") == "U0OUTSIDER"], 10,
             message="the outsider being told")
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert replies_on_x(x, tweet_id) == []


def test_edit_or_delete_after_sending_is_not_relayed(bot, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="late")
    msg = ticket_in(slack, "C0IPHONE", "late")
    reply = slack.user_message("C0IPHONE", "답변드립니다", user="U0STAFF1", thread_ts=msg["ts"])
    wait_for(lambda: replies_on_x(x, tweet_id), 15)
    slack.edit_message("C0IPHONE", reply.ts, "고친 답변")
    wait_for(lambda: any("ℹ️" in m.get("text", "") for m in slack.thread("C0IPHONE", msg["ts"])), 10,
             message="the thread being told edits are not relayed")
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert [t["text"] for t in replies_on_x(x, tweet_id)] == ["답변드립니다"]


def test_customer_reply_to_our_tweet_lands_in_the_same_thread(bot, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 수리 문의", username="asker")
    msg = ticket_in(slack, "C0IPHONE", "asker")
    slack.user_message("C0IPHONE", "서비스센터 방문 부탁드립니다", user="U0STAFF1", thread_ts=msg["ts"])
    ours = wait_for(lambda: replies_on_x(x, tweet_id), 15)[0]
    x.add_mention(f"@{ACCOUNT} 어느 서비스센터로 가면 되나요?", username="asker", in_reply_to=ours["id"])
    wait_for(lambda: any("어느 서비스센터로" in flat(m) for m in slack.thread("C0IPHONE", msg["ts"])), 15,
             message="the follow-up in the ticket's thread")
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert len(slack.messages("C0IPHONE")) == 1 and slack.messages("C0TRIAGE") == []


def test_slack_retries_never_send_a_second_tweet(bot, slack, x):
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 배터리 문의", username="retry")
    msg = ticket_in(slack, "C0IPHONE", "retry")
    delivery = slack.user_message("C0IPHONE", "배터리 교체 안내드립니다", user="U0STAFF1", thread_ts=msg["ts"])
    slack.redeliver(delivery, retry_num=1)
    slack.redeliver(delivery, retry_num=2, reason="http_error")
    wait_for(lambda: replies_on_x(x, tweet_id), 15)
    bot.settle()  # the queues, the scheduler and the outboxes drained: nothing else is coming
    assert len(replies_on_x(x, tweet_id)) == 1
    notes = [m for m in slack.thread("C0IPHONE", msg["ts"]) if "✅" in m.get("text", "")]
    assert len(notes) == 1


def test_restarting_every_process_posts_nothing_twice(start_bot, slack, x):
    bot = start_bot()
    for i in range(5):
        x.add_mention(f"@{ACCOUNT} 아이폰 문의 {i}", username=f"first{i}")
    wait_for(lambda: len(slack.messages("C0IPHONE")) == 5, 20, message="five posts")
    for name in ("cron", "worker", "web"):
        bot.kill(name)
    for i in range(3):
        x.add_mention(f"@{ACCOUNT} 와이브로 문의 {i}", username=f"second{i}")
    bot.start()
    wait_for(lambda: len(slack.messages("C0WIBRO")) == 3, 20, message="three posts after the restart")
    bot.settle(x, polls=2)  # two more polls, then drained: nothing else is coming
    assert len(slack.messages("C0IPHONE")) == 5 and len(slack.messages("C0WIBRO")) == 3
