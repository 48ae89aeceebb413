"""The staff web in headless Chromium: every role logs in; an officer approves and exports.

Uses Debian's Chromium through Playwright (never `playwright install`); skips with the
reason when either is absent. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.app import Overrides, create_app
from bot.clock import FixedClock
from bot.core.models.membership import Membership
from bot.core.models.staff import StaffAccount
from bot.db import session_scope
from bot.settings import REPO_ROOT
from bot.simulator.server import StandinServer
from bot.staff import auth
from tests.conftest import make_settings
from tests.staff.conftest import PASSWORD, City

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
TABLET = {"width": 1024, "height": 768}

# What each role's navigation must (and must not) offer.
NAV: dict[str, tuple[set[str], set[str]]] = {
    "admin": (
        {"概要", "入会の流れ", "操作記録", "お知らせ", "QRコード", "承認待ち", "役員の登録"},
        {"会員"},
    ),
    "ward1": (
        {"概要", "入会の流れ", "行事", "QRコード", "承認待ち", "役員の登録"},
        {"会員", "操作記録", "お知らせ"},
    ),
    "officer_a": (
        {"概要", "会員", "承認待ち", "お知らせ", "行事", "QRコード"},
        {"操作記録", "役員の登録"},
    ),
    "organiser_a": (
        {"概要", "お知らせ", "行事"},
        {"会員", "承認待ち", "操作記録", "QRコード", "役員の登録"},
    ),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def served(db_url: str, city: City, clock: FixedClock) -> Iterator[str]:
    """The app over real HTTP (no lifespan: the staff web needs only the database)."""
    settings = make_settings(db_url, "http://127.0.0.1:9", staff_session_secret="browser-test")
    app = create_app(settings, Overrides(clock=clock, process_events=False))
    with StandinServer(app, lifespan="off") as server:
        yield server.url


def _log_in(page: Any, url: str, login: str) -> None:
    page.goto(f"{url}/staff/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/staff/")


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"staff-{name}.png"), full_page=True)


@pytest.mark.parametrize("login", sorted(NAV))
def test_each_role_logs_in_and_sees_its_navigation(browser: Any, served: str, login: str) -> None:
    context = browser.new_context(viewport=TABLET, locale="ja-JP")
    page = context.new_page()
    _log_in(page, served, login)
    offered = {text.strip() for text in page.locator("header nav a").all_inner_texts()}
    must, must_not = NAV[login]
    assert must <= offered, (login, offered)
    assert not (must_not & offered), (login, offered)
    assert page.locator("svg.chart").count() == 1
    _shot(page, f"overview-{login}")
    context.close()


def test_officer_approves_exports_and_is_kept_out_of_b(
    browser: Any, served: str, city: City, engine: Engine, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=TABLET, locale="ja-JP", accept_downloads=True)
    page = context.new_page()
    _log_in(page, served, "officer_a")

    page.click("header nav >> text=承認待ち")
    row = page.locator(f"tr[data-membership='{city.pending['a']}']")
    assert row.count() == 1
    _shot(page, "pending-before")
    row.locator("button", has_text="承認する").click()
    page.wait_for_url("**/staff/pending?done=approved")
    assert page.locator("[role=status]").inner_text().strip() == "承認しました。"
    _shot(page, "pending-after")
    with session_scope(engine) as db:
        assert db.get(Membership, city.pending["a"]).status == "approved"  # type: ignore[union-attr]

    page.goto(f"{served}/staff/associations/{city.a}/members")
    with page.expect_download() as download_info:
        page.click("text=CSVで書き出す")
    saved = tmp_path / "members.csv"
    download_info.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "氏名" in raw.decode("utf-8-sig")
    assert raw.decode("utf-8-sig").count("試験 太郎") == 2  # the approved one and the new one
    _shot(page, "members-a")

    forbidden = page.goto(f"{served}/staff/associations/{city.b}/members")
    assert forbidden is not None and forbidden.status == 403
    _shot(page, "members-b-forbidden")
    export = context.request.get(f"{served}/staff/associations/{city.b}/members.csv")
    assert export.status == 403
    token = _token(engine, city.logins["officer_a"])
    api = context.request.get(
        f"{served}/api/v1/associations/{city.b}/members",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status == 403
    own = context.request.get(
        f"{served}/api/v1/associations/{city.a}/members",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert own.status == 200 and len(own.json()) == 2
    context.close()


def test_officer_composes_and_schedules_a_notice(
    browser: Any, served: str, city: City, engine: Engine
) -> None:
    context = browser.new_context(viewport=TABLET, locale="ja-JP")
    page = context.new_page()
    _log_in(page, served, "officer_a")
    page.click("header nav >> text=お知らせ")
    page.fill("input[name=title]", "防災訓練のお知らせ")
    page.fill("textarea[name=body]", "10時に公民館へお集まりください。")
    page.check("input[name=ack_requested]")
    page.click("text=送信先と費用を確認")
    page.wait_for_url("**/staff/notices/*")
    assert page.locator("[data-testid=recipients]").inner_text() == "1"
    _shot(page, "notice-preview")
    page.fill("input[name=at]", "2026-04-10T10:00")
    page.click("text=予約する")
    page.wait_for_load_state()
    assert page.locator("[data-testid=scheduled]").inner_text() == "2026-04-10 10:00"
    _shot(page, "notice-scheduled")
    context.close()


def test_organiser_reads_an_event_tally(browser: Any, served: str, city: City) -> None:
    context = browser.new_context(viewport=TABLET, locale="ja-JP")
    page = context.new_page()
    _log_in(page, served, "organiser_a")
    page.click("header nav >> text=行事")
    page.click("text=清掃活動a")
    page.wait_for_url(f"**/staff/events/{city.events['a']}")
    total = page.locator("table.data tbody tr").last.locator("td").all_inner_texts()
    assert total == ["合計", "1", "0", "0", "0", "2", "1"]
    _shot(page, "event-tally")
    forbidden = page.goto(f"{served}/staff/events/{city.events['b']}")
    assert forbidden is not None and forbidden.status == 403
    context.close()


def test_officer_prints_a_poster(browser: Any, served: str, city: City) -> None:
    context = browser.new_context(viewport=TABLET, locale="ja-JP")
    page = context.new_page()
    _log_in(page, served, "officer_a")
    page.click("header nav >> text=QRコード")
    image = page.locator(f"figure[data-code='{city.codes['a']}'] img")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator(f"figure[data-code='{city.codes['b']}']").count() == 0
    _shot(page, "qr")
    with context.expect_page() as poster_info:
        page.locator(f"figure[data-code='{city.codes['a']}'] a", has_text="ポスター").click()
    poster = poster_info.value
    poster.wait_for_load_state()
    assert poster.locator("svg").count() >= 1
    _shot(poster, "poster")
    context.close()


def test_english_switch(browser: Any, served: str) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    _log_in(page, served, "ward1")
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Overview"
    page.goto(f"{served}/staff/funnel")
    assert "Join funnel" in page.locator("h1").inner_text()
    _shot(page, "funnel-en")
    context.close()


def _token(engine: Engine, account_id: int) -> str:
    with session_scope(engine) as db:
        account = db.get(StaffAccount, account_id)
        assert account is not None
        return auth.issue_api_token(db, account, "browser", account.created_at)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_api_tokens_page_fits_a_phone_and_shows_expiry(
    browser: Any, served: str, clock: FixedClock, lang: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
    page = context.new_page()
    _log_in(page, served, "ward1")
    page.goto(f"{served}/staff/tokens?lang={lang}")
    page.fill("input[name=name]", "集計ツール")
    page.select_option("select[name=days]", "30")
    page.click("form[action='/staff/tokens'] button[type=submit]")
    assert page.locator("[data-testid=new-token]").inner_text().startswith("tsg_")
    page.goto(f"{served}/staff/tokens")  # the list as it is later: prefix, expiry, last use
    item = page.locator(".token-list li").first
    expected = ("有効期限", "まだ使われていません") if lang == "ja" else ("Expires", "Not used yet")
    for words in (*expected, "2026-05-01 10:00"):
        assert words in item.inner_text(), words
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    _shot(page, f"tokens-phone-{lang}")
    context.close()
