"""Demo staff accounts from content/demo/staff.yaml (sample data with public passwords)."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlmodel import Session, select

from bot.core.models.staff import StaffAccount, StaffRole
from bot.staff.auth import create_account


def seed_staff_accounts(session: Session, path: Path) -> int:
    """Create the accounts listed in `path` that do not exist yet; returns how many were made.

    Runs after the areas are seeded (scopes name ward and association codes). Re-running
    it changes nothing, so `tsunagari seed-demo` can be repeated.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    created = 0
    for entry in data.get("accounts", []):
        login = str(entry["username"])
        if session.exec(select(StaffAccount.id).where(StaffAccount.login == login)).first():
            continue
        create_account(
            session,
            login=login,
            display_name=str(entry.get("display_name", login)),
            role=StaffRole(entry["role"]),
            password=str(entry["password"]),
            ward_codes=[str(c) for c in entry.get("wards", [])],
            association_codes=[str(c) for c in entry.get("associations", [])],
            locale=str(entry.get("locale", "ja")),
        )
        created += 1
    return created
