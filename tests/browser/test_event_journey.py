"""An organiser runs an event from a phone (390×844), residents answer in the simulator.

Organiser creates an event → announces it (recipients and cost shown first) → two residents
answer 参加 with their party and needs in LINE → the roster shows them → the reception sheet
PDF has a row each plus blank rows → a resident checks in by scanning the venue QR → two
walk-ins are entered → the tally and 参加の広がり count them. Screenshots under
<test output>/screenshots/event-journey-*.png.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pypdf import PdfReader
from sqlmodel import select

from bot.content import Content
from bot.core.models.areas import Association
from bot.core.models.membership import Membership
from bot.core.models.residents import Resident
from bot.core.when import TOKYO
from bot.db import make_engine, session_scope
from bot.features.events.models import CheckIn, Event, WalkIn
from bot.features.events.staff.paper import BLANK_ROWS
from bot.settings import REPO_ROOT
from bot.staff.i18n import translators
from tests.browser.conftest import REPLY_TIMEOUT_MS, SCREENSHOTS

if TYPE_CHECKING:
    from tests.browser.conftest import DemoServer, SimulatorPage

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ORGANISER = ("organiser-sakurajo", "demo-organiser-2026")  # content/demo/staff.yaml
ASSOCIATION = "A0201"  # one of the organiser's associations
TITLE = "春の防災訓練（受付テスト）"
RESIDENTS = (
    # display name, full name, adults, children, needs chip or typed needs
    ("中ノ橋 一郎", "中ノ橋 一郎", 1, 0, ("chip", "wheelchair")),
    ("中ノ橋 花子", "中ノ橋 花子", 2, 1, ("text", "卵アレルギーの子がいます")),
)
OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def staff_text(key: str, **params: Any) -> str:
    """The staff web's Japanese words, as the pages show them."""
    return translators(REPO_ROOT / "content")["ja"](key, **params)


def first_line(text: str) -> str:
    """The first line of a (possibly multi-line) message, enough to find it in the chat."""
    return text.split("\n", 1)[0].split("{", 1)[0]


class StaffPhone:
    """The staff web in a phone-sized browser context."""

    def __init__(self, browser: Any, server: DemoServer) -> None:
        from playwright.sync_api import expect

        self.context = browser.new_context(viewport=PHONE, locale="ja-JP", accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(REPLY_TIMEOUT_MS)
        self.url, self.expect, self.shots = server.url, expect, 0

    def log_in(self, login: str, password: str) -> None:
        self.page.goto(f"{self.url}/staff/login")
        self.page.fill("input[name=login]", login)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.url}/staff/")

    def shot(self, step: str) -> None:
        """Screenshot the page, after checking nothing scrolls sideways at 390 px."""
        assert self.page.evaluate(OVERFLOW_JS) <= 0, f"{step}: the page scrolls sideways"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = SCREENSHOTS / f"event-journey-staff-{self.shots:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def tap(self, name: str) -> None:
        self.page.get_by_role("link", name=name).or_(
            self.page.get_by_role("button", name=name)
        ).first.click()


def _make_member(server: DemoServer, user_id: str, full_name: str) -> None:
    """The resident's membership of the association, approved (joining is another journey:
    tests/browser/test_simulator_browser.py)."""
    engine = make_engine(server.settings.database_url)
    try:
        with session_scope(engine) as db:
            resident = db.exec(select(Resident).where(Resident.line_user_id == user_id)).one()
            association = db.exec(select(Association).where(Association.code == ASSOCIATION)).one()
            now = datetime.now(TOKYO)
            db.add(
                Membership(
                    resident_id=int(resident.id or 0),
                    association_id=int(association.id or 0),
                    status="approved",
                    full_name=full_name,
                    household_size=2,
                    contact_method="line",
                    town_label="中ノ橋通一丁目",
                    applied_at=now,
                    decided_at=now,
                )
            )
    finally:
        engine.dispose()


