"""The register's shared rules: an approval finds or adds the household in its neighbours' 班,
a leaving member's household goes back to paper (or leaves, if it came from LINE alone), and
data erasure removes a LINE-only household everywhere."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core import erasure
from bot.core import households as register
from bot.core.models.han import HanAssignment
from bot.core.models.households import Household, HouseholdSource, Reach
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.features.membership import memberships
from tests.builders import T0, add_member, make_area


def _household(db: Session, a: int, han: str, address: str, reach: str = Reach.PAPER) -> int:
    row = Household(association_id=a, han=han, address=address, contact_name="名簿の人",
                    reach=reach, key=register.key_of(address))  # fmt: skip
    db.add(row)
    db.flush()
    return int(row.id or 0)


def _apply_and_approve(engine: Engine, a: int, name: str, town: str, room: str) -> int:
    resident_id = add_member(engine, a, name, status=MembershipStatus.PENDING)
    with session_scope(engine) as db:
        row = db.exec(select(Membership).where(Membership.resident_id == resident_id)).one()
        row.town_label, row.room, row.full_name, row.household_size = town, room, name, 3
        db.add(row)
        db.flush()
        memberships.approve(db, int(row.id or 0), T0, staff="officer")
    return resident_id


def test_approval_adds_the_household_in_the_suggested_han(engine: Engine) -> None:
    a, _ = make_area(engine)
    with session_scope(engine) as db:
        _household(db, a, "2班", "上田一丁目 コーポ上田 101")
        _household(db, a, "5班", "緑が丘3-1")
    resident_id = _apply_and_approve(engine, a, "alice", "上田一丁目", "コーポ上田 203")
    with Session(engine) as db:
        membership = db.exec(select(Membership).where(Membership.resident_id == resident_id)).one()
        household = db.get(Household, membership.household_id)
        assert household is not None
        assert (household.han, household.address, household.reach, household.source) == (
            "2班", "上田一丁目 コーポ上田 203", Reach.LINE, HouseholdSource.LINE)  # fmt: skip
        assert household.contact_name == "alice" and household.people == 3
        assignment = db.exec(
            select(HanAssignment).where(HanAssignment.resident_id == resident_id)
        ).one()
        assert assignment.han == "2班"  # notices count the member in the household's 班


def test_a_roster_household_goes_back_to_paper_when_its_member_leaves(engine: Engine) -> None:
    a, _ = make_area(engine)
    with session_scope(engine) as db:
        roster_id = _household(db, a, "1班", "本町１－５")
    resident_id = _apply_and_approve(engine, a, "bob", "", "本町1-5")
    with Session(engine) as db:
        assert db.get(Household, roster_id).reach == Reach.BOTH  # type: ignore[union-attr]
    with session_scope(engine) as db:
        memberships.leave(db, resident_id, T0)
    with Session(engine) as db:
        kept = db.get(Household, roster_id)
        assert kept is not None and kept.reach == Reach.PAPER and kept.contact_name == "名簿の人"


def test_erasing_a_line_only_household_removes_it(engine: Engine) -> None:
    a, _ = make_area(engine)
    resident_id = _apply_and_approve(engine, a, "carol", "本町", "9-9")
    with Session(engine) as db:
        assert len(db.exec(select(Household)).all()) == 1
    with session_scope(engine) as db:
        resident = db.get(Resident, resident_id)
        assert resident is not None
        erasure.erase_resident(db, resident, T0)
    with Session(engine) as db:
        assert db.exec(select(Household)).all() == []
        membership = db.exec(select(Membership).where(Membership.resident_id == resident_id)).one()
        assert membership.household_id is None


def test_suggestion_needs_a_shared_start() -> None:
    assert register.key_of("本町１－２ 　") == "本町1-2"
    assert register.key_of("", "山田 花子") == "name:山田花子"
    assert register.natural_key("本町1-2") < register.natural_key("本町1-10")
