"""Joining from a counter's QR code, through the real webhook, the outbox and the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.conversation.models import Conversation
from bot.core import standing
from bot.core.models.consent import ConsentRecord
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.db import session_scope
from bot.features.membership import funnel
from bot.features.membership.models import ResidentSource
from tests.factories import follow_event, location_event
from tests.features.membership.join_support import (
    association_id,
    code_message,
    counter_code,
    link_code,
    resident,
    seed_city,
)

T0 = datetime.now(UTC)  # the bot runs on the system clock here
ALICE = "U" + "a1" * 16
OFFICER = "U" + "0f" * 16


def _link_officer(bot: Any, engine: Engine, association: str) -> None:
    bot.post(follow_event(OFFICER))
    bot.drain()
    bot.say(OFFICER, f"役員登録 {link_code(engine, association, T0)}")
    assert "役員として登録しました" in bot.texts_to(OFFICER)[-1]


def _scan_counter_and_consent(bot: Any, engine: Engine) -> None:
    code = counter_code(engine, "counter-morioka", T0)
    bot.post(follow_event(ALICE))
    bot.drain()
    bot.say(ALICE, code_message(bot, code))
    assert "個人情報の取り扱い" in bot.texts_to(ALICE)[-1]
    bot.tap(ALICE, "同意する")
    # The counter is the 盛岡地域 one, so the ward is known and the district comes first.
    assert "地区を選んでください" in bot.texts_to(ALICE)[-1]


def _fill_form(bot: Any) -> None:
    bot.say(ALICE, "山田 花子")
    bot.tap(ALICE, "3人")
    bot.say(ALICE, "コーポ上田 201")
    bot.tap(ALICE, "電話")
    bot.say(ALICE, "０１９－１２３－４５６７")  # full width, as phones often type it
    summary = bot.texts_to(ALICE)[-1]
    assert "山田 花子" in summary and "0191234567" in summary and "上田三丁目" in summary


def test_counter_qr_to_approved_member(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    _link_officer(bot, engine, "A0302")
    _scan_counter_and_consent(bot, engine)
    bot.tap(ALICE, "上田")
    bot.say(ALICE, "上田")  # no 丁目: four 丁目 of two associations match
    offered = [item["action"]["label"] for item in bot.last(ALICE)["quickReply"]["items"]]
    assert offered == ["上田一丁目", "上田二丁目", "上田三丁目", "上田四丁目", "この中にない"]
    bot.tap(ALICE, "上田三丁目")
    _fill_form(bot)
    bot.tap(ALICE, "送信する")
    assert "申し込みました" in bot.texts_to(ALICE)[-1]

    bot.deliver()
    notice = bot.last(OFFICER)
    assert notice["type"] == "flex" and "新しい入会申請" in notice["altText"]
    assert "山田" not in str(notice)  # the push names nobody; details come by reply
    bot.tap(OFFICER, "詳しく見る", notice)
    assert "山田 花子" in bot.texts_to(OFFICER)[-1]
    bot.tap(OFFICER, "承認する", notice)
    bot.tap(OFFICER, "承認する", notice)  # the double tap
    assert "承認しました" in bot.texts_to(OFFICER)[-2]
    assert "すでに承認済み" in bot.texts_to(OFFICER)[-1]

    bot.deliver()
    told = [t for t in bot.texts_to(ALICE) if "承認されました" in t]
    assert len(told) == 1
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        officer = session.execute(select(Officer)).scalar_one()
        assert row.status == MembershipStatus.APPROVED
        assert row.association_id == association_id(engine, "A0302")
        assert row.decided_by_officer_id == officer.id and row.decided_at is not None
        assert standing.menu_role(session, resident(session, ALICE)) == "member"
        rows = funnel.funnel(session)
    counter_row = next(r for r in rows if r.kind == "counter" and r.follows)
    assert (
        counter_row.follows,
        counter_row.consented,
        counter_row.applied,
        counter_row.approved,
    ) == (1, 1, 1, 1)


def test_declined_consent_stores_nothing_personal(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    code = counter_code(engine, "counter-morioka", T0)
    bot.say(ALICE, f"こんにちは {code_message(bot, code)}")  # edited text still carries it
    bot.tap(ALICE, "同意しない")
    assert "個人情報は保存していません" in bot.texts_to(ALICE)[-1]
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(Membership)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Conversation)).scalar() == 0
        decisions = session.execute(select(ConsentRecord.decision)).scalars().all()
        assert decisions == ["declined"]
        # The source is kept (the funnel counts the scan), it names nobody.
        assert session.execute(select(func.count()).select_from(ResidentSource)).scalar() == 1
        assert standing.menu_role(session, resident(session, ALICE)) == "subscriber"


def test_location_finds_nearby_associations(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    _scan_counter_and_consent(bot, engine)
    bot.tap(ALICE, "上田")
    # Beside 高松一丁目 (sample coordinates in content/areas/towns.csv).
    bot.post(location_event(ALICE, 39.7089, 141.1355))
    bot.drain()
    nearby = bot.last(ALICE)
    assert "近くの町内会" in nearby["text"]
    assert "高松自治会（サンプル）" in [i["action"]["label"] for i in nearby["quickReply"]["items"]]
    bot.tap(ALICE, "高松自治会（サンプル）")
    assert "お名前" in bot.texts_to(ALICE)[-1]


def test_unknown_town_reasks_and_changes_nothing(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    _scan_counter_and_consent(bot, engine)
    bot.tap(ALICE, "上田")
    bot.say(ALICE, "存在しない町")
    assert "見つかりませんでした" in bot.texts_to(ALICE)[-2]
    assert "町名と丁目を入力してください" in bot.texts_to(ALICE)[-1]
    bot.say(ALICE, "上田３丁目")  # full-width digit, 丁目: one match, no choice needed
    assert "お名前" in bot.texts_to(ALICE)[-1]
