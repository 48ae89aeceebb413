"""A small city with staff of every role, and the app served in-process for staff tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.app import Overrides, create_app
from bot.clock import FixedClock
from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership
from bot.core.models.residents import Resident
from bot.core.models.staff import StaffAccount, StaffRole, StaffScope
from bot.db import session_scope
from bot.features.events.models import CheckIn, Event, Rsvp, WalkIn
from bot.features.membership.models import JoinCode
from bot.features.notices.models import Notice
from bot.staff import auth
from tests.conftest import make_settings

PASSWORD = "correct-horse-battery"
START = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # One argon2 hash for every test account: hashing is slow on purpose.
    return auth.hash_password(PASSWORD)


@dataclass
class City:
    """Ids of the test city: wards 1 and 2; associations A, B (ward 1) and C (ward 2)."""

    ward1: int
    ward2: int
    a: int
    b: int
    c: int
    logins: dict[str, int]
    pending: dict[str, int]  # association letter -> a pending membership id
    members: dict[str, int]  # association letter -> an approved membership id
    events: dict[str, int]  # association letter -> an event id
    codes: dict[str, int]  # association letter -> its poster's join code id
    notices: dict[str, int]  # association letter -> a draft notice id


ROLES: dict[str, tuple[StaffRole, str, str]] = {
    # login: (role, scope kind, scope target)
    "admin": (StaffRole.CITY_ADMIN, "", ""),
    "ward1": (StaffRole.WARD_STAFF, "ward", "ward1"),
    "officer_a": (StaffRole.ASSOCIATION_OFFICER, "association", "a"),
    "officer_b": (StaffRole.ASSOCIATION_OFFICER, "association", "b"),
    "organiser_a": (StaffRole.ORGANISER, "association", "a"),
}


def _geography(db: object) -> dict[str, int]:
    ids: dict[str, int] = {}
    for code, name in (("ward1", "北地域"), ("ward2", "南地域")):
        ward = Ward(code=code, name=name)
        db.add(ward)  # type: ignore[attr-defined]
        db.flush()  # type: ignore[attr-defined]
        ids[code] = ward.id  # type: ignore[assignment]
        district = District(code=f"d-{code}", ward_id=ward.id, name=f"{name}地区")  # type: ignore[arg-type]
        db.add(district)  # type: ignore[attr-defined]
        db.flush()  # type: ignore[attr-defined]
        ids[f"d-{code}"] = district.id  # type: ignore[assignment]
    for letter, district_key, name in (
        ("a", "d-ward1", "青葉町内会"),
        ("b", "d-ward1", "文化町内会"),
        ("c", "d-ward2", "千歳町内会"),
    ):
        row = Association(code=f"A-{letter}", district_id=ids[district_key], name=name)
        db.add(row)  # type: ignore[attr-defined]
        db.flush()  # type: ignore[attr-defined]
        ids[letter] = row.id  # type: ignore[assignment]
    return ids


def _membership(db: object, association_id: int, n: int, status: str) -> int:
    resident = Resident(line_user_id=f"U{association_id:04d}{n:028d}", created_at=START)
    db.add(resident)  # type: ignore[attr-defined]
    db.flush()  # type: ignore[attr-defined]
    row = Membership(
        resident_id=resident.id,  # type: ignore[arg-type]
        association_id=association_id,
        status=status,
        full_name=f"試験 太郎{association_id}-{n}",
        household_size=2,
        contact_method="line",
        town_label="青葉一丁目",
        applied_at=START,
        decided_at=START if status == "approved" else None,
    )
    db.add(row)  # type: ignore[attr-defined]
    db.flush()  # type: ignore[attr-defined]
    return row.id  # type: ignore[return-value]


def _event(db: object, association_id: int, letter: str, goers: list[int]) -> int:
    """A published event; each resident in `goers` answers going (2 adults) and checks in."""
    event = Event(
        association_id=association_id,
        title=f"清掃活動{letter}",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        status="published",
        checkin_code=f"code-{letter}",
    )
    db.add(event)  # type: ignore[attr-defined]
    db.flush()  # type: ignore[attr-defined]
    for resident_id in goers:
        db.add(Rsvp(event_id=event.id, resident_id=resident_id, answer="going", adults=2))  # type: ignore[attr-defined, arg-type]
        db.add(CheckIn(event_id=event.id, resident_id=resident_id, at=START))  # type: ignore[attr-defined, arg-type]
    db.add(WalkIn(event_id=event.id, adults=3, children=1, at=START))  # type: ignore[attr-defined, arg-type]
    return event.id  # type: ignore[return-value]


def _join_code(db: object, association_id: int, letter: str) -> int:
    code = JoinCode(
        code=f"TEST{letter.upper()}234",
        kind="association",
        association_id=association_id,
        created_at=START,
    )
    db.add(code)  # type: ignore[attr-defined]
    db.flush()  # type: ignore[attr-defined]
    return code.id  # type: ignore[return-value]


def _notice(db: object, association_id: int, letter: str) -> int:
    notice = Notice(
        association_id=association_id,
        title=f"回覧{letter}",
        body="本文",
        audience={"scope": "association", "ids": [association_id]},
        created_at=START,
    )
    db.add(notice)  # type: ignore[attr-defined]
    db.flush()  # type: ignore[attr-defined]
    return notice.id  # type: ignore[return-value]


@pytest.fixture
def city(engine: Engine) -> City:
    """The test city, a staff account per role, and one pending and one approved member each."""
    with session_scope(engine) as db:
        ids = _geography(db)
        logins: dict[str, int] = {}
        for login, (role, kind, target) in ROLES.items():
            account = StaffAccount(
                login=login,
                display_name=f"{login}（試験）",
                role=role.value,
                password_hash=_password_hash(),
            )
            db.add(account)
            db.flush()
            logins[login] = account.id  # type: ignore[assignment]
            if kind == "ward":
                db.add(StaffScope(account_id=account.id, ward_id=ids[target]))  # type: ignore[arg-type]
            elif kind == "association":
                db.add(StaffScope(account_id=account.id, association_id=ids[target]))  # type: ignore[arg-type]
        pending = {x: _membership(db, ids[x], 1, "pending") for x in "abc"}
        members = {x: _membership(db, ids[x], 2, "approved") for x in "abc"}
        events = {}
        for x in "abc":
            member = db.get(Membership, members[x])
            events[x] = _event(db, ids[x], x, [member.resident_id])  # type: ignore[union-attr]
        codes = {x: _join_code(db, ids[x], x) for x in "abc"}
        drafts = {x: _notice(db, ids[x], x) for x in "abc"}
    return City(
        ids["ward1"],
        ids["ward2"],
        ids["a"],
        ids["b"],
        ids["c"],
        logins,
        pending,
        members,
        events,
        codes,
        drafts,
    )


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock."""
    return FixedClock(START)


