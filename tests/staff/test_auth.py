"""Staff accounts: argon2 hashes, throttled log-ins, signed sessions, CSRF, API tokens, the CLI."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import cli
from bot.core.models.membership import Membership
from bot.core.models.staff import ApiToken, AuditLog, StaffAccount, StaffRole, StaffScope
from bot.core.scope import scope_for
from bot.db import session_scope
from bot.demo.staff import seed_staff_accounts
from bot.settings import REPO_ROOT
from bot.staff import auth
from tests.staff.conftest import PASSWORD, City, csrf_of, log_in


def test_passwords_are_argon2id_and_checked_safely() -> None:
    stored = auth.hash_password("a long enough secret")
    assert stored.startswith("$argon2id$")
    assert auth.verify_password(stored, "a long enough secret")
    assert not auth.verify_password(stored, "a long enough secreT")
    assert not auth.verify_password("not-a-hash", "anything")


def test_login_sets_a_signed_session_and_rotates_the_csrf_token(
    client: TestClient, city: City
) -> None:
    before = csrf_of(client)
    log_in(client, "officer_a")
    after = csrf_of(client, "/staff/")
    assert after != before  # a token planted before log-in is worthless after it
    assert client.get("/staff/").status_code == 200


def test_wrong_password_and_unknown_login_are_refused_alike(client: TestClient, city: City) -> None:
    for login, password in (("officer_a", "wrong-password-1"), ("nobody", PASSWORD)):
        token = csrf_of(client)
        response = client.post(
            "/staff/login", data={"login": login, "password": password, "csrf_token": token}
        )
        assert response.status_code == 401
        assert "ログインIDまたはパスワードが違います" in response.text
    assert client.get("/staff/").status_code == 303


def test_login_without_csrf_token_is_refused(client: TestClient, city: City) -> None:
    csrf_of(client)  # the session cookie exists, but the form lacks its token
    response = client.post("/staff/login", data={"login": "officer_a", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/staff/").status_code == 303


def test_forged_or_foreign_session_cookie_is_not_a_login(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    cookie = client.cookies.get(auth.SESSION_COOKIE)
    assert cookie
    client.cookies.set(auth.SESSION_COOKIE, cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    assert client.get("/staff/").status_code == 303
    foreign = auth.SessionCodec("another-secret").dumps(
        auth.WebSession(csrf="x", account_id=city.logins["admin"])
    )
    client.cookies.set(auth.SESSION_COOKIE, foreign)
    assert client.get("/staff/").status_code == 303


def test_deactivation_ends_open_sessions(client: TestClient, city: City, engine: Engine) -> None:
    log_in(client, "officer_a")
    with session_scope(engine) as db:
        account = db.get(StaffAccount, city.logins["officer_a"])
        assert account is not None
        account.session_epoch += 1
        db.add(account)
    assert client.get("/staff/").status_code == 303


def test_logout_needs_csrf_and_ends_the_session(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    assert client.post("/staff/logout").status_code == 403
    assert client.get("/staff/").status_code == 200
    token = csrf_of(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/staff/").status_code == 303


def test_approve_without_csrf_changes_nothing(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    response = client.post(
        f"/staff/applications/{city.pending['a']}/approve", data={"csrf_token": "guessed"}
    )
    assert response.status_code == 403
    with session_scope(engine) as db:
        assert db.get(Membership, city.pending["a"]).status == "pending"  # type: ignore[union-attr]


def test_next_parameter_cannot_leave_the_staff_web(client: TestClient, city: City) -> None:
    token = csrf_of(client)
    response = client.post(
        "/staff/login",
        data={
            "login": "ward1",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/staff/"


def test_english_switch_sticks_to_the_session(client: TestClient, city: City) -> None:
    log_in(client, "ward1")
    assert "概要" in client.get("/staff/").text
    assert "Overview" in client.get("/staff/?lang=en").text
    assert "Overview" in client.get("/staff/").text


def test_api_tokens_are_hashed_at_rest_and_revocable(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    token_page = client.post(
        "/staff/tokens", data={"csrf_token": csrf_of(client, "/staff/tokens"), "name": "t"}
    )
    token = token_page.text.split('data-testid="new-token">', 1)[1].split("<", 1)[0]
    with session_scope(engine) as db:
        row = db.exec(select(ApiToken)).one()
        assert row.token_hash != token and token not in row.token_hash
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).json()["login"] == "officer_a"
    client.post(f"/staff/tokens/{row.id}/revoke", data={"csrf_token": csrf_of(client, "/staff/")})
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_audit_log_records_logins_and_decisions(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    client.post(
        f"/staff/applications/{city.pending['a']}/approve",
        data={"csrf_token": csrf_of(client, "/staff/pending")},
    )
    with session_scope(engine) as db:
        actions = [(e.action, e.target_id) for e in db.exec(select(AuditLog)).all()]
    assert ("login", "") in actions
    assert ("approve", str(city.pending["a"])) in actions


def test_create_account_checks_role_and_scope(engine: Engine, city: City) -> None:
    with session_scope(engine) as db:
        with pytest.raises(auth.AccountError, match="wards"):
            auth.create_account(
                db, login="w", display_name="w", role=StaffRole.WARD_STAFF, password=PASSWORD
            )
        with pytest.raises(auth.AccountError, match="unknown"):
            auth.create_account(
                db,
                login="o",
                display_name="o",
                role=StaffRole.ASSOCIATION_OFFICER,
                password=PASSWORD,
                association_codes=["no-such"],
            )
        with pytest.raises(auth.AccountError, match="at least"):
            auth.create_account(
                db, login="s", display_name="s", role=StaffRole.CITY_ADMIN, password="short"
            )


def test_cli_staff_add_creates_a_scoped_account(
    db_url: str, engine: Engine, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-new-password-123\n"))
    code = cli.main(
        [
            "staff",
            "add",
            "sato",
            "--name",
            "佐藤",
            "--role",
            "association_officer",
            "--association",
            "A-b",
            "--password-stdin",
        ]
    )
    assert code == 0
    with session_scope(engine) as db:
        account = db.exec(select(StaffAccount).where(StaffAccount.login == "sato")).one()
        assert scope_for(db, account).association_ids == {city.b}
        assert auth.verify_password(account.password_hash, "a-new-password-123")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-new-password-123\n"))
    again = cli.main(
        ["staff", "add", "sato", "--name", "x", "--role", "city_admin", "--password-stdin"]
    )
    assert again == 1


def test_demo_staff_accounts_seed_once(engine: Engine) -> None:
    from bot.demo.seed import load_sample_city

    path: Path = REPO_ROOT / "content" / "demo" / "staff.yaml"
    with session_scope(engine) as db:
        load_sample_city(db, REPO_ROOT / "content")
        first = seed_staff_accounts(db, path)
        again = seed_staff_accounts(db, path)
        ueda = db.exec(select(StaffAccount).where(StaffAccount.login == "officer-ueda")).one()
        ueda_scopes = db.exec(select(StaffScope).where(StaffScope.account_id == ueda.id)).all()
    assert first >= 4 and again == 0
    assert len(ueda_scopes) == 2
