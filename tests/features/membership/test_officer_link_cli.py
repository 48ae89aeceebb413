"""`tsunagari officer link-code`: staff issue an officer's LINE link code from the command
line; the officer sends it to the bot and is linked (the code is printed once, stored hashed)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot import cli
from bot.core.models.membership import Officer
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.membership.models import OfficerLinkCode
from tests.features.membership.join_support import (
    association_id,
    association_name,
    resident,
    seed_city,
)

OFFICER = "U" + "0f" * 16
PRINTED = re.compile(r"^[0-9A-Z]{5}-[0-9A-Z]{5}$")


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, db_url: str, engine: Engine) -> Engine:
    """The CLI reads DATABASE_URL, here the test's database, with the sample city in it."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    seed_city(engine)
    return engine


def test_issued_code_links_an_officer_through_the_chat(
    bot: Any, database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["officer", "link-code", "--association", "A0302"]) == 0
    out = capsys.readouterr().out.strip()
    assert PRINTED.match(out), out  # the code, once, and nothing else
    code = out
    with session_scope(database) as session:
        (row,) = session.execute(select(OfficerLinkCode)).scalars().all()
        assert code.replace("-", "") not in (row.code_hash, row.created_by)  # stored hashed
        assert row.association_id == association_id(database, "A0302")
        (entry,) = session.execute(
            select(AuditLog).where(AuditLog.action == "officer_link_code")  # type: ignore[arg-type]
        ).scalars()
        assert (entry.account_id, entry.target_type) == (None, "association")
        assert entry.target_id == str(row.association_id)
        assert code not in str(entry.detail)

    bot.say(OFFICER, f"役員登録 {code}")
    assert association_name(database, "A0302") in bot.texts_to(OFFICER)[-1]
    with session_scope(database) as session:
        officer = resident(session, OFFICER)
        links = session.execute(
            select(Officer).where(Officer.resident_id == officer.id)  # type: ignore[arg-type]
        ).scalars()
        assert [link.association_id for link in links] == [association_id(database, "A0302")]


def test_ttl_minutes_sets_the_expiry(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["officer", "link-code", "--association", "A0302", "--ttl-minutes", "30"]) == 0
    assert PRINTED.match(capsys.readouterr().out.strip())
    with session_scope(database) as session:
        (row,) = session.execute(select(OfficerLinkCode)).scalars().all()
        assert row.expires_at - row.created_at == timedelta(minutes=30)


def test_unknown_association_is_refused_in_one_line(
    database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["officer", "link-code", "--association", "NOPE"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "NOPE" in captured.err
    with session_scope(database) as session:
        assert session.execute(select(OfficerLinkCode)).first() is None
