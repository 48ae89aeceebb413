"""One resident in headless Chromium: the demo's simulator page, end to end.

The walks are lists of steps so that flows landing later are added as further steps, each
ending with a screenshot under test-output/screenshots/. The join walk scans a counter's
QR, applies, is approved by the association's officer in the staff web in a second browser
page, then answers 参加 on an event card and the demo's open survey from the menu.
Set UPDATE_DOCS_SCREENSHOT=1 to also refresh docs/simulator.png (mid-join) for the README.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlmodel import col

from bot.content import Content
from bot.db import make_engine, session_scope
from bot.features.surveys.catalog import load_catalog
from bot.features.surveys.models import SurveyAnswer, SurveyWave
from bot.settings import REPO_ROOT
from tests.browser.conftest import SCREENSHOTS

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
        "header": {
            "type": "box",
            "layout": "vertical",
            "contents": [{"type": "text", "text": "回覧板 Notice", "weight": "bold", "size": "lg"}],
        },
        "body": {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                {"type": "text", "text": "清掃活動（サンプル）", "wrap": True, "color": "#333333"},
                {"type": "separator", "margin": "md"},
                {
                    "type": "box",
                    "layout": "baseline",
                    "contents": [
                        {
                            "type": "text",
                            "text": "日時",
                            "size": "sm",
                            "flex": 1,
                            "color": "#888888",
                        },
                        {"type": "text", "text": "6月1日 9:00", "size": "sm", "flex": 3},
                    ],
                },
            ],
        },
        "footer": {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                {
                    "type": "button",
                    "style": "primary",
                    "action": {
                        "type": "postback",
                        "label": "参加する",
                        "data": "a=rsvp&v=yes",
                        "displayText": "参加する",
                    },
                },
                {
                    "type": "button",
                    "style": "link",
                    "action": {"type": "message", "label": "詳しく", "text": "詳しく"},
                },
            ],
        },
    },
}
CONFIRM = {
    "type": "template",
    "altText": "確認",
    "template": {
        "type": "confirm",
        "text": "出席しますか？",
        "actions": [
            {"type": "message", "label": "はい", "text": "はい"},
            {"type": "message", "label": "いいえ", "text": "いいえ"},
        ],
    },
}
PICKER = {
    "type": "text",
    "text": "日時を選んでください",
    "quickReply": {
        "items": [
            {
                "type": "action",
                "action": {
                    "type": "datetimepicker",
                    "label": "日時を選ぶ",
                    "data": "f=test&s=when",
                    "mode": "datetime",
                },
            }
        ]
    },
}


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
    simulator.expect(
        simulator.chat().locator(".msg.from-me").filter(has_text="はい").last
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
    entries = httpx.get(
        f"{server.url}/simulator/api/transcript", params={"resident": user_id}
    ).json()["entries"]
    return [
        e["webhook"]["body"]["events"][0]
        for e in entries
        if e["kind"] == "sent" and e["event_type"] == event_type
    ]


def test_narrow_window_keeps_the_chat_usable(simulator: SimulatorPage, content: Content) -> None:
    simulator.page.set_viewport_size({"width": 390, "height": 844})
    simulator.open()
    simulator.follow()
    simulator.expect_chip(content.text("menu.items.language"))
    composer = simulator.page.get_by_test_id("composer-input")
    simulator.expect(composer).to_be_in_viewport()
    width = simulator.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone-sized window"
    simulator.screenshot("narrow")


def test_keyboard_alone_reaches_and_taps_a_chip(simulator: SimulatorPage, content: Content) -> None:
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
        "https://line.me/R/ti/p/%40tsunagari"
    )
    simulator.page.get_by_test_id("scan-ok").click()
    simulator.expect_bot_says(first_line(content.text("common.greeting")))
    simulator.page.get_by_test_id("tool-location").click()
    simulator.page.get_by_role("button", name="盛岡駅 Morioka Station").click()
    simulator.page.get_by_test_id("location-ok").click()
    mine = simulator.chat().locator(".msg.from-me").filter(has_text="盛岡駅")
    simulator.expect(mine.last).to_be_visible()
    simulator.expect_reply()  # the bot answered the location
    simulator.screenshot("location")


# --- issue 3: one resident from the counter's QR to an approved membership -------------------

# The sample city's data the walk relies on (content/areas/): the 市民課 counter is in the
# 盛岡地域 ward, whose district 上田 holds four 丁目 of two associations.
COUNTER_LINK_LABEL = "市民課 転入窓口（サンプル）のQR"
DISTRICT, TOWN_TYPED, TOWN = "上田", "上田", "上田三丁目"
APPLICANT = "盛岡 花子"
STAFF_TEXTS = REPO_ROOT / "content" / "staff" / "ja.yaml"


@dataclass(frozen=True)
class Officer:
    """The demo officer account acting for the association that serves ``TOWN``."""

    login: str
    password: str
    association: str  # its name, as the resident reads it


def officer_for(town_label: str) -> Officer:
    """Read towns.csv and content/demo/staff.yaml: who approves an applicant from this town."""
    lines = (REPO_ROOT / "content" / "areas" / "towns.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(ln for ln in lines.splitlines() if not ln.startswith("#"))
    town = next(r for r in rows if r["表示名"] == town_label)
    accounts = yaml.safe_load(
        (REPO_ROOT / "content" / "demo" / "staff.yaml").read_text(encoding="utf-8")
    )["accounts"]
    account = next(
        a
        for a in accounts
        if a["role"] == "association_officer" and town["町内会コード"] in a.get("associations", [])
    )
    return Officer(account["username"], account["password"], town["町内会名"])


def staff_text(key: str) -> str:
    """A staff-web text (content/staff/ja.yaml), by its dotted key."""
    node: Any = yaml.safe_load(STAFF_TEXTS.read_text(encoding="utf-8"))
    for part in key.split("."):
        node = node[part]
    return str(node)


def scan_counter_qr(sim: SimulatorPage, content: Content) -> None:
    """The scan dialog offers the counter's poster link; scanning follows and sends the code."""
    sim.page.get_by_test_id("tool-scan").click()
    sim.page.get_by_role("button", name=COUNTER_LINK_LABEL).click()
    sim.expect(sim.page.get_by_test_id("scan-url")).to_have_value(
        re.compile(r"^https://line\.me/R/oaMessage/")
    )
    sim.page.get_by_test_id("scan-ok").click()
    sim.expect_bot_says(content.text("join.consent_ask", text="").strip())  # after the notice
    sim.expect_chip(content.text("join.agree"))


