"""Issue 16: every staff page, for every role, in both languages, at phone width (390 px) in
Debian's Chromium: nothing scrolls sideways, no button wraps its words, and no raw code
(a status, a contact method, a funnel source, an audit action, an event category, a role)
is in the visible text.

The pages come from the app's own route list (every GET page a role's permissions open), so
a page added later is checked without touching this file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.models.areas import District
from bot.core.models.staff import StaffRole
from bot.core.scope import ROLE_PERMISSIONS
from bot.db import session_scope
from bot.features.events.staff.form import CATEGORIES
from bot.features.surveys import surveys
from bot.features.surveys.catalog import load_catalog
from bot.features.surveys.models import AnswerChannel, SurveyWave
from bot.features.surveys.surveys import AnswerInput
from bot.features.volunteers.models import Opportunity, Slot
from bot.settings import DEFAULT_CONTENT_DIR
from bot.staff.deps import PageAccess
from tests.staff.conftest import ROLES, START, City
from tests.staff.test_authorization_matrix import endpoints
from tests.staff.test_browser_staff import SCREENSHOTS, _log_in, browser, served  # noqa: F401
from tests.staff.test_labels import _audited

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NOT_PAGES = (".csv", ".svg", ".png", ".xlsx", ".pdf")
# Codes that must never reach a person as they are stored.
_STATUSES = {
    "draft",
    "scheduled",
    "sending",
    "sent",
    "cancelled",
    "published",
    "open",
    "filled",
    "done",
    "pending",
    "approved",
    "declined",
    "withdrawn",
    "ended",
    "closed",
    "going",
    "maybe",
}
_CODES = (
    _STATUSES
    | {"line", "visit", "phone"}  # contact methods
    | {"association", "counter", "campaign"}  # funnel sources
    | {r.value for r in StaffRole}
    | set(CATEGORIES)
    | {"disaster_drill", "culture"}
    | _audited()[0]
    | _audited()[1]
)
_WORD = re.compile(r"(?<![A-Za-z0-9_.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?![A-Za-z0-9_@/-])")

# Measured in the page: its width, every visible button taller than one line of text, every
# table cell whose whole text is one lower-case word, and the visible text.
_MEASURE = """() => {
  const wide = document.documentElement.scrollWidth;
  const wrapped = [];
  for (const b of document.querySelectorAll("button, a.button")) {
    const r = b.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    // One client rect per line fragment of the label's text.
    const range = document.createRange();
    range.selectNodeContents(b);
    const tops = new Set([...range.getClientRects()].filter((q) => q.width > 0)
      .map((q) => Math.round(q.top)));
    const lines = Math.max(1, tops.size);
    const text = b.innerText.trim();
    // Wrapping between words is fine; a label squeezed to a few characters a line is not.
    if (lines > 1 && text.length / lines < 4) wrapped.push(`${text} (${lines} lines)`);
    if (b.scrollWidth > b.clientWidth + 1) wrapped.push(`${text} (text wider than the button)`);
    if (r.right > window.innerWidth + 1) wrapped.push(`${text} (off-screen)`);
  }
  const cells = [...document.querySelectorAll("td, dd, .value, .badge, .status")]
    .map((c) => c.innerText.trim()).filter((x) => /^[a-z][a-z0-9_]*$/.test(x));
  const over = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(-3).map((el) => `${el.tagName}.${el.className}: ${el.innerText?.slice(0, 30)}`);
  return {wide, wrapped, cells, over, text: document.body.innerText};
}"""


def _extra_rows(engine: Engine, city: City, letter: str) -> dict[str, int]:
    """A survey wave and a volunteer opportunity, so their pages show content too."""
    with session_scope(engine) as db:
        wave = SurveyWave(
            survey_id="morioka_participation",
            wave_key="2026-04",
            opens_at=START,
            closes_at=START + timedelta(days=14),
            status="closed",
            created_at=START,
        )
        association = getattr(city, letter)
        opportunity = Opportunity(role="受付", association_id=association, ward_id=city.ward1)
        db.add_all([wave, opportunity])
        db.flush()
        # Enough answers for the overview's indicator to show a value (7 of 12 in one district).
        survey = load_catalog(DEFAULT_CONTENT_DIR).surveys["morioka_participation"]
        district = db.exec(select(District).where(District.code == "d-ward1")).one()
        for i in range(12):
            surveys.record_answer(
                db,
                survey,
                wave,
                AnswerInput(
                    "participated",
                    "has_taken_part" if i < 7 else "never",
                    f"paper:{i}",
                    district.id,
                    AnswerChannel.LINE,
                ),
                "dev-only-survey-secret",
            )
        slot = Slot(
            opportunity_id=opportunity.id or 0,
            starts_at=START,
            ends_at=START + timedelta(hours=2),
            needed=2,
            filled=1,
            bucket="weekend_morning",
            month=202604,
        )
        db.add(slot)
        db.flush()
        return {"wave_id": wave.id or 0, "opportunity_id": opportunity.id or 0}


def _pages(app: Any, login: str, city: City, extra: dict[str, int]) -> list[str]:
    granted = ROLE_PERMISSIONS[ROLES[login][0]]
    letter = {"officer_b": "b"}.get(login, "a")
    values = {
        "association_id": getattr(city, letter),
        "membership_id": city.pending[letter],
        "event_id": city.events[letter],
        "notice_id": city.notices[letter],
        "code_id": city.codes[letter],
        "indicator_id": "morioka_community_activity",
        # No safety check exists here (404, skipped): tests/staff/test_browser_safety.py
        # measures the live page at 390 px with a check running.
        "check_id": 999_999,
        **extra,
    }
    out = []
    for e in endpoints(app):
        if e.method != "GET" or not isinstance(e.access, PageAccess):
            continue
        if e.path.endswith(NOT_PAGES) or not e.access.permissions <= granted:
            continue
        out.append(re.sub(r"{([^}:]+)[^}]*}", lambda m: str(values[m.group(1)]), e.path))
    return sorted(out)


def _raw_words(text: str, allowed: set[str], english: bool) -> set[str]:
    for word in allowed:
        text = text.replace(word, " ")
    found = {w for w in _WORD.findall(text) if "_" in w or (not english and w in _CODES)}
    return found


@pytest.mark.parametrize("login", sorted(ROLES))
def test_every_page_fits_a_phone_and_shows_no_raw_code(
    browser: Any,  # noqa: F811
    served: str,  # noqa: F811
    city: City,
    engine: Engine,
    login: str,
) -> None:
    from bot.app import create_app  # the route list, as the served app has it
    from tests.conftest import make_settings

    app = create_app(make_settings("sqlite://", "http://127.0.0.1:9", staff_session_secret="x"))
    letter = {"officer_b": "b"}.get(login, "a")
    pages = _pages(app, login, city, _extra_rows(engine, city, letter))
    assert "/staff/" in pages and len(pages) >= 5
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    _log_in(page, served, login)
    problems: list[str] = []
    logins = set(ROLES)  # people's log-in IDs are names, not codes
    for locale in ("ja", "en"):
        page.goto(f"{served}/staff/?lang={locale}")
        for path in pages:
            response = page.goto(f"{served}{path}")
            status = response.status if response else 0
            if status >= 500 or status == 401:
                problems.append(f"{locale} {path}: HTTP {status}")
                continue
            if status == 403:  # a rule beyond the role (a roster: that event's organiser only);
                continue  # the authorization matrix checks who may open what
            seen = page.evaluate(_MEASURE)
            where = f"{locale} {login} {path}"
            if seen["wide"] > PHONE["width"]:
                problems.append(
                    f"{where}: {seen['wide']} px wide (scrolls sideways) {seen['over']}"
                )
            if seen["wrapped"]:
                problems.append(f"{where}: buttons wrap or leave the screen {seen['wrapped']}")
            raw = {c for c in seen["cells"] if c in _CODES or "_" in c} - logins
            # The join poster is trilingual by design: its English is English, not codes.
            english = locale == "en" or path.endswith("/poster")
            raw |= _raw_words(seen["text"], logins, english=english)
            if raw:
                problems.append(f"{where}: raw codes {sorted(raw)}")
            if (locale == "ja" and path in SHOT) or path == "/staff/":
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                name = path.strip("/").replace("/", "-") or "overview"
                suffix = "" if locale == "ja" else "-en"
                page.screenshot(
                    path=str(SCREENSHOTS / f"phone-{login}-{name}{suffix}.png"), full_page=True
                )
    context.close()
    assert not problems, "\n".join(problems)


# The pages whose phone screenshots are kept for a person to look at.
SHOT = {"/staff/", "/staff/pending", "/staff/officers", "/staff/funnel", "/staff/audit"}
