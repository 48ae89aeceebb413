"""A safety check end to end, with the staff web on a phone (390×844) in headless Chromium:
the officer starts a check for the association and sees its reach, cost and the quiet-hours
note → residents answer in LINE → after the set time each 班長 gets the list and records
visits → the live page and the printed visit list agree, 班 by 班."""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.core.models.households import Household
from bot.core.models.staff import StaffAccount, StaffRole, StaffScope
from bot.db import session_scope
from bot.features.safety import jobs
from bot.features.safety.models import SafetyHousehold
from bot.settings import REPO_ROOT
from tests.builders import T0, uid
from tests.features.events.support import notifier_of
from tests.features.safety.support import two_han_town
from tests.harness import chips, text_of
from tests.staff.conftest import PASSWORD, _password_hash
from tests.staff.test_browser_staff import browser  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("TSUNAGARI_TEST_OUTPUT", REPO_ROOT / "test-output")) / "screenshots"
R = TypeVar("R")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"safety-{name}.png"), full_page=True)


def _fits(page: Any) -> bool:
    return bool(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " <= window.innerWidth + 1"
        )
    )


def _aside(work: Callable[[], R]) -> R:
    """Run harness work that starts its own event loop off Playwright's thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def _officer(engine: Engine, association_id: int) -> None:
    with session_scope(engine) as db:
        account = StaffAccount(
            login="officer_town", display_name="役員（試験）",
            role=StaffRole.ASSOCIATION_OFFICER.value, password_hash=_password_hash(),
        )  # fmt: skip
        db.add(account)
        db.flush()
        db.add(StaffScope(account_id=account.id, association_id=association_id))


def _page_counts(page: Any) -> dict[str, str]:
    names = ("households", "none", "safe", "help", "away", "visited")
    return {n: page.locator(f"[data-testid=count-{n}]").inner_text() for n in names}


def _page_hans(page: Any) -> list[list[str]]:
    rows = page.locator("table[data-table=safety_hans] tbody tr")
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def test_officer_runs_a_check_and_the_page_and_printout_agree(
    browser: Any,  # noqa: F811
    bot_factory: Any,
    engine: Engine,
) -> None:
    town = two_han_town(engine)
    _officer(engine, town.association)
    clock = FixedClock(T0)
    bot = bot_factory(Overrides(clock=clock), staff_session_secret="browser-test")
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{bot.url}/staff/login")
    page.fill("input[name=login]", "officer_town")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{bot.url}/staff/")

    page.click("header nav >> text=安否確認")
    page.wait_for_url("**/staff/safety")
    page.select_option("select[name=area]", f"association:{town.association}")
    page.select_option("select[name=template]", "earthquake")
    page.select_option("select[name=visit_after]", "30")
    assert _fits(page)
    _shot(page, "start")
    page.click("form[data-form=safety-start] button[type=submit]")
    page.wait_for_url(re.compile(r".*/staff/safety/\d+$"))
    assert page.locator("[data-testid=households]").inner_text() == "10"
    assert page.locator("[data-testid=paper]").inner_text() == "4"
    assert page.locator("[data-testid=recipients]").inner_text() == "7"
    assert page.locator("[data-testid=cost]").inner_text() == "7"
    assert "静かな時間" in page.locator("[data-testid=quiet-hours]").inner_text()
    assert _fits(page)
    _shot(page, "preview")
    page.click("[data-testid=send]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=count-none]").inner_text() == "10"

    # Answers arrive in LINE; the household with two members counts once, its last answer.
    _aside(bot.deliver)
    for user, label in (("r11", "無事"), ("r11b", "助けが必要"), ("r12", "無事"),
                        ("r21", "不在・避難中"), ("r22", "無事")):  # fmt: skip
        bot.tap(uid(user), label)
    page.reload()
    assert _page_counts(page) == {"households": "10", "none": "6", "safe": "2", "help": "1",
                                  "away": "1", "visited": "0"}  # fmt: skip

    # After the set time the 班長 of 1班 gets the list and records the visits.
    later = T0 + timedelta(minutes=31)
    clock.set(later)
    deps = JobDeps(settings=bot.app.state.settings, notifier=notifier_of(bot))
    with session_scope(engine) as db:
        # 1班's 助けが必要 (told as it came, had the job run) and the 班長 stage.
        assert jobs.escalate(now=later, session=db, deps=deps) == 2
    _aside(lambda: bot.deliver(later))
    leader = uid("r11")
    bot.tap(leader, "訪問する家を見る")
    assert len(chips(bot.last(leader))) == 4
    for label, state in (("助け 本町1-1 住民11", "助けが必要"), ("未回答 本町1-3 住民13", "無事"),
                         ("未回答 本町1-4 住民14", "不在・避難中")):  # fmt: skip
        bot.tap(leader, label)
        bot.tap(leader, state)
    assert "残り1軒" in text_of(bot.last(leader))

    page.reload()
    counts = _page_counts(page)
    assert counts == {"households": "10", "none": "4", "safe": "3", "help": "1", "away": "2",
                      "visited": "3"}  # fmt: skip
    hans = _page_hans(page)
    assert sorted(row[0] for row in hans) == ["1班", "2班"]  # one association: no column for it
    assert _fits(page)
    _shot(page, "live")

    href = page.locator("[data-testid=print]").get_attribute("href")
    printed = context.request.get(f"{bot.url}{href}")
    assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "safety-visits.pdf").write_bytes(printed.body())
    reader = PdfReader(io.BytesIO(printed.body()))
    text = "".join(p.extract_text() for p in reader.pages)
    for state, label in (("none", "未回答"), ("safe", "無事"), ("help", "助けが必要"),
                         ("away", "不在・避難中")):  # fmt: skip
        assert f"{label} {counts[state]}" in text, (label, text[:400])
    assert f"世帯 {counts['households']}（訪問済み {counts['visited']}）" in text
    flat = re.sub(r"\s+", " ", text)
    for row in hans:  # each 班's row of the page is a row of the printout
        assert " ".join(row) in flat, (row, flat[:600])
    assert "本町1-5" in text and "本町2-5" in text

    # Household by household: the printout says what was recorded, its states add up to the
    # page's counts, and what the 班長's list still holds is unanswered on paper too.
    printed = {
        m[1]: (m[2], bool(m[3]))
        for m in re.finditer(r"(本町\d-\d) 住民\d+ (\S+)(?: \d+)?( 訪問済)?", flat)
    }
    with Session(engine) as db:
        stored = {
            household.address: (STATE_JA[row.state], row.visited_at is not None)
            for row, household in db.exec(
                select(SafetyHousehold, Household).join(
                    Household, col(Household.id) == col(SafetyHousehold.household_id)
                )
            ).all()
        }
    assert printed == stored and len(printed) == int(counts["households"])
    by_state = Counter(state for state, _seen in printed.values())
    assert {s: str(by_state[label]) for s, label in STATE_JA.items()} == {
        s: counts[s] for s in STATE_JA
    }
    assert str(sum(seen for _s, seen in printed.values())) == counts["visited"]
    bot.tap(leader, "訪問する家を見る")
    still = [label.split(" ")[1] for label in chips(bot.last(leader))]
    assert still == ["本町1-5"] and printed["本町1-5"] == ("未回答", False)

    # The same pages in English, at phone width: none of our words in Japanese.
    page.goto(f"{page.url}?lang=en")
    assert page.locator("[data-testid=count-none]").inner_text() == counts["none"]
    _english_only(page)
    _shot(page, "live-en")
    page.goto(f"{bot.url}/staff/safety")
    _english_only(page)
    _shot(page, "start-en")
    page.select_option("select[name=area]", f"association:{town.association}")
    page.select_option("select[name=template]", "drill")
    page.click("form[data-form=safety-start] button[type=submit]")
    page.wait_for_url(re.compile(r".*/staff/safety/\d+$"))
    assert "quiet hours" in page.locator("[data-testid=quiet-hours]").inner_text()
    _english_only(page)
    _shot(page, "preview-en")
    english = context.request.get(f"{bot.url}{href}")
    text_en = re.sub(r"\s+", " ", "".join(p.extract_text() for p in
                                          PdfReader(io.BytesIO(english.body())).pages))  # fmt: skip
    assert f"No answer {counts['none']}" in text_en, text_en[:300]
    assert not JAPANESE.search(_without_names(text_en)), _without_names(text_en)[:600]
    context.close()


STATE_JA = {"none": "未回答", "safe": "無事", "help": "助けが必要", "away": "不在・避難中"}
JAPANESE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")


def _without_names(text: str) -> str:
    """The text without the test data's names (association, addresses, people, 班), which
    English pages show as they are, marked 「…」 where a table or heading names them."""
    names = r"テスト町内会\d*|本町\d-\d|住民\d+b?|\d班|役員（試験）"
    return re.sub(rf"「(?:{names})」|{names}", "", text)


def _english_only(page: Any) -> None:
    """The page fits the phone and shows no Japanese of ours (only the data's names)."""
    assert _fits(page)
    words = _without_names(page.locator("main").inner_text())
    assert not JAPANESE.search(words), words[:600]


def test_mimamori_page_fits_a_phone(browser: Any, bot_factory: Any, engine: Engine) -> None:  # noqa: F811
    town = two_han_town(engine)
    _officer(engine, town.association)
    bot = bot_factory(Overrides(clock=FixedClock(T0)), staff_session_secret="browser-test")
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{bot.url}/staff/login")
    page.fill("input[name=login]", "officer_town")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{bot.url}/staff/")
    page.click("header nav >> text=見守り")
    page.wait_for_url("**/staff/mimamori")
    page.select_option("select[name=household_id]", str(town.households["2-5"]))
    page.check("input[name=consent]")
    page.click("form[data-form=mimamori-enter] button[type=submit]")
    page.wait_for_url("**/staff/mimamori?done=entered")
    assert "本町2-5 住民25" in page.locator("[data-list=mimamori]").inner_text()
    assert _fits(page)
    _shot(page, "mimamori")
    page.goto(f"{bot.url}/staff/mimamori?lang=en")
    assert "本町2-5 住民25" in page.locator("[data-list=mimamori]").inner_text()
    _english_only(page)
    _shot(page, "mimamori-en")
    context.close()
