"""Moving within the city: apply to the new association; the old membership ends on approval."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.core.models.membership import EndReason, Membership, MembershipStatus
from bot.db import session_scope
from tests.features.membership.join_support import (
    apply_through_chat,
    association_id,
    counter_code,
    link_officer,
    seed_city,
)

ALICE = "U" + "a1" * 16
OLD_OFFICER, NEW_OFFICER = "U" + "0f" * 16, "U" + "0e" * 16


def test_change_association_after_moving(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    now = datetime.now(UTC)
    link_officer(bot, engine, OLD_OFFICER, "A0302", now)
    link_officer(bot, engine, NEW_OFFICER, "A0301", now)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", now))
    bot.deliver()
    bot.tap(OLD_OFFICER, "承認する", bot.last(OLD_OFFICER))

    bot.say(ALICE, "町内会を変更")
    bot.tap(ALICE, "はい")
    bot.tap(ALICE, "盛岡地域")  # no QR this time: the ward is asked (consent is not)
    bot.tap(ALICE, "上田")
    bot.say(ALICE, "上田1丁目")
    bot.say(ALICE, "山田 花子")
    bot.tap(ALICE, "2人")
    bot.tap(ALICE, "なし")
    bot.tap(ALICE, "LINE")
    assert "上田一・二丁目町内会" in bot.texts_to(ALICE)[-1]
    bot.tap(ALICE, "送信する")
    with session_scope(engine) as session:
        statuses = sorted(session.execute(select(Membership.status)).scalars())
    assert statuses == ["approved", "pending"]  # still a member while the move is pending

    bot.deliver()
    bot.tap(NEW_OFFICER, "承認する", bot.last(NEW_OFFICER))
    with session_scope(engine) as session:
        rows = {m.association_id: m for m in session.execute(select(Membership)).scalars()}
    old, new = rows[association_id(engine, "A0302")], rows[association_id(engine, "A0301")]
    assert (old.status, old.end_reason) == (MembershipStatus.ENDED, EndReason.MOVED)
    assert old.full_name is None
    assert new.status == MembershipStatus.APPROVED and new.full_name == "山田 花子"


def test_joining_again_as_a_member_offers_the_change(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    now = datetime.now(UTC)
    link_officer(bot, engine, OLD_OFFICER, "A0302", now)
    apply_through_chat(bot, engine, ALICE, counter_code(engine, "counter-morioka", now))
    bot.say(ALICE, "入会")
    assert "承認を待っている" in bot.texts_to(ALICE)[-1]
    bot.deliver()
    bot.tap(OLD_OFFICER, "承認する", bot.last(OLD_OFFICER))
    bot.say(ALICE, "入会")
    assert "すでに" in bot.texts_to(ALICE)[-1]
    assert "町内会を変更する" in [
        i["action"]["label"] for i in bot.last(ALICE)["quickReply"]["items"]
    ]
