"""Officers: one-time link codes, who may decide, declining, the pending list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.core.residents import get_or_create
from bot.db import session_scope
from bot.features.membership import officers
from bot.features.membership.officers import LinkResult
from tests.factories import postback_event
from tests.features.membership.join_support import (
    apply_through_chat,
    association_id,
    counter_code,
    link_code,
    link_officer,
    resident,
    seed_city,
)
from tests.harness import buttons

ALICE = "U" + "a1" * 16
OFFICER = "U" + "0f" * 16
MALLORY = "U" + "66" * 16


def test_link_code_works_once_and_for_one_person(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    now = datetime.now(UTC)
    code = link_code(engine, "A0302", now)
    bot.say(OFFICER, f"役員登録 {code}")
    assert "役員として登録しました" in bot.texts_to(OFFICER)[-1]
    bot.say(OFFICER, f"役員登録 {code}")  # sent again by the same officer
    assert "すでに" in bot.texts_to(OFFICER)[-1]
    bot.say(MALLORY, f"役員登録 {code}")  # a forwarded code
    assert "使えません" in bot.texts_to(MALLORY)[-1]
    with session_scope(engine) as session:
        rows = session.execute(select(Officer)).scalars().all()
        assert [r.resident_id for r in rows] == [resident(session, OFFICER).id]


def test_expired_or_mistyped_codes_are_refused(engine: Engine) -> None:
    seed_city(engine)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        someone = get_or_create(session, OFFICER, now, "ja")
        code = officers.issue_link_code(
            session, association_id(engine, "A0101"), now, ttl=timedelta(days=1)
        )
        assert officers.find_link_code(f"code: {code.lower()}") == code.replace("-", "")
        assert officers.redeem(session, someone, "ZZZZZZZZZZ", now)[0] == LinkResult.INVALID
        late = now + timedelta(days=1, seconds=1)
        assert (
            officers.redeem(session, someone, code.replace("-", ""), late)[0] == LinkResult.INVALID
        )
        assert officers.redeem(session, someone, code.replace("-", ""), now)[0] == LinkResult.LINKED


def test_link_flow_asks_for_the_code(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    bot.say(OFFICER, "役員登録")
    assert "役員登録コード" in bot.texts_to(OFFICER)[-1]
    bot.say(OFFICER, "わかりません")
    assert "形が違う" in bot.texts_to(OFFICER)[-2]
    bot.say(OFFICER, link_code(engine, "A0101", datetime.now(UTC)).replace("-", " "))
    assert "役員として登録しました" in bot.texts_to(OFFICER)[-1]


def test_only_the_associations_officers_decide(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    now = datetime.now(UTC)
    link_officer(bot, engine, OFFICER, "A0302", now)
    link_officer(bot, engine, MALLORY, "A0101", now)  # an officer, of another association
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", now))
    bot.deliver()
    approve = buttons(bot.last(OFFICER))["承認する"]
    bot.post(postback_event(MALLORY, approve["data"]))
    bot.drain()
    assert "役員として登録されていない" in bot.texts_to(MALLORY)[-1]
    assert bot.standin.messages_to(MALLORY)[-1].get("type") == "text"
    with session_scope(engine) as session:
        assert session.execute(select(Membership.status)).scalar_one() == "pending"


def test_decline_tells_the_resident_and_drops_the_details(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    now = datetime.now(UTC)
    link_officer(bot, engine, OFFICER, "A0302", now)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", now))
    bot.deliver()
    bot.say(OFFICER, "メニュー")
    bot.tap(OFFICER, "入会申請の確認")
    assert "1件" in bot.texts_to(OFFICER)[-1]
    bot.tap(OFFICER, bot.last(OFFICER)["quickReply"]["items"][0]["action"]["label"])
    assert "山田 花子" in bot.texts_to(OFFICER)[-1]
    bot.tap(OFFICER, "見送る")
    assert "見送りました" in bot.texts_to(OFFICER)[-1]
    bot.deliver()
    assert "見送り" in bot.texts_to(ALICE)[-1]
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        assert row.status == MembershipStatus.DECLINED and row.full_name is None
    bot.tap(OFFICER, "承認する")  # the notice's old button, after declining
    assert "すでに見送り済み" in bot.texts_to(OFFICER)[-1]