def agree_to_consent(sim: SimulatorPage, content: Content) -> None:
    """Quick reply 同意する: the counter knows the ward, so the district comes next."""
    sim.tap(content.text("join.agree"))
    sim.expect_bot_says(first_line(content.text("join.district_ask")))


def pick_district_and_town(sim: SimulatorPage, content: Content) -> None:
    """District by quick reply, the town typed without 丁目, then one candidate picked."""
    sim.tap(DISTRICT)
    sim.expect_bot_says(first_line(content.text("join.town_ask", district=DISTRICT)))
    sim.send_text(TOWN_TYPED)
    sim.expect_bot_says(content.text("join.town_choice_ask"))
    sim.expect_chip(content.text("join.none_of_these"))
    sim.tap(TOWN)
    sim.expect_bot_says(first_line(content.text("join.name_ask")))


def fill_the_form(sim: SimulatorPage, content: Content) -> None:
    """Name typed; household, room and contact by quick reply; the summary shows them."""
    sim.send_text(APPLICANT)
    sim.expect_bot_says(content.text("join.household_ask"))
    sim.tap(content.text("join.household_3"))
    sim.expect_bot_says(first_line(content.text("join.room_ask")))
    sim.tap(content.text("join.no_room"))
    sim.expect_bot_says(content.text("join.contact_ask"))
    sim.tap(content.text("join.contact.line"))
    summary = (
        sim.chat()
        .locator(".msg.from-bot")
        .filter(
            has_text=first_line(
                content.text(
                    "join.summary",
                    association="",
                    town="",
                    name="",
                    household="",
                    room="",
                    contact="",
                )
            )
        )
    )
    sim.expect(summary.last).to_contain_text(APPLICANT)
    sim.expect(summary.last).to_contain_text(TOWN)


def submit(sim: SimulatorPage, content: Content, officer: Officer) -> None:
    """The confirm button 送信する sends the application to the association."""
    sim.tap(content.text("join.send"))
    sim.expect_bot_says(first_line(content.text("join.applied", association=officer.association)))


def approve_in_staff_web(browser: Any, server: DemoServer, officer: Officer, name: str) -> None:
    """A second browser: the officer logs in, opens 承認待ち and approves the applicant."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/staff/login")
        page.fill("input[name=login]", officer.login)
        page.fill("input[name=password]", officer.password)
        staff_shot(page, name, "staff-login")
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/staff/")
        page.get_by_role("navigation").get_by_role("link", name=staff_text("nav.pending")).click()
        row = page.locator("tr[data-membership]").filter(has_text=APPLICANT)
        expect(row).to_have_count(1)
        staff_shot(page, name, "staff-pending")
        row.get_by_role("button", name=staff_text("action.approve")).click()
        page.wait_for_url("**/staff/pending?done=approved")
        expect(page.get_by_role("status")).to_have_text(staff_text("pending.done_approved"))
        staff_shot(page, name, "staff-approved")
    finally:
        context.close()


def staff_shot(page: Any, test_name: str, step: str) -> None:
    """The staff page's screenshot, beside the simulator's in the test output folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test_name}-{step}.png"), full_page=True)


JOIN_WALK: tuple[Step, ...] = (
    scan_counter_qr,
    agree_to_consent,
    pick_district_and_town,
    fill_the_form,
)


