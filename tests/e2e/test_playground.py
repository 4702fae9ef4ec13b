"""The playground in a real browser (headless Chromium): a newcomer tweets as a customer, answers as staff,
presses the ticket's buttons and runs /escalate, against `python -m bot run` on the stand-ins.

Skipped, saying why, where Chromium, its driver or selenium is missing (`make test` installs them as root).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.embedded_redis import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,900")


def until(what: Callable[[], Any], timeout: float = 30, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = what()
        except Exception:  # noqa: BLE001 - the page is re-rendering under us: look again
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {message}")


@pytest.fixture
def playground(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, list[str]]]:
    """`python -m bot run --no-demo` on the stand-ins: the playground's URL, and the run's output lines."""
    routing = tmp_path / "routing.yaml"
    routing.write_text((ROOT / "routing.yaml").read_text(encoding="utf-8").replace("hold: 15s", "hold: 1s"),
                       encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_", "LOG_LEVEL"))}
    port = free_port()
    env.update(REDIS_URL=redis_url, ROUTING_FILE=str(routing), PORT=str(port), PLAYGROUND_PORT=str(free_port()),
               X_POLL_SECONDS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--no-demo"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True).start()
    try:
        found = until(lambda: next((m for m in map(re.compile(r"playground: open (\S+)/ ").search, lines) if m),
                                   None), 60, "the playground's address")

        def healthy() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return bool(r.status == 200)

        until(healthy, 60, "the web process")
        yield found.group(1), lines
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("no /usr/bin/chromium and /usr/bin/chromedriver: `apt-get install chromium chromium-driver` "
                    "(make test does it as root)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extras: make test")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="escalator-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)  # no Selenium Manager
    try:
        yield driver
    finally:
        driver.quit()


def test_a_newcomer_tweets_answers_claims_resolves_and_escalates_in_the_playground(playground, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, narrated = playground
    d = browser
    d.get(url + "/")
    until(lambda: d.find_elements(By.CSS_SELECTOR, "#person option"), 20, "the page loaded its state")

    def css(selector: str) -> Any:
        return d.find_element(By.CSS_SELECTOR, selector)

    def act_as(user: str) -> None:
        Select(css("#person")).select_by_value(user)

    def open_channel(name: str) -> None:
        until(lambda: [a for a in d.find_elements(By.CSS_SELECTOR, "nav a") if name in a.text][0].click() or True,
              10, f"to open {name}")

    def ticket_of(handle: str) -> Any:
        return until(lambda: [m for m in d.find_elements(By.CSS_SELECTOR, "#chanbody > .msg")
                              if f"@{handle}" in m.text], 30, f"the ticket for @{handle}")[0]

    def click(find: Callable[[], Any], what: str) -> None:
        """Click what find() finds; the page re-renders as the bot works, so a stale element is found again."""
        until(lambda: find().click() or True, 30, f"to click {what}")

    def fields(handle: str) -> str:
        return str(until(lambda: ticket_of(handle).find_element(By.CSS_SELECTOR, ".blk-fields").text, 30,
                         f"@{handle}'s ticket fields"))

    def press(handle: str, action_id: str) -> None:
        click(lambda: ticket_of(handle).find_element(By.CSS_SELECTOR, f'button[data-action="{action_id}"]'),
              f"{action_id} on @{handle}'s ticket")

    def tweet(handle: str, text: str) -> None:
        css("#handle").clear()
        css("#handle").send_keys(handle)
        css("#tweettext").send_keys(text)
        css("#tweetbtn").click()
        until(lambda: handle in css("#tweets").text, 10, f"@{handle}'s tweet on the X side")

    # customers tweet; their tickets appear in the WiBro channel
    tweet("browser_user", "강남역에서 와이브로가 안 잡혀요")
    tweet("second_user", "와이브로 해지하려면 어떻게 하나요")
    open_channel("WiBro")
    ts = until(lambda: ticket_of("browser_user").get_attribute("data-ts"), 30, "the ticket's ts")

    # a staff member of WiBro claims the ticket: the message shows who is on it
    act_as("U0STAFF4")
    before = fields("browser_user")
    press("browser_user", "ticket_claim")
    until(lambda: fields("browser_user") != before and "staff4" in fields("browser_user"), 30,
          "Claim to show who is on it")

    # ... and answers in the thread: the reply reaches X under the customer's tweet; the thread gets the ✅ note
    def reply(text: str) -> bool:
        box = d.find_element(By.CSS_SELECTOR, f'input[data-key="reply-{ts}"]')
        box.clear()
        box.send_keys(text)
        box.submit()
        return True

    until(lambda: reply("와이브로 팀입니다. 기지국을 점검하고 있어요"), 30, "to reply in the thread")
    def customer_tweet(handle: str) -> Any:  # the page re-renders: find it afresh each time
        return [t for t in d.find_elements(By.CSS_SELECTOR, "#tweets > .tweet") if f"@{handle}" in t.text][0]

    until(lambda: any("기지국을 점검하고 있어요" in r.text
                      for r in customer_tweet("browser_user").find_elements(By.CSS_SELECTOR, ".reply")),
          60, "the reply under the customer's tweet on X")
    until(lambda: "✅" in ticket_of("browser_user").text, 30, "the ✅ note in the thread")

    # Resolve (after its confirm dialog) closes the other ticket: its state changes and its buttons go
    before = fields("second_user")
    press("second_user", "ticket_resolve")
    d.switch_to.alert.accept()
    until(lambda: fields("second_user") != before
          and not ticket_of("second_user").find_elements(By.CSS_SELECTOR, "button[data-action]"), 30,
          "Resolve to close the ticket")

    # an operator escalates a tweet that never mentioned the account: it becomes a ticket
    css("#mention").click()
    tweet("quiet_customer", "요금이 두 번 나갔네요")
    until(lambda: customer_tweet("quiet_customer"), 10, "the quiet tweet")
    click(lambda: customer_tweet("quiet_customer").find_element(By.CSS_SELECTOR, "a.escalate"), "/escalate")
    act_as("U0OPS1")
    css("#cmd").send_keys("wibro")
    css("#cmdform button").click()
    open_channel("WiBro")
    until(lambda: "요금이 두 번 나갔네요" in ticket_of("quiet_customer").text, 30, "the escalated tweet's text")

    if os.environ.get("PLAYGROUND_SCREENSHOT"):  # how docs/playground.png is made
        d.save_screenshot(os.environ["PLAYGROUND_SCREENSHOT"])

    # the App Home of the person acting
    click(lambda: [a for a in d.find_elements(By.CSS_SELECTOR, "nav a") if "App Home" in a.text][0], "App Home")
    until(lambda: css("#chanbody .blk-header"), 30, "the App Home view")

    # make run's log told each of these steps
    log = "\n".join(narrated)
    for step in ("@browser_user tweets:", "#C0WIBRO (WiBro 고객센터): the bot posts", "U0STAFF4 clicks",
                 "U0STAFF4 writes in #C0WIBRO (WiBro 고객센터) thread", "→ X: @escalator_kr replied to @browser_user",
                 "U0OPS1 runs /escalate", "U0OPS1 opens the App Home"):
        until(lambda step=step: step in "\n".join(narrated), 10, f"{step!r} in the narration:\n{log[-3000:]}")
    assert "HTTP/1.1" not in "\n".join(narrated), "gunicorn's access log in the narration"


def test_a_lead_rejects_a_reply_through_the_modal_in_the_playground(playground, browser):
    """Approve / Reject: a billing reply waits for the lead, whose Reject opens the modal; the reason typed
    there reaches the thread and nothing reaches X."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, _ = playground
    d = browser
    d.get(url + "/")
    until(lambda: d.find_elements(By.CSS_SELECTOR, "#person option"), 20, "the page loaded its state")
    d.find_element(By.CSS_SELECTOR, "#handle").clear()
    d.find_element(By.CSS_SELECTOR, "#handle").send_keys("bill_payer")
    d.find_element(By.CSS_SELECTOR, "#tweettext").send_keys("청구서 요금이 두 번 나갔어요")
    d.find_element(By.CSS_SELECTOR, "#tweetbtn").click()
    until(lambda: [a for a in d.find_elements(By.CSS_SELECTOR, "nav a") if "요금" in a.text][0].click() or True,
          10, "to open the billing channel")

    def ticket() -> Any:
        return [m for m in d.find_elements(By.CSS_SELECTOR, "#chanbody > .msg") if "@bill_payer" in m.text][0]

    ts = until(lambda: ticket().get_attribute("data-ts"), 30, "the billing ticket")

    def reply(text: str) -> bool:
        box = d.find_element(By.CSS_SELECTOR, f'input[data-key="reply-{ts}"]')
        box.clear()
        box.send_keys(text)
        box.submit()
        return True

    until(lambda: reply("두 번 청구된 금액은 환불해 드릴게요"), 30, "to reply in the thread")
    Select(d.find_element(By.CSS_SELECTOR, "#person")).select_by_value("U0LEAD3")
    until(lambda: ticket().find_element(By.CSS_SELECTOR, 'button[data-action="reply_reject"]').click() or True,
          30, "to press Reject")
    box = until(lambda: d.find_element(By.CSS_SELECTOR, "#modal textarea"), 30, "the Reject modal")
    box.send_keys("환불 기간도 안내해 주세요")
    d.find_element(By.CSS_SELECTOR, "#modal button.primary").click()
    until(lambda: "환불 기간도 안내해 주세요" in ticket().text, 30, "the reason in the thread")
    replies = [t for t in d.find_elements(By.CSS_SELECTOR, "#tweets .tweet.reply")]
    assert not replies, "a rejected reply reached X"
