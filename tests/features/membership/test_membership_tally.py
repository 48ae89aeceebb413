"""The pre-aggregated membership tally stays equal to a recount of `membership` through every
way a membership changes (the staff overview reads it instead of counting, issue 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core import erasure
from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.core.models.staff import StaffRole
from bot.core.scope import Scope
from bot.db import session_scope
from bot.features.membership import memberships as membership
from bot.features.membership import tally as tally_hook
from bot.features.membership.models import MembershipTally
from bot.features.membership.staff.members import Counts, counts_by_association

NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


def _recount(session: Session) -> dict[tuple[int, str], tuple[int, int]]:
    rows = session.execute(
        select(
            Membership.association_id,
            Membership.status,
            func.count(),
            func.coalesce(func.sum(Membership.household_size), 0),
        ).group_by(Membership.association_id, Membership.status)
    ).all()
    return {(int(a), str(s)): (int(n), int(p)) for a, s, n, p in rows}


def _tally(session: Session) -> dict[tuple[int, str], tuple[int, int]]:
    rows = session.execute(select(MembershipTally)).scalars().all()
    return {
        (r.association_id, r.status): (r.memberships, r.people)
        for r in rows
        if r.memberships or r.people
    }


def _assert_in_step(engine: Engine) -> dict[tuple[int, str], tuple[int, int]]:
    with session_scope(engine) as session:
        recount = _recount(session)
        assert _tally(session) == recount
        return recount


def _associations(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        ward = Ward(code="w", name="北地域")
        session.add(ward)
        session.flush()
        district = District(code="d", ward_id=ward.id, name="北地区")  # type: ignore[arg-type]
        session.add(district)
        session.flush()
        ids = []
        for code, name in (("A", "青葉町内会"), ("B", "文化町内会")):
            row = Association(code=code, district_id=district.id, name=name)  # type: ignore[arg-type]
            session.add(row)
            session.flush()
            ids.append(int(row.id))  # type: ignore[arg-type]
    return ids[0], ids[1]


def _resident(session: Session, n: int) -> Resident:
    row = Resident(line_user_id=f"U{n:032x}", created_at=NOW)
    session.add(row)
    session.flush()
    return row


def _apply(session: Session, resident: Resident, association_id: int, household: int) -> int:
    form = membership.Application(
        association_id=association_id,
        full_name="試験 花子",
        household_size=household,
        contact_method="line",
    )
    return int(membership.apply(session, resident, form, NOW).id)  # type: ignore[arg-type]


def test_tally_follows_every_change_of_a_membership(engine: Engine) -> None:
    a, b = _associations(engine)
    with session_scope(engine) as session:
        residents = [_resident(session, n) for n in range(6)]
        applications = [_apply(session, r, a, n + 1) for n, r in enumerate(residents)]
    assert _assert_in_step(engine) == {(a, "pending"): (6, 21)}

    with session_scope(engine) as session:
        for application in applications[:4]:
            assert membership.approve(session, application, NOW, staff="admin").changed
        assert membership.decline(session, applications[4], NOW, staff="admin").changed
        # Deciding twice changes nothing (the bulk UPDATE matches no pending row).
        assert not membership.approve(session, applications[0], NOW, staff="admin").changed
    assert _assert_in_step(engine) == {
        (a, "approved"): (4, 10),
        (a, "declined"): (1, 5),
        (a, "pending"): (1, 6),
    }

    later = NOW + timedelta(days=1)
    with session_scope(engine) as session:
        people = [session.get(Resident, r.id) for r in residents]
        membership.withdraw(session, people[5].id, later)  # type: ignore[union-attr, arg-type]
        membership.leave(session, people[0].id, later)  # type: ignore[union-attr, arg-type]
        # Moving: approval in B ends the membership in A.
        moved = _apply(session, people[1], b, 2)  # type: ignore[arg-type]
        membership.approve(session, moved, later, staff="admin")
        erasure.erase_resident(session, people[2], later)  # type: ignore[arg-type]
        # A household grows: the people column follows an edit of the row itself.
        grown = membership.current_membership(session, people[3].id)  # type: ignore[union-attr, arg-type]
        assert grown is not None
        grown.household_size = 7
        session.add(grown)
    assert _assert_in_step(engine) == {
        (a, "approved"): (1, 7),
        (a, "declined"): (1, 5),
        (a, "ended"): (3, 6),
        (a, "withdrawn"): (1, 6),
        (b, "approved"): (1, 2),
    }

    with session_scope(engine) as session:
        # An ORM delete (tests and tools do this) takes its row out of the tally too.
        row = session.execute(
            select(Membership).where(Membership.status == MembershipStatus.DECLINED)
        ).scalar_one()
        session.delete(row)
    counts = _assert_in_step(engine)
    assert (a, "declined") not in counts


def test_rollback_leaves_the_tally_as_it_was(engine: Engine) -> None:
    a, _b = _associations(engine)
    with session_scope(engine) as session:
        application = _apply(session, _resident(session, 1), a, 3)
    try:
        with session_scope(engine) as session:
            membership.approve(session, application, NOW, staff="admin")
            raise RuntimeError("the request failed after approving")
    except RuntimeError:
        pass
    assert _assert_in_step(engine) == {(a, "pending"): (1, 3)}


def test_rebuild_recounts_rows_written_around_the_orm(engine: Engine) -> None:
    a, b = _associations(engine)
    with session_scope(engine) as session:
        ids = [_resident(session, n).id for n in range(3)]
        # A bulk insert bypasses the flush hook (as the benchmark's loader does) ...
        session.execute(
            Membership.__table__.insert(),
            [  # type: ignore[attr-defined]
                {
                    "resident_id": rid,
                    "association_id": a if n else b,
                    "status": "approved",
                    "household_size": 2,
                    "applied_at": NOW,
                }
                for n, rid in enumerate(ids)
            ],
        )
        assert _tally(session) == {}
        # ... and rebuild brings the tally back in step.
        tally_hook.rebuild(session.connection())
    assert _assert_in_step(engine) == {(a, "approved"): (2, 4), (b, "approved"): (1, 2)}


def test_overview_counts_come_from_the_tally(engine: Engine) -> None:
    a, b = _associations(engine)
    with session_scope(engine) as session:
        residents = [_resident(session, n) for n in range(3)]
        first = _apply(session, residents[0], a, 2)
        _apply(session, residents[1], a, 4)
        _apply(session, residents[2], b, 1)
        membership.approve(session, first, NOW, staff="admin")
    with session_scope(engine) as session:
        city = Scope(role=StaffRole.CITY_ADMIN)
        assert counts_by_association(session, city) == {
            a: Counts(members=1, households=2, pending=1),
            b: Counts(members=0, households=0, pending=1),
        }
        officer_b = Scope(role=StaffRole.ASSOCIATION_OFFICER, association_ids=frozenset({b}))
        assert counts_by_association(session, officer_b) == {
            b: Counts(members=0, households=0, pending=1)
        }