def test_a_resident_joins_from_the_counter_qr_and_is_approved(
    simulator: SimulatorPage, demo_server: DemoServer, browser: Any, content: Content
) -> None:
    officer = officer_for(TOWN)
    simulator.open()
    simulator.add_resident(APPLICANT)
    for step in JOIN_WALK:
        step(simulator, content)
        simulator.screenshot(step.__name__.replace("_", "-"))
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":  # mid-join: the summary, its chips
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        simulator.page.screenshot(path=str(DOCS_SCREENSHOT))
    submit(simulator, content, officer)
    simulator.screenshot("submitted")
    approve_in_staff_web(browser, demo_server, officer, simulator.name)
    # The decision is pushed through the outbox; the page long-polls the stand-in for it.
    simulator.expect_bot_says(
        first_line(content.text("join.decided.approved", association=officer.association))
    )
    simulator.screenshot("approved")
    rsvp_from_the_event_card(simulator, content)
    simulator.screenshot("rsvp-going")
    answer_the_survey_from_the_menu(simulator, content)
    simulator.screenshot("survey-answered")
    assert stored_survey_answers(demo_server) == [
        (DEMO_SURVEY.questions[0].id, DEMO_SURVEY.questions[0].options[0].id, "line", True)
    ]
    send_a_safety_check_from_a_phone(browser, demo_server, officer, simulator.name)
    answer_the_safety_check(simulator, content)
    simulator.screenshot("safety-answered")
    assert all(path.stat().st_size > 0 for path in simulator.shots)


def send_a_safety_check_from_a_phone(
    browser: Any, server: DemoServer, officer: Officer, name: str
) -> None:
    """After an earthquake the officer starts a safety check for the new member's
    association on a phone (390 px) and sends it: every member household gets it on LINE."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/staff/login")
        page.fill("input[name=login]", officer.login)
        page.fill("input[name=password]", officer.password)
        page.click("button[type=submit]")
        page.goto(f"{server.url}/staff/safety")
        area = page.locator("select[name=area] option").filter(has_text=officer.association)
        page.select_option("select[name=area]", area.first.get_attribute("value"))
        page.select_option("select[name=template]", "earthquake")
        page.click("form[data-form=safety-start] button[type=submit]")
        staff_shot(page, name, "staff-safety-preview")
        page.click("[data-testid=send]")
        page.wait_for_selector("[data-testid=stamp]")
        staff_shot(page, name, "staff-safety-sent")
    finally:
        context.close()


def answer_the_safety_check(sim: SimulatorPage, content: Content) -> None:
    """The new member gets the check, taps 無事 and then how many are home."""
    title = content.text("safety.templates.earthquake.title")
    sim.expect_bot_says(content.text("safety.heading", title=title))
    sim.screenshot("safety-check-received")
    sim.tap(content.text("safety.answers.safe"))
    sim.expect_bot_says(first_line(content.text("safety.recorded.safe")))
    sim.tap(content.text("safety.people_option", n=2))
    sim.expect_bot_says(content.text("safety.people_saved", n=2))


def rsvp_from_the_event_card(sim: SimulatorPage, content: Content) -> None:
    """The new member opens the events from the menu and answers 参加 on the flex card."""
    sim.send_text("メニュー")
    sim.tap(content.text("menu.items.events"))
    sim.expect_bot_says(first_line(content.text("rsvp.events_intro")))
    sim.tap(content.text("events.card.going"))  # a button inside the flex bubble
    sim.expect_bot_says("ご本人を含みます")
    sim.tap(content.text("rsvp.count_option", n=2))  # adults
    sim.expect_bot_says(first_line(content.text("rsvp.ask_children")))
    sim.tap(content.text("rsvp.count_option", n=1))  # children
    sim.expect_bot_says("人）で受け付けました")


# The survey round the demo opens (content/demo/surveys.yaml names a shipped survey).
DEMO_SURVEY = load_catalog(REPO_ROOT / "content").surveys[
    yaml.safe_load((REPO_ROOT / "content" / "demo" / "surveys.yaml").read_text(encoding="utf-8"))[
        "waves"
    ][0]["survey"]
]


def answer_the_survey_from_the_menu(sim: SimulatorPage, content: Content) -> None:
    """Menu chip アンケート, then the first answer chip of each question, then the thanks."""
    sim.send_text("メニュー")
    sim.tap(content.text("menu.items.survey"))
    for question in DEMO_SURVEY.questions:
        sim.expect_bot_says(first_line(question.text["ja"]))
        sim.tap(question.options[0].label["ja"])
    sim.expect_bot_says(first_line(content.text("survey.thanks")))


def stored_survey_answers(server: DemoServer) -> list[tuple[str, str, str, bool]]:
    """(question, option, channel, anonymous) of each answer to the demo's wave."""
    engine = make_engine(server.settings.database_url)
    try:
        with session_scope(engine) as session:
            rows = (
                session.execute(
                    select(SurveyAnswer)
                    .join(SurveyWave, col(SurveyWave.id) == SurveyAnswer.wave_id)
                    .where(SurveyWave.survey_id == DEMO_SURVEY.id)
                    .order_by(SurveyAnswer.id)
                )
                .scalars()
                .all()
            )
            return [
                (a.question_id, a.option_id, str(a.channel), a.resident_id is None) for a in rows
            ]
    finally:
        engine.dispose()
