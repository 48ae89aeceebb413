"""Membership life through the webhook: leave, delete my data, unfollow and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.app import Overrides
from bot.clock import FixedClock
from bot.core import erasure, standing
from bot.core.models.consent import ConsentRecord
from bot.core.models.membership import EndReason, Membership, MembershipStatus
from bot.core.models.residents import PurgeSchedule, Resident, ResidentStatus
from bot.db import session_scope
from bot.features.membership import funnel
from tests.factories import follow_event, unfollow_event
from tests.features.membership.join_support import (
    apply_through_chat,
    counter_code,
    every_value,
    link_officer,
    resident,
    seed_city,
)

ALICE = "U" + "a1" * 16
OFFICER = "U" + "0f" * 16
NAME, PHONE, ROOM = "山田 花子", "09011112222", "メゾン上田 305号室"


def _member(bot: Any, engine: Engine, now: datetime) -> None:
    seed_city(engine)
    link_officer(bot, engine, OFFICER, "A0302", now)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", now), NAME)
    bot.deliver()
    bot.tap(OFFICER, "承認する", bot.last(OFFICER))
    bot.deliver()
    assert "承認されました" in bot.texts_to(ALICE)[-1]


def test_member_leaves_and_details_are_dropped(bot: Any, engine: Engine) -> None:
    _member(bot, engine, datetime.now(UTC))
    bot.tap(ALICE, "わたしの町内会", bot.last(ALICE))
    assert "会員です" in bot.texts_to(ALICE)[-2]
    assert all(value in bot.texts_to(ALICE)[-1] for value in (NAME, PHONE, ROOM))  # values kept
    bot.say(ALICE, "退会")
    bot.tap(ALICE, "はい")
    assert "退会しました" in bot.texts_to(ALICE)[-1]
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        assert (row.status, row.end_reason) == (MembershipStatus.ENDED, EndReason.LEFT)
        assert row.full_name is None and row.phone is None and row.room is None
        assert standing.menu_role(session, resident(session, ALICE)) == "subscriber"
        # Counted as approved in the funnel even though the member has since left.
        assert [r.approved for r in funnel.funnel(session) if r.follows] == [1]


def test_data_deletion_erases_personal_fields_in_every_table(bot: Any, engine: Engine) -> None:
    _member(bot, engine, datetime.now(UTC))
    before = every_value(engine)
    assert any(ALICE in value for _, _, value in before)  # the check below can find things
    assert any(NAME == value for _, _, value in before)
    bot.say(ALICE, "データ削除")
    bot.tap(ALICE, "はい")
    assert "消去しました" in bot.texts_to(ALICE)[-1]

    leftovers = [
        (table, column)
        for table, column, value in every_value(engine)
        if any(secret in value for secret in (ALICE, NAME, PHONE, ROOM, "山田"))
    ]
    assert leftovers == []
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        assert row.status == MembershipStatus.ENDED and row.erased_at is not None
        assert row.household_size == 2  # a count, kept for the tallies
        assert (row.full_name, row.phone, row.room, row.town_label) == (None,) * 4
        erased = session.get(Resident, row.resident_id)
        assert erased is not None and erased.line_user_id is None
        assert erased.status == ResidentStatus.DELETED
        consents = session.execute(select(ConsentRecord)).scalars().all()
        assert consents and all(c.withdrawn_at is not None for c in consents)
        assert [r.approved for r in funnel.funnel(session) if r.follows] == [1]


def test_deletion_can_be_called_off(bot: Any, engine: Engine) -> None:
    _member(bot, engine, datetime.now(UTC))
    bot.say(ALICE, "データ削除")
    bot.tap(ALICE, "やめておく")
    assert "消去しませんでした" in bot.texts_to(ALICE)[-1]
    with session_scope(engine) as session:
        assert session.execute(select(Membership.full_name)).scalar_one() == NAME


def test_unfollow_then_purge_after_retention(bot_factory: Any, engine: Engine) -> None:
    clock = FixedClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    bot = bot_factory(Overrides(clock=clock), unfollow_retention_days=30)
    seed_city(engine)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", clock.now()))
    bot.post(unfollow_event(ALICE))
    bot.drain()
    with session_scope(engine) as session:
        due = session.execute(select(PurgeSchedule.due_at)).scalar_one()
        assert due == clock.now() + timedelta(days=30)
        assert erasure.purge_due(session, clock.now() + timedelta(days=29)) == 0
        assert resident(session, ALICE).status == ResidentStatus.BLOCKED
    with session_scope(engine) as session:
        assert erasure.purge_due(session, clock.now() + timedelta(days=30, minutes=1)) == 1
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        assert (row.status, row.end_reason) == (MembershipStatus.WITHDRAWN, EndReason.PURGED)
        assert row.full_name is None and row.phone is None
        assert session.get(Resident, row.resident_id).line_user_id is None  # type: ignore[union-attr]
        assert session.execute(select(PurgeSchedule)).first() is None
    assert not [v for _, _, v in every_value(engine) if ALICE in v or "山田" in v]


def test_returning_friend_is_not_purged(bot_factory: Any, engine: Engine) -> None:
    clock = FixedClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    bot = bot_factory(Overrides(clock=clock))
    seed_city(engine)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", clock.now()))
    bot.post(unfollow_event(ALICE))
    bot.drain()
    clock.advance(timedelta(days=3))
    bot.post(follow_event(ALICE, unblocked=True))
    bot.drain()
    with session_scope(engine) as session:
        assert erasure.purge_due(session, clock.now() + timedelta(days=365)) == 0
        assert session.execute(select(Membership.full_name)).scalar_one() == "山田 花子"
