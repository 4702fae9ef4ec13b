"""Saved replies end to end (issue 16): the real Procfile processes, signed block_actions and message events.

A staff member picks a saved reply from the ticket message's menu, or writes `;name` in the thread; the words
reach the customer on X after the undo window, and only the chooser can cancel.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_chatops import acked, action_ids, answer, flat, shows, thread_has
from tests.e2e.test_playground import browser, playground, until  # noqa: F401 - fixtures, shared
from tests.e2e.test_spine import ACCOUNT, replies_on_x, ticket_in
from tests.harness import wait_for

pytestmark = pytest.mark.slow

SORRY = "불편을 드려 죄송합니다. 담당부서에 확인해 보도록 하겠습니다."
ROUTING = """
timezone: Asia/Seoul
triage: {channel: C0TRIAGE}
managers: {channel: C0MANAGERS}
relay: {hold: 3s, note_prefix: "//"}
sla:
  standard: {first_response: 24h}
replies:
  sorry: "불편을 드려 죄송합니다. 담당부서에 확인해 보도록 하겠습니다."
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
      call: "아이폰 문의는 {phone}으로 전화 주세요. 문의번호 {ticket}"
"""


def option(name: str) -> dict:
    return {"text": {"type": "plain_text", "text": name, "emoji": True}, "value": name}


def test_a_saved_reply_picked_on_the_ticket_and_one_typed_reach_their_customers(start_bot, slack, x):
    bot = start_bot(ROUTING)
    picked_id = x.add_mention(f"@{ACCOUNT} 아이폰 배송이 안 와요", username="waiter")
    typed_id = x.add_mention(f"@{ACCOUNT} 아이폰 액정 문의", username="cracked")
    msg = ticket_in(slack, "C0IPHONE", "waiter")
    shows(slack, "C0IPHONE", msg["ts"], "🟡")
    assert "saved_reply_pick" in action_ids(msg)

    acked(slack.block_action("U0STAFF2", "C0IPHONE", msg["ts"], "saved_reply_pick",
                             selected_option=option("call")))
    expected = f"아이폰 문의는 080-123-4567으로 전화 주세요. 문의번호 #{picked_id[-6:]}"
    thread_has(slack, "C0IPHONE", msg["ts"], "<@U0STAFF2>", expected)
    notice = thread_has(slack, "C0IPHONE", msg["ts"], "⏳", expected)
    assert "saved_reply_cancel" in action_ids(notice)
    wait_for(lambda: replies_on_x(x, picked_id), 20, message="the picked reply on X")
    shows(slack, "C0IPHONE", notice["ts"], "✅")

    other = ticket_in(slack, "C0IPHONE", "cracked")
    slack.user_message("C0IPHONE", ";sorry", user="U0STAFF1", thread_ts=other["ts"])
    thread_has(slack, "C0IPHONE", other["ts"], "⏳", SORRY)
    wait_for(lambda: replies_on_x(x, typed_id), 20, message="the typed saved reply on X")
    bot.settle()
    assert [t["text"] for t in replies_on_x(x, picked_id)] == [expected]
    assert [t["text"] for t in replies_on_x(x, typed_id)] == [SORRY]


def test_only_the_chooser_can_cancel_a_picked_saved_reply(start_bot, slack, x):
    bot = start_bot(ROUTING.replace("hold: 3s", "hold: 30s"))
    tweet_id = x.add_mention(f"@{ACCOUNT} 아이폰 문의", username="asker")
    msg = ticket_in(slack, "C0IPHONE", "asker")
    shows(slack, "C0IPHONE", msg["ts"], "🟡")
    acked(slack.block_action("U0STAFF1", "C0IPHONE", msg["ts"], "saved_reply_pick", selected_option=option("sorry")))
    notice = thread_has(slack, "C0IPHONE", msg["ts"], "⏳", SORRY)

    refused = slack.block_action("U0STAFF2", "C0IPHONE", notice["ts"], "saved_reply_cancel")
    acked(refused)
    assert "<@U0STAFF1>" in answer(slack, refused)
    assert "⏳" in flat(notice)

    acked(slack.block_action("U0STAFF1", "C0IPHONE", notice["ts"], "saved_reply_cancel"))
    cancelled = shows(slack, "C0IPHONE", notice["ts"], "🚫")
    assert "saved_reply_cancel" not in action_ids(cancelled)
    bot.settle()
    assert replies_on_x(x, tweet_id) == []


@pytest.mark.browser
def test_a_saved_reply_is_picked_from_the_ticket_menu_in_the_playground(playground, browser):  # noqa: F811
    """The shipped routing.yaml's iphone replies, in a real browser: pick `call`, and X shows the words."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, _ = playground
    d = browser
    d.get(url + "/")
    until(lambda: d.find_elements(By.CSS_SELECTOR, "#person option"), 20, "the page loaded its state")
    d.find_element(By.CSS_SELECTOR, "#handle").clear()
    d.find_element(By.CSS_SELECTOR, "#handle").send_keys("menu_user")
    d.find_element(By.CSS_SELECTOR, "#tweettext").send_keys("아이폰 배송이 너무 늦어요")
    d.find_element(By.CSS_SELECTOR, "#tweetbtn").click()
    until(lambda: [a for a in d.find_elements(By.CSS_SELECTOR, "nav a") if "아이폰" in a.text][0].click() or True,
          10, "to open the iphone channel")
    Select(d.find_element(By.CSS_SELECTOR, "#person")).select_by_value("U0STAFF1")

    def ticket() -> object:
        return [m for m in d.find_elements(By.CSS_SELECTOR, "#chanbody > .msg") if "@menu_user" in m.text][0]

    until(lambda: Select(ticket().find_element(By.CSS_SELECTOR, 'select[data-action="saved_reply_pick"]'))
          .select_by_value("call") or True, 30, "to pick the saved reply `call`")
    until(lambda: any("080-000-0114" in r.text for r in d.find_elements(By.CSS_SELECTOR, "#tweets .tweet.reply")),
          60, "the saved reply under the customer's tweet on X")
    until(lambda: "✅" in ticket().text, 30, "the ✅ note in the thread")
