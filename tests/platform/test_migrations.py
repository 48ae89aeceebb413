"""The Alembic migrations build exactly the schema the models declare, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.features.tables  # noqa: F401 - registers every table
from bot.platform import migrate


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations differ: {diff[:5]}"


def test_upgrade_is_idempotent(db_url: str) -> None:
    migrate.upgrade(db_url)  # already at head: nothing to do, nothing raised
    assert len(migrate.current_heads()) == 1  # one linear history, no forgotten branch
