"""Issue 16: a linked officer hears of each new application once, with one-tap buttons, and
never during quiet hours; a newly linked officer is told what they can do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership, Officer
from bot.db import session_scope
from bot.features.membership.officer_flow import DecideTap, tell_officers
from bot.platform.delivery.models import OutboxMessage
from tests.features.membership.join_support import (
    apply_through_chat,
    counter_code,
    link_code,
    link_officer,
    seed_city,
)
from tests.harness import buttons
from tests.scheduler_support import add_residents, deps_for, settings_for

TOKYO = ZoneInfo("Asia/Tokyo")
ALICE = "U" + "a1" * 16
OFFICER = "U" + "0f" * 16


def _application(engine: Engine) -> tuple[int, int]:
    """An association with one linked officer and one pending application: (membership, officer)."""
    officer, applicant = add_residents(engine, 2, start=700)
    with session_scope(engine) as session:
        ward = Ward(code="W", name="区")
        session.add(ward)
        session.flush()
        district = District(code="D", ward_id=ward.id or 0, name="地区")
        session.add(district)
        session.flush()
        association = Association(code="A1", district_id=district.id or 0, name="青葉町内会")
        session.add(association)
        session.flush()
        session.add(
            Officer(
                resident_id=officer,
                association_id=association.id or 0,
                linked_at=datetime(2026, 9, 1, tzinfo=UTC),
            )
        )
        row = Membership(
            resident_id=applicant,
            association_id=association.id or 0,
            full_name="山田 花子",
            household_size=3,
            contact_method="line",
            applied_at=datetime(2026, 9, 1, tzinfo=UTC),
        )
        session.add(row)
        session.flush()
        return int(row.id or 0), officer


def test_an_application_at_night_waits_for_morning_and_is_queued_once(engine: Engine) -> None:
    membership_id, _officer = _application(engine)
    deps = deps_for(settings_for(quiet_hours_start="21:00", quiet_hours_end="08:00"))
    night = datetime(2026, 9, 2, 23, 30, tzinfo=TOKYO).astimezone(UTC)
    for _ in range(2):  # a retried transaction, a second caller: still one push
        with session_scope(engine) as session:
            row = session.get(Membership, membership_id)
            assert row is not None
            association = session.get(Association, row.association_id)
            assert association is not None
            told = tell_officers(session, deps.notifier, row, association, night)
    assert told == []  # the second call queued nothing
    with session_scope(engine) as session:
        (message,) = session.execute(select(OutboxMessage)).scalars().all()
        assert message.kind == "membership_application"
        assert message.not_before is not None
        assert message.not_before.astimezone(TOKYO).hour == 8  # after quiet hours
        text = str(message.messages)
        assert DecideTap(membership_id, "ok").encode() in text  # one-tap approve
        assert DecideTap(membership_id, "no").encode() in text
        assert "山田" not in text  # the outbox holds no name


def test_a_linked_officer_is_told_what_they_can_do_and_gets_the_officer_menu(
    bot: Any, engine: Engine
) -> None:
    seed_city(engine)
    code = link_code(engine, "A0302", datetime.now(UTC))
    bot.say(OFFICER, f"役員登録 {code}")
    said = bot.texts_to(OFFICER)[-1]
    assert "役員として登録しました" in said and "できること" in said and "承認する" in said
    chips = [i["action"]["label"] for i in bot.last(OFFICER)["quickReply"]["items"]]
    assert "入会申請の確認" in chips and "行事をつくる" in chips


def test_the_officer_approves_the_pushed_application_in_one_tap(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    now = datetime.now(UTC)
    link_officer(bot, engine, OFFICER, "A0302", now)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", now))
    bot.deliver()
    pushed = bot.last(OFFICER)
    approve = buttons(pushed)["承認する"]
    bot.tap(OFFICER, "承認する", pushed)
    assert "承認しました" in bot.texts_to(OFFICER)[-1]
    bot.deliver()
    assert "承認されました" in bot.texts_to(ALICE)[-1]
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        assert row.status == "approved"
        assert approve["data"] == DecideTap(row.id or 0, "ok").encode()
