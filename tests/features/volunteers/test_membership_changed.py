"""A resident who moves to another association is matched in their new area: volunteering
subscribes `refresh_area` to membership's `membership_changed` hook."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core import hooks
from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import EndReason, Membership, MembershipStatus
from bot.db import session_scope
from bot.features.volunteers import feature as volunteers_feature
from bot.features.volunteers.models import VolunteerMatchKey, VolunteerProfile
from tests.builders import T0, make_area
from tests.features.volunteers.support import add_volunteer


def _other_ward(engine: Any) -> tuple[int, int, int]:
    """An association in a district of another ward; returns (ward, district, association)."""
    with session_scope(engine) as session:
        ward = Ward(code="W2", name="北区")
        session.add(ward)
        session.flush()
        district = District(code="D2", ward_id=int(ward.id or 0), name="第二地区")
        session.add(district)
        session.flush()
        association = Association(code="B0", district_id=int(district.id or 0), name="北町内会")
        session.add(association)
        session.flush()
        return int(ward.id or 0), int(district.id or 0), int(association.id or 0)


def _keys(engine: Any) -> list[tuple[str, str, str, int, Any]]:
    with Session(engine) as session:
        rows = session.exec(select(VolunteerMatchKey)).all()
        return sorted((k.tag, k.bucket, k.area_kind, k.area_id, k.rest_since) for k in rows)


def _profile(engine: Any) -> dict[str, Any]:
    with Session(engine) as session:
        return session.exec(select(VolunteerProfile)).one().model_dump()


@pytest.mark.parametrize("reach", ["association", "district", "ward"])
def test_a_move_rewrites_the_match_keys_for_the_new_area(
    engine: Any, db_url: str, reach: str
) -> None:
    hooks.install([volunteers_feature.FEATURE.subscriptions])
    (home, _) = make_area(engine)
    ward, district, moved_to = _other_ward(engine)
    me = add_volunteer(
        engine,
        home,
        "mover",
        interests=("bousai", "kodomo"),
        times=("weekend_morning", "weekday_evening"),
        reach=reach,
    )
    before_keys, before = _keys(engine), _profile(engine)
    new_area = {"association": moved_to, "district": district, "ward": ward}[reach]
    assert {area_id for *_, area_id, _rest in before_keys} != {new_area}

    moved_at = T0 + timedelta(days=1)
    with session_scope(engine) as session:
        old = session.exec(select(Membership).where(Membership.resident_id == me)).one()
        old.end(EndReason.MOVED, moved_at)
        session.add(old)
        session.add(
            Membership(
                resident_id=me,
                association_id=moved_to,
                status=MembershipStatus.APPROVED,
                applied_at=moved_at,
                decided_at=moved_at,
            )
        )
        session.flush()
        hooks.emit_membership_changed(session, me, moved_at)

    after_keys, after = _keys(engine), _profile(engine)
    # The same interests × free times, the same reach and place in the queue: only the area.
    assert after_keys == [
        (tag, bucket, kind, new_area, rest) for tag, bucket, kind, _old, rest in before_keys
    ]
    assert len(after_keys) == 4
    assert (after["association_id"], after["district_id"], after["ward_id"]) == (
        moved_to,
        district,
        ward,
    )
    area_fields = {"association_id", "district_id", "ward_id"}
    assert {k: v for k, v in after.items() if k not in area_fields} == {
        k: v for k, v in before.items() if k not in area_fields
    }
