"""Issue 16, at phone size (390×844) in headless Chromium, on the demo (simulator + staff web):

1. Ward staff create an officer account and a LINE link code → the officer links in the
   simulator and is told what they can do → a resident applies → the officer gets the push
   and approves in LINE → the resident is told.
2. An application to an association with no officer in LINE is handled by ward staff: they
   send it on to the right association, then approve it; the resident is told each time.

Screenshots: <test output>/screenshots/<test>-NN-<step>.png (simulators) and
<test>-staff-<step>.png (the staff web).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from bot.content import Content
from tests.browser.conftest import REPLY_TIMEOUT_MS, SCREENSHOTS, SimulatorPage
from tests.browser.test_simulator_browser import (
    APPLICANT,
    JOIN_WALK,
    TOWN,
    first_line,
    officer_for,
    staff_text,
    submit,
)

if TYPE_CHECKING:
    from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WARD_LOGIN, WARD_PASSWORD = "ward-morioka", "demo-ward-staff-2026"  # content/demo/staff.yaml
OFFICER_NAME = "上田 会長"
OTHER_ASSOCIATION = "上田一・二丁目町内会（サンプル）"  # the same district's other association


class Phone:
    """Browser contexts at phone size, closed at the end; page errors fail the test."""

    def __init__(self, browser: Any) -> None:
        self.browser, self.contexts, self.errors = browser, [], []  # type: ignore[var-annotated]

    def page(self) -> Any:
        context = self.browser.new_context(viewport=PHONE, locale="ja-JP")
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(REPLY_TIMEOUT_MS)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def simulator(self, server: DemoServer, name: str, who: str) -> SimulatorPage:
        sim = SimulatorPage(self.page(), server.url, name)
        sim.open()
        sim.add_resident(who)
        return sim


@pytest.fixture
def phone(browser: Any) -> Iterator[Phone]:
    opened = Phone(browser)
    yield opened
    for context in opened.contexts:
        context.close()
    assert opened.errors == [], f"the page raised JavaScript errors: {opened.errors}"


def shot(page: Any, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-staff-{step}.png"), full_page=True)


def assert_fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways ({width} px)"


def staff_login(page: Any, server: DemoServer, login: str, password: str) -> None:
    page.goto(f"{server.url}/staff/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/staff/")


def apply_as_resident(sim: SimulatorPage, content: Content) -> None:
    """The resident scans the counter's QR and applies for 上田三丁目 (as in issue 3's walk)."""
    for step in JOIN_WALK:
        step(sim, content)
    submit(sim, content, officer_for(TOWN))
    sim.screenshot("applied")


def test_ward_staff_onboard_an_officer_who_then_approves_in_line(
    phone: Phone, demo_server: DemoServer, content: Content, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect

    name = request.node.name
    association = officer_for(TOWN).association
    staff = phone.page()
    staff_login(staff, demo_server, WARD_LOGIN, WARD_PASSWORD)
    expect(staff.get_by_test_id("no-officer")).to_be_visible()  # the overview flags them
    shot(staff, name, "overview")
    staff.get_by_role("navigation").get_by_role("link", name=staff_text("nav.officers")).click()
    assert_fits(staff)

    # An account for the staff web, shown once.
    staff.get_by_test_id("account-association").select_option(label=association)
    staff.get_by_label(staff_text("officers.display_name")).fill(OFFICER_NAME)
    staff.get_by_label(re.compile("ログインID")).fill("ueda34.kaicho")
    staff.get_by_role("button", name=staff_text("officers.create_account")).click()
    password = staff.get_by_test_id("new-password").inner_text().strip()
    assert len(password) >= 12
    shot(staff, name, "account-created")
    assert_fits(staff)

    # The LINE link code, shown once.
    staff.get_by_test_id("code-association").select_option(label=association)
    staff.get_by_role("button", name=staff_text("officers.issue_code")).click()
    code = staff.get_by_test_id("link-code-value").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    shot(staff, name, "link-code")
    assert_fits(staff)

    officer = phone.simulator(demo_server, f"{name}-officer", OFFICER_NAME)
    officer.follow()
    officer.send_text(f"役員登録 {code}")
    officer.expect_bot_says(
        first_line(content.text("officer.link_linked", association=association))
    )
    officer.expect_bot_says("できること")
    officer.expect_chip(content.text("menu.items.applications"))
    officer.screenshot("linked")

    applicant = phone.simulator(demo_server, f"{name}-applicant", APPLICANT)
    apply_as_resident(applicant, content)

    # The officer's push: the application card with one-tap buttons.
    officer.expect_bot_says(content.text("officer.flex.title"))
    officer.screenshot("application-pushed")
    officer.tap(content.text("officer.approve"))
    officer.expect_bot_says(content.text("officer.done.approved"))
    officer.screenshot("approved-in-line")

    applicant.expect_bot_says(
        first_line(content.text("join.decided.approved", association=association))
    )
    applicant.screenshot("told")

    # The new account works, and the pending page (phone size) has nothing left.
    staff.goto(f"{demo_server.url}/staff/login")
    staff.context.clear_cookies()
    staff_login(staff, demo_server, "ueda34.kaicho", password)
    staff.goto(f"{demo_server.url}/staff/pending")
    expect(staff.get_by_text(staff_text("pending.none"))).to_be_visible()
    assert_fits(staff)
    shot(staff, name, "officer-pending-empty")


def test_ward_staff_handle_an_application_no_officer_is_told_of(
    phone: Phone, demo_server: DemoServer, content: Content, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect

    name = request.node.name
    applicant = phone.simulator(demo_server, f"{name}-applicant", APPLICANT)
    apply_as_resident(applicant, content)

    staff = phone.page()
    staff_login(staff, demo_server, WARD_LOGIN, WARD_PASSWORD)
    staff.get_by_role("navigation").get_by_role("link", name=staff_text("nav.pending")).click()
    row = staff.locator("tr[data-membership]").filter(has_text=TOWN)
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text(APPLICANT)  # ward staff never see the name
    approve = row.get_by_role("button", name=staff_text("action.approve"))
    approve.scroll_into_view_if_needed()  # below the navigation; never off to the side
    expect(approve).to_be_in_viewport()
    assert_fits(staff)
    shot(staff, name, "pending")

    # Sent on to the association the resident actually lives in…
    row.locator("select[name=association_id]").select_option(label=OTHER_ASSOCIATION)
    row.get_by_role("button", name=staff_text("action.reassign")).click()
    staff.wait_for_url("**/staff/pending?done=reassigned")
    expect(staff.get_by_role("status")).to_have_text(staff_text("pending.done_reassigned"))
    applicant.expect_bot_says(
        first_line(content.text("join.reassigned", association=OTHER_ASSOCIATION))
    )
    applicant.screenshot("reassigned")
    shot(staff, name, "reassigned")

    # …which has no officer in LINE either, so ward staff approve it.
    row = staff.locator("tr[data-membership]").filter(has_text=OTHER_ASSOCIATION)
    expect(row).to_have_count(1)
    row.get_by_role("button", name=staff_text("action.approve")).click()
    staff.wait_for_url("**/staff/pending?done=approved")
    expect(staff.get_by_role("status")).to_have_text(staff_text("pending.done_approved"))
    assert_fits(staff)
    shot(staff, name, "approved")
    applicant.expect_bot_says(
        first_line(content.text("join.decided.approved", association=OTHER_ASSOCIATION))
    )
    applicant.screenshot("told")