def _event_facts(server: DemoServer) -> tuple[int, int, list[tuple[int, int]]]:
    """(event id, check-ins, walk-ins as (adults, children)) of the journey's event."""
    engine = make_engine(server.settings.database_url)
    try:
        with session_scope(engine) as db:
            event = db.exec(select(Event).where(Event.title == TITLE)).one()
            checkins = db.exec(select(CheckIn).where(CheckIn.event_id == event.id)).all()
            walk_ins = db.exec(select(WalkIn).where(WalkIn.event_id == event.id)).all()
            return int(event.id or 0), len(checkins), [(w.adults, w.children) for w in walk_ins]
    finally:
        engine.dispose()


def _user_id(server: DemoServer, display_name: str) -> str:
    listed = httpx.get(f"{server.url}/simulator/api/residents").json()["residents"]
    return str(next(r["user_id"] for r in listed if r["display_name"] == display_name))


def answer_going(sim: SimulatorPage, content: Content, adults: int, children: int) -> None:
    """Tap 参加 on the announced card, choose the party, then the needs chip."""
    sim.expect_bot_says(TITLE)
    sim.tap(content.text("events.card.going"))
    sim.expect_bot_says("ご本人を含みます")
    sim.tap(content.text("rsvp.count_option", n=adults))
    sim.expect_bot_says(first_line(content.text("rsvp.ask_children")))
    sim.tap(content.text("rsvp.count_option", n=children))
    sim.expect_bot_says("人）で受け付けました")
    sim.tap(content.text("rsvp.needs_chip"))
    sim.expect_bot_says(first_line(content.text("rsvp.ask_needs")))


