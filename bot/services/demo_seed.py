"""The sample city for `tsunagari demo` and `tsunagari seed-demo`, loaded from content/.

Loading is an upsert keyed by each row's code, so running it again changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func
from sqlmodel import Session, select

from bot.db import make_engine, session_scope
from bot.models.areas import Association, District, MovingInCounter, Town, Ward
from bot.services.area_import import import_city_files
from bot.settings import Settings

DEMO_DIR = Path("demo")
_COUNTED = (
    ("areas", Ward),
    ("districts", District),
    ("associations", Association),
    ("towns", Town),
    ("moving-in counters", MovingInCounter),
)


def seed_demo(settings: Settings) -> str:
    """Load the sample city into `settings.database_url`; a one-line summary for the operator."""
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            changed = load_sample_city(session, settings.content_dir)
            totals = geography_counts(session)
    finally:
        engine.dispose()
    listed = ", ".join(f"{count} {name}" for name, count in totals.items())
    outcome = f"{changed} rows added or updated" if changed else "already up to date"
    return f"sample city: {listed} ({outcome})"


def load_sample_city(session: Session, content_dir: Path) -> int:
    """Wards, districts and counters, then associations and 町丁目; rows written."""
    return import_city_files(session, content_dir)


def geography_counts(session: Session) -> dict[str, int]:
    """Rows per geography table, for the summary and for tests."""
    return {
        name: int(session.exec(select(func.count()).select_from(model)).one())
        for name, model in _COUNTED
    }


def is_empty(session: Session) -> bool:
    """True when no city has been loaded (no ward and no association): `demo` seeds then."""
    for model in (Ward, Association):
        if session.exec(select(model.id).limit(1)).first() is not None:
            return False
    return True


def read_demo(content_dir: Path, name: str) -> dict[str, Any]:
    """One file of content/demo (staff, events, volunteering, surveys, targets) as a mapping."""
    path = content_dir / DEMO_DIR / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping")
    return data
