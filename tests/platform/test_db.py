"""Database behaviour the services rely on, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.db import ping


def test_savepoint_rolls_back_with_its_outer_transaction(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE sp_probe (x INTEGER)"))
    with Session(engine) as session:
        with session.begin_nested():
            session.execute(text("INSERT INTO sp_probe VALUES (1)"))
        session.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sp_probe")).scalar() == 0


def test_ping_answers(engine: Engine) -> None:
    assert ping(engine)
