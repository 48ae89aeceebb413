"""Every change of a resident's membership announces itself once, in the same transaction,
through `hooks.emit_membership_changed` (volunteering refreshes its match keys from it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core import erasure, hooks
from bot.core.hooks import Subscriptions
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.core.scope import Scope, StaffRole
from bot.db import session_scope
from bot.features.membership import memberships
from bot.features.membership.memberships import Application
from bot.features.membership.staff import members
from bot.features.volunteers import feature as volunteers_feature
from bot.features.volunteers.models import VolunteerMatchKey
from tests.builders import T0, make_area
from tests.features.membership.join_support import (
    apply_through_chat,
    association_id,
    counter_code,
    link_officer,
    resident,
    seed_city,
)
from tests.features.volunteers.support import add_volunteer

ALICE = "U" + "a1" * 16
OFFICER = "U" + "0f" * 16
NOW = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)


class Heard:
    """A stub subscriber: who was announced, and whether the change was already visible."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, datetime]] = []
        self.statuses: list[list[str]] = []

    def __call__(self, session: Session, resident_id: int, now: datetime) -> None:
        self.calls.append((resident_id, now))
        # In the caller's transaction: the change is already there to be read.
        rows = session.exec(select(Membership.status).where(Membership.resident_id == resident_id))
        self.statuses.append(sorted(str(status) for (status,) in rows))

    def residents(self) -> list[int]:
        return [rid for rid, _ in self.calls]


@pytest.fixture
def heard() -> Iterator[Heard]:
    stub = Heard()
    subscriptions = Subscriptions(membership_changed=(stub,))
    hooks.install([subscriptions])
    try:
        yield stub
    finally:
        hooks.uninstall([subscriptions])


def _resident(session: Session, user: str) -> int:
    row = Resident(line_user_id=user, locale="ja")
    session.add(row)
    session.flush()
    return int(row.id or 0)


def _apply(session: Session, resident_id: int, association: int, now: datetime) -> int:
    row = session.get(Resident, resident_id)
    assert row is not None
    form = Application(association, "山田 花子", 2, "line")
    return int(memberships.apply(session, row, form, now).id or 0)


def test_the_chat_announces_apply_approve_leave_and_erasure(
    bot: Any, engine: Engine, heard: Heard
) -> None:
    seed_city(engine)
    link_officer(bot, engine, OFFICER, "A0302", datetime.now(UTC))
    assert heard.calls == []  # linking an officer is no change of membership
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", NOW))
    with session_scope(engine) as session:
        alice = int(resident(session, ALICE).id or 0)
    assert heard.residents() == [alice]
    assert heard.statuses[-1] == [MembershipStatus.PENDING]

    bot.deliver()
    bot.tap(OFFICER, "承認する", bot.last(OFFICER))
    assert heard.residents() == [alice] * 2
    assert heard.statuses[-1] == [MembershipStatus.APPROVED]
    bot.tap(OFFICER, "承認する")  # a second tap on the same push changes nothing
    assert heard.residents() == [alice] * 2

    bot.say(ALICE, "退会")
    bot.tap(ALICE, "はい")
    assert heard.residents() == [alice] * 3
    assert heard.statuses[-1] == [MembershipStatus.ENDED]

    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", NOW))
    assert heard.residents() == [alice] * 4
    bot.say(ALICE, "データ削除")
    bot.tap(ALICE, "はい")
    assert heard.residents() == [alice] * 5  # the erasure withdrew the application
    assert heard.statuses[-1] == [MembershipStatus.ENDED, MembershipStatus.WITHDRAWN]


def test_services_announce_each_change_once(engine: Engine, heard: Heard) -> None:
    seed_city(engine)
    first, second = association_id(engine, "A0302"), association_id(engine, "A0301")
    staff_scope = Scope(StaffRole.CITY_ADMIN)
    with session_scope(engine) as session:
        alice = _resident(session, ALICE)

        declined = _apply(session, alice, first, NOW)
        memberships.decline(session, declined, NOW, staff="staff")
        memberships.decline(session, declined, NOW, staff="staff")  # already decided
        assert heard.residents() == [alice] * 2
        assert heard.statuses[-1] == [MembershipStatus.DECLINED]

        _apply(session, alice, first, NOW)
        assert memberships.withdraw(session, alice, NOW) is not None
        assert memberships.withdraw(session, alice, NOW) is None  # nothing left to withdraw
        assert heard.residents() == [alice] * 4

        # Staff decide in the web through the same service.
        joined = _apply(session, alice, first, NOW)
        members.decide(session, staff_scope, joined, approve=True, staff="staff", now=NOW)
        assert heard.residents() == [alice] * 6

        # A move: approving the application elsewhere ends the old membership, announced once.
        later = NOW + timedelta(days=1)
        moved = _apply(session, alice, second, later)
        memberships.approve(session, moved, later, staff="staff")
        assert heard.calls[-2:] == [(alice, later), (alice, later)]
        assert len(heard.calls) == 8
        assert heard.statuses[-1].count(MembershipStatus.APPROVED) == 1

        assert memberships.leave(session, alice, later) is not None
        assert memberships.leave(session, alice, later) is None
        assert len(heard.calls) == 9

        row = session.get(Resident, alice)
        assert row is not None
        erasure.erase_resident(session, row, later)  # nothing live left to end: no announcement
        assert len(heard.calls) == 9


def test_the_stub_is_gone_after_the_test(engine: Engine) -> None:
    assert not any(isinstance(fn, Heard) for fn in hooks._installed.membership_changed)


def test_a_move_through_membership_refreshes_volunteering(engine: Engine) -> None:
    """End to end with the real subscriber: volunteering's match keys follow a move made
    through membership's services (apply elsewhere, approved)."""
    hooks.install([volunteers_feature.FEATURE.subscriptions])  # as bot.features does
    home, elsewhere = make_area(engine)
    volunteer = add_volunteer(engine, home, "mover", reach="association")

    def areas() -> set[int]:
        with session_scope(engine) as session:
            return set(session.execute(select(VolunteerMatchKey.area_id)).scalars())

    assert areas() == {home}
    later = T0 + timedelta(days=1)
    with session_scope(engine) as session:
        moved = _apply(session, volunteer, elsewhere, later)
        assert areas() == {home}  # applying is not moving yet
    with session_scope(engine) as session:
        memberships.approve(session, moved, later, staff="staff")
    assert areas() == {elsewhere}
    with session_scope(engine) as session:
        memberships.leave(session, volunteer, later)
    assert areas() == set()  # no association, no area to be matched in
