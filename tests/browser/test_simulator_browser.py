"""One resident in headless Chromium: the demo's simulator page, end to end.

The walk is a list of steps so that flows landing later (scan the counter QR →
membership approved, RSVP to an event, answer a survey) are added as further
steps, each ending with a screenshot under test-output/screenshots/.
Set UPDATE_DOCS_SCREENSHOT=1 to also refresh docs/simulator.png for the README.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bot.content import Content
from bot.settings import REPO_ROOT

if TYPE_CHECKING:
    from tests.browser.conftest import DemoServer, SimulatorPage

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = REPO_ROOT / "docs" / "simulator.png"
Step = Callable[["SimulatorPage", Content], None]


def first_line(text: str) -> str:
    """Playwright matches text within one line; bot texts may span several."""
    return text.splitlines()[0]


def add_and_follow(sim: SimulatorPage, content: Content) -> None:
    """A new resident adds the bot as a friend and is greeted with the menu."""
    sim.add_resident("盛岡 花子")
    sim.follow()
    sim.expect_bot_says(first_line(content.text("common.greeting")))
    sim.expect_chip(content.text("menu.items.language"))


def change_language(sim: SimulatorPage, content: Content) -> None:
    """Menu chip 言語 Language, then English: the bot answers in English."""
    sim.tap(content.text("menu.items.language"))
    sim.expect_bot_says(content.text("language.ask"))
    english = content.text("language.names.en")
    sim.tap(english)
    sim.expect_bot_says(content.text("language.done", "en"))
    mine = sim.chat().locator(".msg.from-me").filter(has_text=english)
    sim.expect(mine.last).to_be_visible()  # the chip's displayText is the resident's bubble


def ask_for_help_by_typing(sim: SimulatorPage, content: Content) -> None:
    """Typing a command word and pressing Enter sends a text message."""
    sim.send_text("help")
    sim.expect_bot_says(first_line(content.text("common.help", "en")))


# Later flows add their steps here, in the order a resident meets them.
WALK: tuple[Step, ...] = (add_and_follow, change_language, ask_for_help_by_typing)


def test_a_resident_walks_through_the_bot(simulator: SimulatorPage, content: Content) -> None:
    simulator.open()
    simulator.screenshot("opened")
    for step in WALK:
        step(simulator, content)
        simulator.screenshot(step.__name__.replace("_", "-"))
    show_raw_json(simulator)
    simulator.screenshot("raw-json")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        simulator.page.screenshot(path=str(DOCS_SCREENSHOT))
    assert all(path.stat().st_size > 0 for path in simulator.shots)


def show_raw_json(sim: SimulatorPage) -> None:
    """Open the side panel: each turn's signed webhook and the bot's reply request."""
    toggle = sim.page.get_by_test_id("toggle-panel")
    toggle.click()
    sim.expect(toggle).to_have_attribute("aria-expanded", "true")
    wire = sim.page.get_by_test_id("wire")
    sim.expect(wire.get_by_text("→ Webhook follow").first).to_be_visible()
    reply = wire.locator("details").filter(has_text="POST /v2/bot/message/reply 200").last
    reply.locator("summary").click()
    sim.expect(reply.locator("pre")).to_contain_text('"replyToken"')


# --- what the bot may send: pushed straight to LINE, drawn as LINE draws it ------------------


def push(server: DemoServer, user_id: str, messages: list[dict[str, Any]]) -> None:
    """Push as the bot's sender would, to the LINE stand-in inside the demo."""
    settings = server.settings
    token = settings.line_channel_access_token.get_secret_value()
    answer = httpx.post(
        f"{settings.line_api_base_url}/v2/bot/message/push",
        json={"to": user_id, "messages": messages},
        headers={"authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


FLEX_NOTICE = {
    "type": "flex",
    "altText": "回覧板 Notice",
    "contents": {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "回覧板 Notice", "weight": "bold", "size": "lg"}]},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "text", "text": "清掃活動（サンプル）", "wrap": True, "color": "#333333"},
            {"type": "separator", "margin": "md"},
            {"type": "box", "layout": "baseline", "contents": [
                {"type": "text", "text": "日時", "size": "sm", "flex": 1, "color": "#888888"},
                {"type": "text", "text": "6月1日 9:00", "size": "sm", "flex": 3}]},
        ]},
        "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "button", "style": "primary",
             "action": {"type": "postback", "label": "参加する", "data": "a=rsvp&v=yes",
                        "displayText": "参加する"}},
            {"type": "button", "style": "link",
             "action": {"type": "message", "label": "詳しく", "text": "詳しく"}},
        ]},
    },
}
CONFIRM = {"type": "template", "altText": "確認", "template": {
    "type": "confirm", "text": "出席しますか？",
    "actions": [{"type": "message", "label": "はい", "text": "はい"},
                {"type": "message", "label": "いいえ", "text": "いいえ"}]}}
