"""The officer's register on a phone (390×844) in headless Chromium: import 40 households in
4 班 with a preview, confirm, see each 班's progress, then tick paper rounds for a notice and
see its coverage by 班 (the LINE side of the journey: tests/features/households/)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.models.households import Household
from bot.settings import REPO_ROOT
from tests.features.households.rosters import forty_households, xlsx_roster
from tests.staff.conftest import PASSWORD, City
from tests.staff.test_browser_staff import browser, served  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("TSUNAGARI_TEST_OUTPUT", REPO_ROOT / "test-output")) / "screenshots"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"households-{name}.png"), full_page=True)


def _fits(page: Any) -> bool:
    """Nothing wider than the phone (a table may scroll inside its own box)."""
    return bool(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " <= window.innerWidth + 1"
        )
    )


def test_officer_imports_forty_households_and_sees_coverage_by_han(
    browser: Any,  # noqa: F811
    served: str,  # noqa: F811
    city: City,
    engine: Engine,
    tmp_path: Path,
) -> None:
    roster_file = tmp_path / "世帯名簿.xlsx"
    roster_file.write_bytes(xlsx_roster(forty_households()))
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{served}/staff/login")
    page.fill("input[name=login]", "officer_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/staff/")

    page.goto(f"{served}/staff/households")
    page.wait_for_url(f"**/staff/associations/{city.a}/households")
    _shot(page, "empty")
    page.set_input_files("input[name=roster_file]", str(roster_file))
    page.click("form[data-form=roster-import] button[type=submit]")
    assert page.locator("[data-testid=added]").inner_text() == "40"
    assert page.locator("[data-testid=errors]").inner_text() == "0"
    assert _fits(page)
    _shot(page, "preview")
    with Session(engine) as db:
        assert db.exec(select(Household)).all() == []  # nothing before confirming

    page.click("[data-testid=confirm]")
    page.wait_for_url("**/households?done=imported")
    assert "名簿を取り込みました" in page.locator("[data-testid=done]").inner_text()
    progress = page.locator("table[data-table$='-progress'] tbody tr")
    assert progress.count() == 4
    assert progress.nth(0).locator("td").nth(1).inner_text() == "10"
    assert _fits(page)
    _shot(page, "register")

    notice = city.notices["a"]
    page.goto(f"{served}/staff/notices/{notice}/paper")
    page.fill("input[name=han]", "1班")
    page.fill("textarea[name=households]", "本町1-1\n本町１－２")
    page.click("form[action$='/paper'] button[type=submit]")
    page.wait_for_url("**/paper?done=ticked")
    rows = page.locator(f"table[data-table='notice-{notice}-coverage'] tbody tr")
    cells = [
        [c.strip() for c in rows.nth(i).locator("td").all_text_contents()]
        for i in range(rows.count())
    ]
    assert [c[1] for c in cells] == ["（全班）", "1班", "2班", "3班", "4班"], cells
    assert (cells[0][2], cells[0][6]) == ("40", "2") and (cells[1][2], cells[1][6]) == ("10", "2")
    reached = page.locator("[data-testid=reached]").all_inner_texts()
    assert reached == ["2 / 40", "2 / 10", "0 / 10", "0 / 10", "0 / 10"]
    assert _fits(page)
    _shot(page, "coverage")
    with Session(engine) as db:
        ticked = db.exec(select(Household.address).where(Household.han == "1班")).all()
        assert len(ticked) == 10
    context.close()
