"""The sample city for `tsunagari demo` and `tsunagari seed-demo`, loaded from content/.

Loading is an upsert keyed by each row's code, so running it again changes nothing. Beside
the city it adds the demo staff accounts and one live join code per moving-in counter and
per association, so the demo has QR codes to scan and officers to approve; a few sample
volunteers (members without LINE, with profiles) so matching has someone to ask; and opens a
round of the sample survey, so a new member has a survey to answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.area_import import import_city_files
from bot.core.models.areas import Association, District, MovingInCounter, Town, Ward
from bot.core.models.staff import StaffAccount
from bot.db import make_engine, session_scope
from bot.demo.activities import activity_counts, seed_activities
from bot.demo.staff import seed_staff_accounts
from bot.demo.surveys import seed_survey_waves, survey_wave_counts
from bot.demo.volunteers import seed_volunteer_profiles, volunteer_counts
from bot.features.membership import join_codes
from bot.features.membership.models import JoinCode, JoinCodeKind
from bot.settings import Settings

DEMO_DIR = Path("demo")
_COUNTED = (
    ("areas", Ward),
    ("districts", District),
    ("associations", Association),
    ("towns", Town),
    ("moving-in counters", MovingInCounter),
    ("staff accounts", StaffAccount),
    ("join codes", JoinCode),
)


def seed_demo(settings: Settings) -> str:
    """Load the sample city into `settings.database_url`; a one-line summary for the operator."""
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            changed = load_sample_city(session, settings.content_dir)
            changed += seed_staff_accounts(session, settings.content_dir / DEMO_DIR / "staff.yaml")
            now = datetime.now(UTC)
            changed += seed_join_codes(session, now)
            changed += seed_activities(session, settings.content_dir / DEMO_DIR, now, settings.tz)
            changed += seed_volunteer_profiles(
                session, settings.content_dir / DEMO_DIR, now, settings
            )
            changed += seed_survey_waves(session, settings.content_dir, now, settings.tz)
            totals = {
                **geography_counts(session),
                **activity_counts(session),
                **volunteer_counts(session),
                **survey_wave_counts(session, now),
            }
    finally:
        engine.dispose()
    listed = ", ".join(f"{count} {name}" for name, count in totals.items())
    outcome = f"{changed} rows added or updated" if changed else "already up to date"
    return f"sample city: {listed} ({outcome})"


def load_sample_city(session: Session, content_dir: Path) -> int:
    """Wards, districts and counters, then associations and 町丁目; rows written."""
    return import_city_files(session, content_dir)


def seed_join_codes(session: Session, now: datetime) -> int:
    """A live join code for each counter and association that has none; codes issued.

    An existing live code is kept, so posters printed from an earlier run stay valid.
    """
    issued = 0
    for counter in session.exec(select(MovingInCounter).order_by(col(MovingInCounter.id))):
        if join_codes.active_for(session, JoinCodeKind.COUNTER, counter_id=counter.id) is None:
            join_codes.create(session, kind=JoinCodeKind.COUNTER, counter_id=counter.id, now=now)
            issued += 1
    for assoc in session.exec(select(Association).order_by(col(Association.id))):
        if (
            join_codes.active_for(session, JoinCodeKind.ASSOCIATION, association_id=assoc.id)
            is None
        ):
            join_codes.create(
                session, kind=JoinCodeKind.ASSOCIATION, association_id=assoc.id, now=now
            )
            issued += 1
    return issued


def geography_counts(session: Session) -> dict[str, int]:
    """Rows per seeded table (geography, staff accounts, join codes), for the summary."""
    return {
        name: int(session.exec(select(func.count()).select_from(model)).one())
        for name, model in _COUNTED
    }


class SeedRefused(Exception):
    """The database looks real: seeding would add staff accounts with published passwords."""


def check_safe_to_seed(settings: Settings) -> None:
    """Raise SeedRefused for production settings, or a database holding staff accounts
    other than the demo's own (the demo's passwords are public in content/demo/staff.yaml).
    Running it again over the demo is fine."""
    if settings.is_production:
        raise SeedRefused(
            "these settings are production (LINE's hosts or a public URL): the demo's staff "
            "passwords are public"
        )
    demo_logins = {
        str(entry["username"])
        for entry in read_demo(settings.content_dir, "staff").get("accounts", [])
    }
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            logins = set(session.exec(select(StaffAccount.login)).all())
    finally:
        engine.dispose()
    if logins - demo_logins:
        raise SeedRefused(
            f"the database has {len(logins - demo_logins)} staff account(s) of its own: "
            "it is not a demo database"
        )


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
