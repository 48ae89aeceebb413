"""The demo's events and volunteer opportunities, loaded from content/demo (sample data)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import Session, select

from bot.core.audience import Audience
from bot.core.models.areas import Association, District
from bot.features.events import events
from bot.features.events.models import Event
from bot.features.events.staff.form import CATEGORIES
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import Opportunity

# Interest tags an opportunity is matched on, from the event category it helps.
INTERESTS_BY_CATEGORY = {
    "drill": ["bousai"],
    "festival": ["matsuri"],
    "cleanup": ["seisou", "midori"],
    "cafe": ["cafe", "koureisha"],
    "course": ["matsuri", "kodomo"],
}


def seed_activities(session: Session, demo_dir: Path, now: datetime, tz: ZoneInfo) -> int:
    """Published events and open opportunities with slots; rows added (idempotent by title)."""
    added = 0
    by_code: dict[str, Event] = {}
    for spec in _read(demo_dir / "events.yaml").get("events", []):
        event, created = _event(session, spec, now, tz)
        by_code[spec["code"]] = event
        added += created
    for spec in _read(demo_dir / "volunteering.yaml").get("opportunities", []):
        added += _opportunity(session, spec, by_code, now, tz)
    return added


def _event(
    session: Session, spec: dict[str, Any], now: datetime, tz: ZoneInfo
) -> tuple[Event, int]:
    title = spec["title"]["ja"]
    existing = session.exec(select(Event).where(Event.title == title)).first()
    if existing is not None:
        return existing, 0
    association = _association(session, spec["association"])
    starts = _at(now, tz, spec["starts_in_days"], spec["start_time"])
    ids = (association.district_id,) if spec.get("audience") == "district" else (association.id,)
    scope = "district" if spec.get("audience") == "district" else "association"
    category = spec.get("category", "other")
    if category not in CATEGORIES:  # a code the card cannot put in words would show raw
        raise ValueError(f"demo event {title!r}: unknown category {category!r}")
    event = events.create_event(
        session,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=int(spec["duration_minutes"])),
        now=now,
        publish=True,
        association_id=association.id,
        category=category,
        description=spec["description"]["ja"],
        place=spec.get("place", ""),
        capacity=spec.get("capacity"),
        headcount_allowed=True,
        audience=Audience(scope, tuple(int(i) for i in ids if i is not None)).to_dict(),
    )
    return event, 1


def _opportunity(
    session: Session, spec: dict[str, Any], by_code: dict[str, Event], now: datetime, tz: ZoneInfo
) -> int:
    role = spec["title"]["ja"]
    if session.exec(select(Opportunity).where(Opportunity.role == role)).first() is not None:
        return 0
    association = _association(session, spec["association"])
    event = by_code.get(spec.get("event") or "")
    interests = spec.get("interests") or INTERESTS_BY_CATEGORY.get(
        event.category if event else "", ["matsuri"]
    )
    opportunity = volunteers.create_opportunity(
        session,
        role=role,
        interests=interests,
        now=now,
        description=spec["description"]["ja"],
        association_id=association.id,
        event_id=event.id if event else None,
    )
    assert opportunity.id is not None
    for slot in spec.get("slots", []):
        starts = _at(now, tz, spec["starts_in_days"], slot["start_time"])
        ends = _at(now, tz, spec["starts_in_days"], slot["end_time"])
        volunteers.add_slot(
            session,
            opportunity_id=opportunity.id,
            starts_at=starts,
            ends_at=ends,
            needed=int(slot["needed"]),
            tz=tz,
        )
    return 1 + len(spec.get("slots", []))


def _association(session: Session, code: str) -> Association:
    association = session.exec(select(Association).where(Association.code == code)).first()
    if association is None or session.get(District, association.district_id) is None:
        raise ValueError(f"demo data names unknown association {code!r}")
    return association


def _at(now: datetime, tz: ZoneInfo, days: int, hhmm: str) -> datetime:
    day = now.astimezone(tz).date() + timedelta(days=int(days))
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz).astimezone(now.tzinfo)


def activity_counts(session: Session) -> dict[str, int]:
    """How many events and volunteer opportunities the database holds."""
    return {
        "events": len(session.exec(select(Event.id)).all()),
        "volunteer opportunities": len(session.exec(select(Opportunity.id)).all()),
    }


def _read(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
