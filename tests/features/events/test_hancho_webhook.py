"""班長 in LINE through the webhook and the LINE stand-in: paper ticks feed read coverage,
代理入力 RSVPs are stored with who entered them, and nobody else reaches either step."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from bot.clock import FixedClock
from bot.conversation import postback
from bot.conversation.models import Conversation
from bot.core import han as hancho
from bot.core.audience import Audience
from bot.core.models.membership import Membership
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.features.events import tallies as tallies_events
from bot.features.events.models import Rsvp
from bot.features.notices import coverage as notice_coverage
from bot.features.notices import messages as notice_messages
from bot.features.notices import notices
from bot.features.notices.models import PaperDelivery
from tests.builders import T0, add_member, make_area, uid
from tests.factories import postback_event, sticker_event, text_event
from tests.features.events.support import make_event, notifier_of
from tests.harness import clocked_bot


def _leader(engine: Any, association_id: int, resident_id: int, han: str = "3班") -> None:
    with session_scope(engine) as session:
        membership_id = session.exec(
            select(Membership.id).where(Membership.resident_id == resident_id)
        ).one()
        hancho.designate(
            session,
            association_id=association_id,
            membership_id=int(membership_id or 0),
            han=han,
            now=T0,
            staff="test",
        )


def _notice(engine: Any, bot: Any, association_id: int) -> int:
    with session_scope(engine) as session:
        notice = notices.create_notice(
            session,
            title="ごみ集積所の清掃",
            body="日曜 9 時に集まってください。",
            audience=Audience("association", (association_id,)),
            now=T0,
            association_id=association_id,
        )
        notice_messages.send_notice(
            notifier_of(bot),
            session,
            T0,
            int(notice.id or 0),
            bot.app.state.settings.public_base_url,
        )
        return int(notice.id or 0)


def _send(bot: Any, user: str, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Post one event; the messages the resident got back."""
    before = len(bot.standin.messages_to(user))
    bot.post(event)
    bot.drain()
    return bot.standin.messages_to(user)[before:]


def _texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or m.get("altText") or "") for m in messages)


