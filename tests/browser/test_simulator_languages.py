"""In the simulator, a resident whose LINE speaks English scans the counter's QR and joins
by typing their town in romaji; everything they read is English (screenshots looked at)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.content import Content

if TYPE_CHECKING:
    from tests.browser.conftest import SimulatorPage

COUNTER_LINK_LABEL = "市民課 転入窓口（サンプル）のQR"
EN = "en"


def first_line(text: str) -> str:
    """Playwright matches text within one line; bot texts may span several."""
    return text.splitlines()[0]


def test_an_english_resident_joins_by_typing_the_town_in_romaji(
    simulator: SimulatorPage, content: Content
) -> None:
    t = lambda key, **params: content.text(key, EN, **params)  # noqa: E731
    page = simulator.page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    simulator.open()
    page.get_by_test_id("add-resident").click()
    page.get_by_label("表示名 Display name").fill("Emma")
    page.get_by_label("LINE の言語 LINE language").select_option("en")
    page.get_by_test_id("resident-ok").click()
    simulator.expect(page.get_by_test_id("friend-status")).to_contain_text("Emma")

    page.get_by_test_id("tool-scan").click()
    page.get_by_role("button", name=COUNTER_LINK_LABEL).click()
    simulator.expect(page.get_by_test_id("scan-url")).to_have_value(
        re.compile(r"^https://line\.me/R/oaMessage/")
    )
    page.get_by_test_id("scan-ok").click()
    simulator.expect_bot_says(first_line(t("common.greeting")))  # greeted in English
    simulator.expect_chip(t("join.agree"))
    simulator.screenshot("greeted-in-english")

    simulator.tap(t("join.agree"))
    simulator.expect_bot_says(first_line(t("join.district_ask")))
    simulator.expect_chip("Sakurajo")  # district buttons in romaji
    simulator.screenshot("districts-in-english")
    simulator.tap("Ueda")
    simulator.expect_bot_says(first_line(t("join.town_ask", district="Ueda")))
    simulator.send_text("Ueda 3")
    simulator.expect_bot_says(t("join.name_ask"))
    simulator.send_text("Emma Brown")
    simulator.tap(t("join.household_2"))
    simulator.tap(t("join.no_room"))
    simulator.tap(t("join.contact.line"))
    summary = simulator.chat().locator(".msg.from-bot").filter(has_text="Town: Ueda 3-chome")
    simulator.expect(summary.last).to_contain_text("Ueda 3-4 Neighbourhood Association")
    simulator.screenshot("summary-in-english")
    simulator.tap(t("join.send"))
    simulator.expect_bot_says("Your application to Ueda 3-4 Neighbourhood Association")
    simulator.screenshot("applied")
    assert all(path.stat().st_size > 0 for path in simulator.shots)
