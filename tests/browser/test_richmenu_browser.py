"""The rich menu in the simulator: drawn from what the bot registered, tapped as in LINE.

A resident who is not yet a member sees the default menu the bot's sync created; once a
member, the member's menu. Each tile is tapped, then its Japanese and English labels are
typed: the bot answers all three the same way (the usability test found typed labels got
「よくわかりませんでした」). Screenshots under test-output/screenshots/.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlmodel import Session, select

from bot.content import Content
from bot.conversation.models import RichMenuRecord
from bot.core.models.areas import Association
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.db import make_engine

if TYPE_CHECKING:
    from tests.browser.conftest import DemoServer, SimulatorPage

pytestmark = pytest.mark.browser

BOT_MESSAGES = "[data-testid=chat] > li.msg.from-bot"
SETTLE_MS = 400  # replies of one turn arrive together; this only lets the page draw them


def bot_count(sim: SimulatorPage) -> int:
    """How many bot messages the chat shows."""
    return int(sim.page.locator(BOT_MESSAGES).count())


def answer_to(sim: SimulatorPage, act: Any) -> list[str]:
    """The bot's messages (and the chips offered) drawn in answer to one act."""
    before = bot_count(sim)
    act()
    sim.page.wait_for_function(
        f"() => document.querySelectorAll({BOT_MESSAGES!r}).length > {before}", timeout=20_000
    )
    while True:  # until no further message of the same reply is still being drawn
        seen = bot_count(sim)
        sim.page.wait_for_timeout(SETTLE_MS)
        if bot_count(sim) == seen:
            break
    texts = sim.page.locator(BOT_MESSAGES).all_inner_texts()[before:]
    chips = sim.page.get_by_test_id("quick-replies").locator("button").all_inner_texts()
    return [_plain(t) for t in texts] + [f"chip:{c.strip()}" for c in chips]


def _plain(text: str) -> str:
    """A message's words without the time stamp the page adds."""
    return re.sub(r"\s*\d{2}:\d{2}\s*$", "", text).strip()


def tiles(sim: SimulatorPage) -> list[str]:
    """The labels of the rich menu's tap areas, as LINE reads them out."""
    areas = sim.page.get_by_test_id("richmenu").get_by_test_id("richmenu-area")
    sim.expect(areas.first).to_be_visible()
    return [str(a.get_attribute("aria-label")) for a in areas.all()]


def tap_tile(sim: SimulatorPage, label: str) -> None:
    """Tap the rich-menu area whose label is ``label``, opening the menu first when typing
    folded it away (as a person taps the menu bar)."""
    menu = sim.page.get_by_test_id("richmenu")
    if menu.is_hidden():
        sim.page.get_by_test_id("richmenu-bar").click()
    menu.get_by_role("button", name=label, exact=True).click()


def english_label(content: Content, label: str) -> str:
    """The English line drawn under a Japanese tile label."""
    for key, text in content.texts["ja"].items():
        if key.startswith("richmenu.") and text == label:
            return content.text(key, "en")
    raise AssertionError(f"no rich menu label {label!r}")


def check_every_tile(sim: SimulatorPage, content: Content, role: str) -> list[str]:
    """Tap each tile, type its labels; the same answer each way. Returns the labels."""
    labels = tiles(sim)
    for n, label in enumerate(labels):
        tapped = answer_to(sim, lambda label=label: tap_tile(sim, label))
        sim.screenshot(f"{role}-tile-{n + 1}-tapped")
        typed = answer_to(sim, lambda label=label: sim.send_text(label))
        in_english = answer_to(
            sim, lambda label=label: sim.send_text(english_label(content, label))
        )
        assert tapped == typed == in_english, (label, tapped, typed, in_english)
        assert content.text("menu.not_understood") not in " ".join(typed)
        answer_to(sim, lambda: sim.send_text("キャンセル"))  # back to no conversation
    return labels


def make_member_and_link(server: DemoServer, user_id: str) -> None:
    """Approve the resident into a demo association and link the member menu, as the bot's
    approval does (the approval itself is walked in test_simulator_browser.py)."""
    engine = make_engine(server.settings.database_url)
    try:
        with Session(engine) as session:
            resident = session.exec(select(Resident).where(Resident.line_user_id == user_id)).one()
            association = session.exec(select(Association)).first()
            assert association is not None and resident.id is not None
            session.add(
                Membership(
                    resident_id=resident.id,
                    association_id=int(association.id or 0),
                    status=MembershipStatus.APPROVED,
                    applied_at=resident.created_at,
                )
            )
            session.commit()
            record = session.get(RichMenuRecord, "member")
            assert record is not None, "the simulator synced no member menu"
            menu_id = record.rich_menu_id
    finally:
        engine.dispose()
    settings = server.settings
    token = settings.line_channel_access_token.get_secret_value()
    answer = httpx.post(
        f"{settings.line_api_base_url}/v2/bot/user/{user_id}/richmenu/{menu_id}",
        headers={"authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


def test_rich_menu_taps_and_typed_labels_answer_alike(
    simulator: SimulatorPage, demo_server: DemoServer, content: Content
) -> None:
    simulator.page.set_viewport_size({"width": 390, "height": 844})
    simulator.open()
    simulator.follow()
    simulator.expect_bot_says(content.text("common.greeting").splitlines()[0])
    bar = simulator.page.get_by_test_id("richmenu-bar")
    simulator.expect(bar).to_have_attribute("aria-expanded", "true")
    simulator.expect(bar).to_contain_text(content.text("richmenu.chat_bar"))
    simulator.screenshot("subscriber-menu")
    subscriber = check_every_tile(simulator, content, "subscriber")
    assert content.text("richmenu.join") in subscriber

    simulator.page.get_by_test_id("chat").click()  # leave the message box
    if bar.get_attribute("aria-expanded") == "false":  # typing the labels folded it
        bar.click()
    bar.click()  # the bar folds the menu away and opens it again, as in LINE
    simulator.expect(simulator.page.get_by_test_id("richmenu")).to_be_hidden()
    simulator.screenshot("menu-folded")
    bar.click()
    simulator.expect(simulator.page.get_by_test_id("richmenu")).to_be_visible()
    simulator.page.get_by_test_id("composer-input").focus()  # typing folds it too
    simulator.expect(bar).to_have_attribute("aria-expanded", "false")

    user_id = str(simulator.page.get_by_test_id("resident-select").input_value())
    make_member_and_link(demo_server, user_id)
    simulator.send_text("メニュー")  # any reply makes the page look at the menu again
    simulator.expect(bar).to_have_attribute("aria-expanded", "true")  # a new menu opens
    area = simulator.page.get_by_test_id("richmenu").get_by_role(
        "button", name=content.text("richmenu.my_events"), exact=True
    )
    simulator.expect(area).to_be_visible()
    simulator.screenshot("member-menu")
    member = check_every_tile(simulator, content, "member")
    assert len(member) == 6 and content.text("richmenu.my_events") in member