@pytest.fixture
def client(db_url: str, city: City, clock: FixedClock) -> Iterator[TestClient]:
    """The app in-process (no lifespan: staff pages need only the database)."""
    settings = make_settings(db_url, "http://127.0.0.1:9", staff_session_secret="test-secret")
    app = create_app(settings, Overrides(clock=clock, process_events=False))
    # Not entered as a context manager: the lifespan (LINE gateway, processor) is not needed.
    http = TestClient(app, base_url="http://testserver", follow_redirects=False)
    yield http
    http.close()


@pytest.fixture
def line_client(db_url: str, city: City, standin: Any) -> Iterator[TestClient]:
    """The staff web with its pushes going to the LINE stand-in (sent by `deliver`)."""
    settings = make_settings(db_url, standin.url, staff_session_secret="test-secret")
    app = create_app(settings, Overrides(clock=FixedClock(START), process_events=False))
    http = TestClient(app, base_url="http://testserver", follow_redirects=False)
    yield http
    http.close()


def csrf_of(http: TestClient, path: str = "/staff/login") -> str:
    """The CSRF token of the form on `path` (also sets the session cookie)."""
    page = http.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {path}: {page.status_code}"
    return found.group(1)


def log_in(http: TestClient, login: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a browser would."""
    token = csrf_of(http)
    response = http.post(
        "/staff/login", data={"login": login, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text[:300]
