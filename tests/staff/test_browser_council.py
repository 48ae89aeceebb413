"""Issue 18 in a real browser: the city admin opens the indicator page on a phone and a
desktop, changes the period, and downloads the council report's PDF and workbook."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from bot.app import Overrides, create_app
from bot.clock import FixedClock
from bot.simulator.server import StandinServer
from tests.conftest import make_settings
from tests.staff.conftest import City
from tests.staff.test_browser_staff import SCREENSHOTS, _log_in, browser  # noqa: F401 - fixture
from tests.staff.test_council import HIDDEN, _store, content_dir  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
INDICATOR = "morioka_community_activity"


@pytest.fixture
def served(db_url: str, city: City, content_dir: Path) -> Iterator[str]:  # noqa: F811
    settings = make_settings(
        db_url, "http://127.0.0.1:9", staff_session_secret="browser-test", content_dir=content_dir
    )
    from tests.staff.conftest import START

    app = create_app(settings, Overrides(clock=FixedClock(START), process_events=False))
    with StandinServer(app, lifespan="off") as server:
        yield server.url


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"council-{name}.png"), full_page=True)


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_admin_reads_an_indicator_changes_the_period_and_downloads_the_report(
    browser: Any,  # noqa: F811
    served: str,
    city: City,
    engine: Engine,
    tmp_path: Path,
    size: str,
) -> None:
    _store(engine, city)
    viewport = PHONE if size == "phone" else DESKTOP
    context = browser.new_context(viewport=viewport, locale="ja-JP", accept_downloads=True)
    page = context.new_page()
    _log_in(page, served, "admin")
    page.goto(f"{served}/staff/surveys")
    assert page.locator(f"[data-indicator={INDICATOR}] svg.trend").count() == 1
    _no_sideways_scroll(page)
    _shot(page, f"{size}-overview")

    page.locator(f"[data-indicator={INDICATOR}] h2 a").click()
    page.wait_for_url(f"**/staff/surveys/indicators/{INDICATOR}?area=city")
    rows = page.locator(f"table[data-table=indicator-{INDICATOR}] tbody tr")
    assert rows.count() == 2
    assert page.locator("svg.trend circle").count() == 2  # both waves on the chart
    _no_sideways_scroll(page)
    _shot(page, f"{size}-indicator")

    # Ward 1 from July: the one wave left is hidden (ward 2 had 5 answers).
    page.fill("input[name=since]", "2026-07-01")
    page.select_option("select[name=area]", f"ward:{city.ward1}")
    page.click("form.filters button")
    page.wait_for_url("**since=2026-07-01**")
    assert rows.count() == 1
    assert HIDDEN in rows.first.inner_text()
    assert page.locator("svg.trend .chart-hidden").count() == 1
    _no_sideways_scroll(page)
    _shot(page, f"{size}-indicator-ward-july")

    # The whole city in April: the representativeness tables and the method note.
    page.goto(f"{served}/staff/surveys/indicators/{INDICATOR}?area=city&until=2026-06-30")
    assert page.locator("#representativeness table").count() == 3
    _no_sideways_scroll(page)
    _shot(page, f"{size}-representativeness")

    page.locator(".actions a", has_text="議会報告").click()
    page.wait_for_url("**/staff/council?**")
    _no_sideways_scroll(page)
    _shot(page, f"{size}-council")
    with page.expect_download() as xlsx_info:
        page.click("#council-xlsx")
    saved = tmp_path / "report.xlsx"
    xlsx_info.value.save_as(saved)
    book = load_workbook(saved)
    assert book["指標"]["C2"].value == 66
    pdf_href = page.locator("#council-pdf").get_attribute("href")
    response = context.request.get(f"{served}{pdf_href}")
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "指標の値と目標" in text.replace(" ", "").replace("\n", "")
    (SCREENSHOTS.parent / f"council-report-{size}.pdf").write_bytes(response.body())
    context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_admin_picks_an_association_on_a_phone(
    browser: Any,  # noqa: F811
    served: str,
    city: City,
    engine: Engine,
    lang: str,
) -> None:
    """The area filter lists associations under their district; picking one shows its own
    figures (12 answers) and its single-row representativeness, in Japanese and English."""
    _store(engine, city)
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    _log_in(page, served, "admin")
    page.goto(f"{served}/staff/surveys/indicators/{INDICATOR}?area=city&lang={lang}")
    option = page.locator(f"select[name=area] option[value='association:{city.a}']")
    name = "「青葉町内会」" if lang == "en" else "青葉町内会"  # no English name in the table
    assert option.inner_text().strip() == name
    page.fill("input[name=until]", "2026-06-30")
    page.select_option("select[name=area]", f"association:{city.a}")
    page.click("form.filters button")
    page.wait_for_url(f"**area=association%3A{city.a}**")
    rows = page.locator(f"table[data-table=indicator-{INDICATOR}] tbody tr")
    assert rows.count() == 1 and "12" in rows.first.inner_text()
    assert page.locator("h1 small").inner_text() == name
    _no_sideways_scroll(page)
    _shot(page, f"phone-indicator-association-{lang}")
    page.select_option("select[name=area]", f"association:{city.b}")
    page.click("form.filters button")
    page.wait_for_url(f"**area=association%3A{city.b}**")
    hidden = "Hidden: too few answers" if lang == "en" else HIDDEN
    assert hidden in rows.first.inner_text()
    _no_sideways_scroll(page)
    _shot(page, f"phone-indicator-association-hidden-{lang}")
    context.close()
