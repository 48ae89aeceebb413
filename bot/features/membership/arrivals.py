"""How residents arrived, for other features: answers `hooks.ask_counter_arrivals`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.features.membership.models import JoinCode, JoinCodeKind, ResidentSource

_FEW = 2000  # more ids than this: read every counter arrival once instead


def counter_arrivals(session: Session, resident_ids: list[int] | None) -> dict[int, datetime]:
    """When each resident first arrived through a moving-in counter's join QR (absent: not so);
    None asks for every such resident.

    The events' participation-diversity page counts newcomers with it."""
    found: dict[int, datetime] = {}
    if resident_ids is None or len(resident_ids) > _FEW:
        # Many residents (a page's attendees): the city's counter arrivals are far fewer than
        # its residents, so read them all once and keep the asked ones, rather than binding
        # tens of thousands of ids in chunks (0.4-1 s at full size, bench/bench_staff.py).
        asked = None if resident_ids is None else set(resident_ids)
        rows = session.exec(
            select(ResidentSource.resident_id, func.min(ResidentSource.first_seen_at))
            .join(JoinCode, col(JoinCode.id) == col(ResidentSource.join_code_id))
            .where(JoinCode.kind == JoinCodeKind.COUNTER)
            .group_by(col(ResidentSource.resident_id))
        ).all()
        return {int(rid): at for rid, at in rows if asked is None or int(rid) in asked}
    for start in range(0, len(resident_ids), 1000):
        rows = session.exec(
            select(ResidentSource.resident_id, func.min(ResidentSource.first_seen_at))
            .join(JoinCode, col(JoinCode.id) == col(ResidentSource.join_code_id))
            .where(
                JoinCode.kind == JoinCodeKind.COUNTER,
                col(ResidentSource.resident_id).in_(resident_ids[start : start + 1000]),
            )
            .group_by(col(ResidentSource.resident_id))
        ).all()
        found.update({int(rid): at for rid, at in rows})
    return found
