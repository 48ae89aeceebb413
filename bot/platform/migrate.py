"""Alembic, driven from Python so `tsunagari db upgrade` and start-up share one path."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.settings import REPO_ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the project's migrations against `database_url`."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def current_heads() -> tuple[str, ...]:
    """The head revisions of the migration scripts."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
