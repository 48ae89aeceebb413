"""`tsunagari seed-demo` adds accounts whose passwords are published: it refuses production
settings and a database with staff accounts of its own, unless forced."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot import cli
from bot.core.models.areas import Ward
from bot.core.models.staff import StaffAccount, StaffRole
from bot.db import session_scope
from bot.staff.auth import create_account


def _staff(engine: Engine) -> list[str]:
    with session_scope(engine) as db:
        return sorted(db.exec(select(StaffAccount.login)).all())


def _wards(engine: Engine) -> int:
    with session_scope(engine) as db:
        return int(db.exec(select(func.count()).select_from(Ward)).one())


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> pytest.MonkeyPatch:
    """A clean environment pointing at the test database (nothing from the developer's)."""
    for name in ("LINE_API_BASE_URL", "LINE_DATA_API_BASE_URL", "TSUNAGARI_PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LINE_DATA_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("TSUNAGARI_ENV", "dev")
    return monkeypatch


def test_seed_demo_refuses_a_database_with_real_staff(
    env: pytest.MonkeyPatch, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as db:
        create_account(
            db,
            login="sato.hanako",
            display_name="佐藤花子",
            role=StaffRole.CITY_ADMIN,
            password="a-real-password-2026",
        )
    assert cli.main(["seed-demo"]) == 1
    assert "seed-demo refused" in capsys.readouterr().err
    assert _staff(engine) == ["sato.hanako"] and _wards(engine) == 0


def test_seed_demo_refuses_production_settings(
    env: pytest.MonkeyPatch, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("LINE_API_BASE_URL", "https://api.line.me")
    assert cli.main(["seed-demo"]) == 1
    assert "production" in capsys.readouterr().err
    assert _staff(engine) == [] and _wards(engine) == 0


def test_seed_demo_runs_on_an_empty_or_demo_database_and_when_forced(
    env: pytest.MonkeyPatch, engine: Engine
) -> None:
    assert cli.main(["seed-demo"]) == 0
    demo = _staff(engine)
    assert "city-admin" in demo and _wards(engine) > 0
    assert cli.main(["seed-demo"]) == 0  # again over its own accounts: nothing to refuse
    with session_scope(engine) as db:
        create_account(
            db,
            login="sato.hanako",
            display_name="佐藤花子",
            role=StaffRole.CITY_ADMIN,
            password="a-real-password-2026",
        )
    assert cli.main(["seed-demo"]) == 1
    assert cli.main(["seed-demo", "--force"]) == 0