def test_organiser_runs_an_event_from_a_phone(
    simulator: SimulatorPage, demo_server: DemoServer, browser: Any, content: Content
) -> None:
    # Two residents add the bot in LINE and are members of the association.
    simulator.open()
    for display, full, *_rest in RESIDENTS:
        simulator.add_resident(display)
        simulator.follow()
        simulator.expect_bot_says(first_line(content.text("common.greeting")))
        _make_member(demo_server, _user_id(demo_server, display), full)

    staff = StaffPhone(browser, demo_server)
    staff.log_in(*ORGANISER)
    # 1. Create the event (starting soon, so the venue QR checks in today).
    staff.page.goto(f"{staff.url}/staff/events")
    staff.tap(staff_text("event_form.new"))
    start = datetime.now(TOKYO).replace(second=0, microsecond=0) + timedelta(minutes=40)
    page = staff.page
    page.locator("select[name=association_id]").select_option(label="中ノ橋通町内会（サンプル）")
    page.fill("input[name=title]", TITLE)
    page.locator("select[name=category]").select_option("drill")
    page.fill("input[name=place]", "中ノ橋通 公民館")
    page.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ends_at]", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.check("input[name=headcount_allowed]")
    page.check("input[name=publish]")
    staff.shot("create-form")
    page.get_by_role("button", name=staff_text("event_form.save")).click()
    page.wait_for_url("**/edit?done=created")
    event_id, _checkins, _walk_ins = _event_facts(demo_server)

    # 2. Announce: recipients and cost are shown before anything is sent.
    page.goto(f"{staff.url}/staff/events/{event_id}")
    staff.shot("event-page")
    staff.tap(staff_text("event_ops.announce"))
    recipients = int(page.get_by_test_id("recipients").inner_text())
    assert recipients >= len(RESIDENTS)
    assert int(page.get_by_test_id("quota").inner_text()) == recipients * 2
    assert int(page.get_by_test_id("api-calls").inner_text()) >= 1
    staff.shot("announce-preview")
    page.get_by_test_id("announce-send").click()
    page.wait_for_url("**/announce?done=1")
    staff.expect(page.get_by_test_id("announced")).to_contain_text(f"{recipients}人")
    staff.shot("announced")

    # 3. Both residents get the card and answer 参加 with their party and needs.
    for display, _full, adults, children, (how, needs) in RESIDENTS:
        simulator.page.get_by_test_id("resident-select").select_option(
            _user_id(demo_server, display)
        )
        answer_going(simulator, content, adults, children)
        if how == "chip":
            simulator.tap(content.text(f"rsvp.needs.{needs}"))
        else:
            simulator.send_text(needs)
        simulator.expect_bot_says("主催者に伝えました")
        simulator.screenshot(f"answered-{adults}-{children}")

    # 4. The roster shows them, with headcount and needs.
    page.goto(f"{staff.url}/staff/events/{event_id}")
    staff.tap(staff_text("event_ops.roster"))
    roster = page.get_by_test_id("roster")
    for _display, full, adults, children, _needs in RESIDENTS:
        card = roster.locator("li").filter(has_text=full)
        staff.expect(card).to_contain_text(
            staff_text("event_ops.party", adults=adults, children=children)
        )
    staff.expect(roster).to_contain_text("車いす")
    staff.expect(roster).to_contain_text("卵アレルギーの子がいます")
    assert page.get_by_test_id("going").inner_text() == "2"
    assert page.get_by_test_id("people").inner_text() == "4"
    staff.shot("roster")

    # 5. The reception sheet: one row per attendee, then blank rows.
    pdf = staff.context.request.get(f"{staff.url}/staff/events/{event_id}/reception.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    (SCREENSHOTS / "event-journey-reception.pdf").write_bytes(pdf.body())
    reader = PdfReader(io.BytesIO(pdf.body()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) == 1
    assert all(full in text for _d, full, *_r in RESIDENTS) and "車いす" in text
    words = text.split()
    assert str(len(RESIDENTS) + BLANK_ROWS) in words
    assert str(len(RESIDENTS) + BLANK_ROWS + 1) not in words

    # 6. At the door: the venue QR prints; the first resident scans it in LINE.
    page.goto(f"{staff.url}/staff/events/{event_id}")
    staff.tap(staff_text("event_ops.door"))
    poster = staff.context.request.get(f"{staff.url}/staff/events/{event_id}/checkin-poster.pdf")
    poster_pdf = PdfReader(io.BytesIO(poster.body()))
    assert len(poster_pdf.pages) == 1 and "受付はこちら" in poster_pdf.pages[0].extract_text()
    (SCREENSHOTS / "event-journey-checkin-poster.pdf").write_bytes(poster.body())
    link = page.get_by_test_id("checkin-qr").get_attribute("data-link")
    assert link and link.startswith("https://line.me/R/oaMessage/")
    staff.shot("door-before")
    first = RESIDENTS[0][0]
    simulator.page.get_by_test_id("resident-select").select_option(_user_id(demo_server, first))
    simulator.scan(link)
    simulator.expect_bot_says(first_line(content.text("events.checkin_checked_in", title=TITLE)))
    simulator.screenshot("checked-in")

    # 7. Two walk-ins, one tap each.
    page.reload()
    staff.expect(page.get_by_test_id("checked-in")).to_have_text("1")
    page.get_by_test_id("walk-in-adult").click()
    page.wait_for_url("**/door?done=walk_in")
    page.get_by_test_id("walk-in-child").click()
    page.wait_for_url("**/door?done=walk_in")
    staff.expect(page.get_by_test_id("walk-in-adults")).to_have_text("1")
    staff.expect(page.get_by_test_id("walk-in-children")).to_have_text("1")
    staff.expect(page.get_by_test_id("attended")).to_have_text("3")
    staff.shot("door-after")
    _id, checkins, walk_ins = _event_facts(demo_server)
    assert checkins == 1 and sorted(walk_ins) == [(0, 1), (1, 0)]

    # 8. The tally and 参加の広がり count them.
    page.goto(f"{staff.url}/staff/events/{event_id}")
    staff.expect(page.get_by_test_id("note-attended")).to_have_text("3")
    staff.expect(page.get_by_test_id("note-walk_in_adults")).to_have_text("1")
    staff.shot("tally")
    page.goto(f"{staff.url}/staff/diversity")
    row = page.locator("tr").filter(has_text=TITLE)
    staff.expect(row).to_have_count(1)
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[-1] == "2" and cells[2] == "1", cells  # walk-ins, checked in
    staff.shot("diversity")
    staff.context.close()
