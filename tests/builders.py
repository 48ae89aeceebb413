"""Rows every feature's tests start from: an area with associations, members, residents.

Named, LINE-shaped users (`uid("alice")`) so a test reads as a story; everything at `T0`
(10:00 in Tokyo, 30 November 2026) unless a test moves the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.db import session_scope

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo


def uid(name: str) -> str:
    """A LINE-shaped user id for a test resident."""
    return "U" + name.encode().hex().ljust(32, "0")[:32]


def make_area(engine: Engine, associations: int = 2) -> list[int]:
    """A ward, a district and `associations` associations; returns their ids."""
    with session_scope(engine) as session:
        ward = Ward(code="W1", name="中区")
        session.add(ward)
        session.flush()
        district = District(code="D1", ward_id=int(ward.id or 0), name="第一地区")
        session.add(district)
        session.flush()
        ids = []
        for n in range(associations):
            assoc = Association(
                code=f"A{n}",
                district_id=int(district.id or 0),
                name=f"テスト町内会{n}",
                is_sample=True,
            )
            session.add(assoc)
            session.flush()
            ids.append(int(assoc.id or 0))
    return ids


def add_member(
    engine: Engine,
    association_id: int,
    name: str,
    *,
    locale: str = "ja",
    status: str = MembershipStatus.APPROVED,
) -> int:
    """A resident (LINE user `uid(name)`) with a membership; returns the resident id."""
    with session_scope(engine) as session:
        resident = Resident(line_user_id=uid(name), locale=locale, created_at=T0)
        session.add(resident)
        session.flush()
        session.add(
            Membership(
                resident_id=int(resident.id or 0),
                association_id=association_id,
                status=status,
                applied_at=T0,
            )
        )
        return int(resident.id or 0)


def add_members_bulk(engine: Engine, association_id: int, count: int, prefix: str) -> None:
    """Many members at once (the 1,201-recipient push-count test)."""
    users = [uid(f"{prefix}{n}") for n in range(count)]
    with session_scope(engine) as session:
        session.execute(
            insert(Resident),
            [
                {"line_user_id": u, "locale": "ja", "status": "active", "created_at": T0}
                for u in users
            ],
        )
        ids = (
            session.execute(select(Resident.id).where(Resident.line_user_id.in_(users)))
            .scalars()
            .all()
        )  # type: ignore[union-attr]
        session.execute(
            insert(Membership),
            [
                {
                    "resident_id": rid,
                    "association_id": association_id,
                    "status": "approved",
                    "applied_at": T0,
                }
                for rid in ids
            ],
        )


def add_resident(engine: Engine, name: str, locale: str = "ja") -> int:
    """A resident who follows the bot but belongs to no association."""
    with session_scope(engine) as session:
        resident = Resident(line_user_id=uid(name), locale=locale, created_at=T0)
        session.add(resident)
        session.flush()
        return int(resident.id or 0)
