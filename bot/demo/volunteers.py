"""The demo's sample volunteers: invented members with volunteer profiles (content/demo).

They have no LINE account, so matching can rank and ask them (the staff pages then show
asks and places) while nothing is ever pushed. Re-running finds each by its membership name
(which ends with （サンプル）) and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from bot.core.models.areas import Association
from bot.core.models.membership import ContactMethod, Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import VolunteerProfile
from bot.settings import Settings

PROFILES_FILE = "volunteers.yaml"


def seed_volunteer_profiles(
    session: Session, demo_dir: Path, now: datetime, settings: Settings
) -> int:
    """A member and a volunteer profile for each sample volunteer not yet loaded; rows added."""
    data = yaml.safe_load((demo_dir / PROFILES_FILE).read_text(encoding="utf-8")) or {}
    if data.get("sample") is not True:
        raise ValueError(f"{demo_dir / PROFILES_FILE} must say sample: true")
    return sum(_profile(session, spec, now, settings) for spec in data.get("profiles", []))


def _profile(session: Session, spec: dict[str, Any], now: datetime, settings: Settings) -> int:
    name = str(spec["name"])
    if session.exec(select(Membership.id).where(Membership.full_name == name)).first():
        return 0
    association = session.exec(
        select(Association).where(Association.code == spec["association"])
    ).first()
    if association is None:
        raise ValueError(f"demo volunteer {spec['code']!r} names unknown association")
    resident = Resident(line_user_id=None, created_at=now)  # no LINE: never pushed to
    session.add(resident)
    session.flush()
    resident_id = int(resident.id or 0)
    session.add(
        Membership(
            resident_id=resident_id,
            association_id=int(association.id or 0),
            status=MembershipStatus.APPROVED,
            full_name=name,
            contact_method=ContactMethod.VISIT,
            applied_at=now,
            decided_at=now,
            decided_by_staff="demo",
        )
    )
    session.flush()
    volunteers.save_profile(
        session,
        resident_id,
        volunteers.ProfileInput(
            interests=list(spec["interests"]),
            skills=list(spec.get("skills", [])),
            availability=list(spec["availability"]),
            max_per_month=int(spec["max_per_month"]),
            reach=str(spec["reach"]),
        ),
        now,
    )
    if spec.get("paused"):
        volunteers.set_paused(session, resident_id, True, now, settings=settings)
    return 3


def volunteer_counts(session: Session) -> dict[str, int]:
    """How many volunteer profiles the database holds, for the seed's summary."""
    return {"volunteer profiles": len(session.exec(select(VolunteerProfile.id)).all())}