def _chips(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Quick-reply chips of the last message: label → postback data (or text)."""
    items = messages[-1].get("quickReply", {}).get("items", []) if messages else []
    return {
        i["action"]["label"]: i["action"].get("data") or i["action"].get("text", "") for i in items
    }


def _menu(bot: Any, user: str) -> dict[str, str]:
    return _chips(_send(bot, user, text_event(user, "メニュー")))


def _count(engine: Any, table: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_hancho_ticks_two_households_and_coverage_counts_them_for_their_han(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    leader_id = add_member(engine, assoc, "hancho")
    add_member(engine, assoc, "sato")
    _leader(engine, assoc, leader_id)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    notice_id = _notice(engine, bot, assoc)
    user = uid("hancho")

    menu = _menu(bot, user)
    assert "班の名簿" in menu and "代わりに出欠" in menu
    # No register yet: the 班's list offers typing house numbers.
    han_menu = _chips(_send(bot, user, postback_event(user, menu["班の名簿"])))
    asked = _send(bot, user, postback_event(user, han_menu["紙で配った家"]))
    assert "お知らせを選んでください" in _texts(asked)
    chips = _chips(asked)
    assert list(chips) == ["ごみ集積所の清掃"]
    picked = _send(bot, user, postback_event(user, chips["ごみ集積所の清掃"]))
    assert "配った家の番号" in _texts(picked)

    # A sticker, nothing typed, and far too much: each re-asks and stores nothing.
    assert "文字かボタン" in _texts(_send(bot, user, sticker_event(user)))
    assert "家の番号を書いて" in _texts(_send(bot, user, text_event(user, " 、 ")))
    assert "長すぎる" in _texts(_send(bot, user, text_event(user, "3-1, " * 80)))
    confirm = _send(bot, user, text_event(user, "３-12, 3-14、3-12"))
    assert "2軒を「紙で配った」と記録します" in _texts(confirm)
    assert _count(engine, PaperDelivery) == 0

    done = _send(bot, user, postback_event(user, _chips(confirm)["記録する"]))
    assert "3班の2軒を「紙で配った」と記録しました" in _texts(done)
    with Session(engine) as session:
        ticks = session.exec(select(PaperDelivery)).all()
        assert sorted(
            (t.association_id, t.han, t.household, t.ticked_by_resident_id) for t in ticks
        ) == [(assoc, "3班", "3-12", leader_id), (assoc, "3班", "3-14", leader_id)]
        rows = {
            (r.association_id, r.han): r
            for r in notice_coverage.read_coverage(session, notice_id=notice_id)
        }
    assert (rows[(assoc, "3班")].paper, rows[(assoc, "3班")].covered) == (2, 2)
    whole = rows[(assoc, None)]
    # Two LINE member households (pushes not yet delivered) and two paper households.
    assert (whole.households, whole.line_households, whole.paper) == (4, 2, 2)


def test_proxy_rsvp_is_stored_with_who_entered_it_and_shows_in_the_tallies(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    leader_id = add_member(engine, assoc, "hancho")
    _leader(engine, assoc, leader_id)
    event_id = make_event(engine, association_id=assoc, headcount_allowed=True, max_party=4)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    user = uid("hancho")

    asked = _send(bot, user, postback_event(user, _menu(bot, user)["代わりに出欠"]))
    assert "行事を選んでください" in _texts(asked)
    _send(bot, user, postback_event(user, _chips(asked)["秋の防災訓練"]))
    assert "家の番号か呼び名を書いて" in _texts(_send(bot, user, sticker_event(user)))
    answer = _send(bot, user, text_event(user, "3-20"))
    counts = _send(bot, user, postback_event(user, _chips(answer)["参加"]))
    assert list(_chips(counts)) == ["1人", "2人", "3人", "4人"]
    assert "1から4まで" in _texts(_send(bot, user, text_event(user, "9")))
    confirm = _send(bot, user, text_event(user, "2"))
    assert "3-20：参加（2人）" in _texts(confirm)
    assert _count(engine, Rsvp) == 0
    done = _send(bot, user, postback_event(user, _chips(confirm)["記録する"]))
    assert "3-20 の出欠（参加（2人））を記録しました" in _texts(done)

    with Session(engine) as session:
        (row,) = session.exec(select(Rsvp)).all()
        household = session.get(Resident, row.resident_id)
        assert household is not None and household.line_user_id is None
        assert (
            row.event_id,
            row.answer,
            row.adults,
            row.proxy_label,
            row.entered_by_resident_id,
        ) == (event_id, "going", 2, "3-20", leader_id)
        tally = tallies_events.event_tally(session, event_id=event_id)
    assert (tally.total.going, tally.total.headcount) == (1, 2)

    # The same household answered again changes its answer: still one row.
    _send(bot, user, postback_event(user, postback.encode(a="start", f="hancho_rsvp")))
    _send(bot, user, postback_event(user, postback.encode(f="hancho_rsvp", s="event", v=event_id)))
    _send(bot, user, text_event(user, "3-20"))
    _send(bot, user, text_event(user, "不参加"))
    _send(bot, user, text_event(user, "記録する"))
    with Session(engine) as session:
        (row,) = session.exec(select(Rsvp)).all()
        assert (row.answer, row.entered_by_resident_id) == ("not", leader_id)
        assert tallies_events.event_tally(session, event_id=event_id).total.going == 0


def test_a_plain_members_forged_postbacks_are_refused_and_store_nothing(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "member")
    former = add_member(engine, assoc, "former")
    _leader(engine, assoc, former)
    with session_scope(engine) as session:
        membership_id = session.exec(
            select(Membership.id).where(Membership.resident_id == former)
        ).one()
        assert hancho.revoke(
            session, association_id=assoc, membership_id=int(membership_id or 0), now=T0
        )
    event_id = make_event(engine, association_id=assoc)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    notice_id = _notice(engine, bot, assoc)

    for name in ("member", "former"):
        user = uid(name)
        menu = _menu(bot, user)
        assert "班の名簿" not in menu and "代わりに出欠" not in menu
        for flow in ("hancho_paper", "hancho_rsvp"):
            refused = _send(bot, user, postback_event(user, postback.encode(a="start", f=flow)))
            assert "班長の方のためのメニュー" in _texts(refused)
        forged = [
            postback.encode(f="hancho_paper", s="notice", v=notice_id),
            postback.encode(f="hancho_paper", s="confirm", v="yes"),
            postback.encode(f="hancho_rsvp", s="event", v=event_id),
            postback.encode(f="hancho_rsvp", s="confirm", v="yes"),
        ]
        for data in forged:
            assert "以前のご案内" in _texts(_send(bot, user, postback_event(user, data)))
        _send(bot, user, text_event(user, "3-12, 3-14"))

    assert _count(engine, PaperDelivery) == 0
    assert _count(engine, Rsvp) == 0
    assert _count(engine, Conversation) == 0