PICKER = {"type": "text", "text": "日時を選んでください", "quickReply": {"items": [
    {"type": "action", "action": {"type": "datetimepicker", "label": "日時を選ぶ",
                                  "data": "f=test&s=when", "mode": "datetime"}}]}}


def current_resident(sim: SimulatorPage) -> str:
    """The user ID of the resident shown."""
    return str(sim.page.get_by_test_id("resident-select").input_value())


def test_flex_template_and_picker_are_drawn_and_tappable(
    simulator: SimulatorPage, demo_server: DemoServer
) -> None:
    simulator.open()
    simulator.follow()
    user_id = current_resident(simulator)
    push(demo_server, user_id, [FLEX_NOTICE, CONFIRM])
    simulator.expect_bot_says("清掃活動（サンプル）")
    simulator.screenshot("flex-and-confirm")
    simulator.tap("参加する")  # a flex button's postback, with its displayText as my bubble
    mine = simulator.chat().locator(".msg.from-me").filter(has_text="参加する")
    simulator.expect(mine.last).to_be_visible()
    simulator.expect_reply()
    simulator.tap("はい")  # a confirm template's message action sends the text
    simulator.expect(simulator.chat().locator(".msg.from-me").filter(has_text="はい").last
                     ).to_be_visible()
    simulator.expect_reply()  # pushed only after, or the bot's answer would replace its chip
    push(demo_server, user_id, [PICKER])
    simulator.tap("日時を選ぶ")
    simulator.page.get_by_test_id("datetime-input").fill("2026-06-01T09:30")
    simulator.page.get_by_test_id("datetime-ok").click()
    simulator.expect(simulator.chat().locator(".note").last).to_contain_text("2026-06-01T09:30")
    postbacks = sent_events(demo_server, user_id, "postback")
    assert [p["postback"] for p in postbacks] == [
        {"data": "a=rsvp&v=yes"},
        {"data": "f=test&s=when", "params": {"datetime": "2026-06-01T09:30"}},
    ]
    simulator.screenshot("picked-a-date")


def sent_events(server: DemoServer, user_id: str, event_type: str) -> list[dict[str, Any]]:
    """The webhook events of one type the simulator has posted for a resident so far."""
    entries = httpx.get(f"{server.url}/simulator/api/transcript",
                        params={"resident": user_id}).json()["entries"]
    return [e["webhook"]["body"]["events"][0] for e in entries
            if e["kind"] == "sent" and e["event_type"] == event_type]


def test_narrow_window_keeps_the_chat_usable(
    simulator: SimulatorPage, content: Content
) -> None:
    simulator.page.set_viewport_size({"width": 390, "height": 844})
    simulator.open()
    simulator.follow()
    simulator.expect_chip(content.text("menu.items.language"))
    composer = simulator.page.get_by_test_id("composer-input")
    simulator.expect(composer).to_be_in_viewport()
    width = simulator.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone-sized window"
    simulator.screenshot("narrow")


def test_keyboard_alone_reaches_and_taps_a_chip(
    simulator: SimulatorPage, content: Content
) -> None:
    simulator.open()
    simulator.follow()
    label = content.text("menu.items.language")
    simulator.expect_chip(label)
    simulator.page.get_by_test_id("composer-input").focus()
    for _ in range(30):  # Shift+Tab from the input walks back into the chip row
        simulator.page.keyboard.press("Shift+Tab")
        focused = simulator.page.evaluate("document.activeElement.textContent.trim()")
        if focused == label:
            break
    else:
        pytest.fail(f"no chip {label!r} reachable by keyboard")
    simulator.page.keyboard.press("Enter")
    simulator.expect_bot_says(content.text("language.ask"))


def test_scanning_a_qr_link_adds_the_friend_and_a_location_can_be_shared(
    simulator: SimulatorPage, content: Content
) -> None:
    simulator.open()
    simulator.page.get_by_test_id("tool-scan").click()
    simulator.page.get_by_role("button", name="友だち追加 Friend add").click()
    simulator.expect(simulator.page.get_by_test_id("scan-url")).to_have_value(
        "https://line.me/R/ti/p/%40tsunagari")
    simulator.page.get_by_test_id("scan-ok").click()
    simulator.expect_bot_says(first_line(content.text("common.greeting")))
    simulator.page.get_by_test_id("tool-location").click()
    simulator.page.get_by_role("button", name="盛岡駅 Morioka Station").click()
    simulator.page.get_by_test_id("location-ok").click()
    mine = simulator.chat().locator(".msg.from-me").filter(has_text="盛岡駅")
    simulator.expect(mine.last).to_be_visible()
    simulator.expect_reply()  # the bot answered the location
    simulator.screenshot("location")
