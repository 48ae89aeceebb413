"""Staff sessions end on the server: at log-out, at a password change, after an idle spell
and after an absolute lifetime however busy the day."""

from __future__ import annotations

import io
import sys
import time

import pytest
from fastapi.testclient import TestClient
from itsdangerous.timed import TimestampSigner
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import cli
from bot.core.models.staff import StaffAccount
from bot.db import session_scope
from bot.staff import auth
from tests.staff.conftest import City, csrf_of, log_in


def _copy(client: TestClient) -> TestClient:
    """A second browser holding a copy of the first one's cookie (an attacker's capture)."""
    other = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    other.cookies.set(auth.SESSION_COOKIE, client.cookies[auth.SESSION_COOKIE])
    return other


def test_a_cookie_captured_before_log_out_is_worthless_after_it(
    client: TestClient, city: City
) -> None:
    log_in(client, "officer_a")
    captured = _copy(client)
    before = captured.get(f"/staff/associations/{city.a}/members")
    assert before.status_code == 200 and "試験 太郎" in before.text  # works while logged in
    token = csrf_of(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 303
    members = captured.get(f"/staff/associations/{city.a}/members")
    assert members.status_code == 303 and members.headers["location"].startswith("/staff/login")
    assert captured.get("/staff/").status_code == 303


def test_a_password_change_ends_every_open_session(
    client: TestClient, city: City, db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in(client, "officer_b")
    assert client.get("/staff/").status_code == 200
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-brand-new-password-42\n"))
    assert cli.main(["staff", "password", "officer_b", "--password-stdin"]) == 0
    assert client.get("/staff/").status_code == 303
    with session_scope(engine) as db:
        account = db.exec(select(StaffAccount).where(StaffAccount.login == "officer_b")).one()
        assert auth.verify_password(account.password_hash, "a-brand-new-password-42")
    log_in(client, "officer_b", "a-brand-new-password-42")
    assert client.get("/staff/").status_code == 200


def test_a_short_new_password_is_refused_and_changes_nothing(
    client: TestClient, city: City, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in(client, "officer_b")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["staff", "password", "officer_b", "--password-stdin"]) == 1
    assert client.get("/staff/").status_code == 200


def test_a_busy_session_still_ends_after_its_absolute_lifetime(
    client: TestClient, city: City
) -> None:
    log_in(client, "ward1")
    codec = client.app.state.staff_session_codec  # type: ignore[attr-defined]
    assert client.get("/staff/").status_code == 200  # each page signs the cookie again…
    codec.clock = lambda: time.time() + codec.max_s - 60
    assert client.get("/staff/").status_code == 200
    codec.clock = lambda: time.time() + codec.max_s + 1  # …but not the log-in time
    assert client.get("/staff/").status_code == 303


def test_an_idle_session_ends(
    client: TestClient, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in(client, "ward1")
    idle_s = client.app.state.staff_session_codec.idle_s  # type: ignore[attr-defined]
    later = int(time.time()) + idle_s + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get("/staff/").status_code == 303
