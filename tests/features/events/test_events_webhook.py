"""Events through the webhook and the stand-in: edits and cancellations told, QR check-in,
the `.ics` download, the event card and the organiser flow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import icalendar
from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.core.models.membership import Officer
from bot.db import session_scope
from bot.features.events import checkin as event_checkin
from bot.features.events.messages import event_card_say
from bot.features.events.models import CheckIn, Event
from bot.simulator.line_links import parse_line_link
from tests.builders import T0, add_member, make_area, uid
from tests.factories import postback_event, text_event
from tests.features.events.support import (
    cancel_event,
    edit_event,
    get_event,
    make_event,
    notifier_of,
)
from tests.harness import clocked_bot, deliver, postback_data


def _post(bot: Any, event: dict[str, Any]) -> None:
    bot.post(event)
    bot.drain()


def test_edited_event_tells_answerers_what_changed_and_cancel_tells_them_too(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    for name in ("going", "maybe", "notgoing", "silent"):
        add_member(engine, assoc, name)
    event_id = make_event(engine)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    for name, choice in (("going", "going"), ("maybe", "maybe"), ("notgoing", "not")):
        _post(bot, postback_event(uid(name), postback_data("rsvp", e=event_id, v=choice)))
    notifier, settings = notifier_of(bot), bot.app.state.settings

    with session_scope(engine) as session:  # a description edit is not worth a push
        assert edit_event(
            session,
            notifier,
            event_id=event_id,
            now=T0,
            changes={"description": "雨天決行"},
        ) == ["description"]
    new_start = T0 + timedelta(days=3)  # 12/3 10:00 Tokyo
    with session_scope(engine) as session:
        changed = edit_event(
            session,
            notifier,
            event_id=event_id,
            now=T0,
            changes={
                "starts_at": new_start,
                "ends_at": new_start + timedelta(hours=2),
                "place": "第二公民館",
            },
        )
    assert changed == ["starts_at", "ends_at", "place"]
    deliver(engine, standin, settings, T0)
    for name in ("going", "maybe"):
        told = [t for t in bot.texts_to(uid(name)) if "変更のお知らせ" in t]
        assert len(told) == 1 and "12月3日" in told[0] and "第二公民館" in told[0]
    for name in ("notgoing", "silent"):
        assert not any("変更のお知らせ" in t for t in bot.texts_to(uid(name)))

    with session_scope(engine) as session:
        cancel_event(session, notifier, event_id=event_id, now=T0)
        assert cancel_event(session, notifier, event_id=event_id, now=T0) == 0
    deliver(engine, standin, settings, T0)
    assert sum("中止のお知らせ" in t for t in bot.texts_to(uid("going"))) == 1
    assert not any("中止のお知らせ" in t for t in bot.texts_to(uid("silent")))
    _post(bot, postback_event(uid("silent"), postback_data("rsvp", e=event_id, v="going")))
    assert "中止" in bot.texts_to(uid("silent"))[-1]


def test_check_in_by_the_venue_qr_text_marks_attendance_once(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "kenji")
    event_id = make_event(engine, starts_at=T0 + timedelta(hours=1))
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    event = get_event(engine, event_id)
    prefilled = event_checkin.checkin_text(event, bot.app.state.content)
    link = event_checkin.checkin_link(event, bot.app.state.content, "@tsunagari")
    assert link.startswith("https://line.me/R/oaMessage/@tsunagari/?")
    assert parse_line_link(link).prefilled_text == prefilled  # what the simulator's scan reads
    assert "<svg" in event_checkin.checkin_qr_svg(event, bot.app.state.content, "@tsunagari")

    _post(bot, text_event(uid("kenji"), f"こんにちは {prefilled.lower()} です"))
    _post(bot, text_event(uid("kenji"), prefilled))
    texts = bot.texts_to(uid("kenji"))
    assert "受付をしました" in texts[-2] and "もう受付済み" in texts[-1]
    _post(bot, text_event(uid("kenji"), "受付 CHK-ZZZZZZZZZZ"))
    assert "見つかりませんでした" in bot.texts_to(uid("kenji"))[-1]
    with Session(engine) as session:
        rows = session.exec(select(CheckIn).where(CheckIn.event_id == event_id)).all()
    assert [(r.method, r.event_id) for r in rows] == [("qr", event_id)]


def test_check_in_on_another_day_is_refused(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "mari")
    event_id = make_event(engine)  # two days after T0
    bot = clocked_bot(bot_factory, FixedClock(T0))
    prefilled = event_checkin.checkin_text(get_event(engine, event_id), bot.app.state.content)
    _post(bot, text_event(uid("mari"), prefilled))
    assert "前後の時間だけ" in bot.texts_to(uid("mari"))[-1]


def test_ics_parses_with_icalendar_and_drafts_are_not_public(bot_factory: Any, engine: Any) -> None:
    make_area(engine)
    event_id = make_event(
        engine, description="軍手をお持ちください", latitude=39.70, longitude=141.15
    )
    draft_id = make_event(engine, publish=False)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    token = get_event(engine, event_id).calendar_token
    response = bot.http.get(f"/events/{event_id}.ics", params={"t": token})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["summary"]) == "秋の防災訓練"
    assert vevent.decoded("dtstart") == T0 + timedelta(days=2)
    assert vevent.decoded("dtend") == T0 + timedelta(days=2, hours=2)
    assert str(vevent["location"]) == "第一公民館"
    draft_token = get_event(engine, draft_id).calendar_token
    assert bot.http.get(f"/events/{draft_id}.ics", params={"t": draft_token}).status_code == 404
    assert bot.http.get("/events/99999.ics", params={"t": token}).status_code == 404


def make_area_other(engine: Any) -> int:
    """Another association (in a second area), for events members elsewhere must not see."""
    from bot.core.models.areas import Association, District

    with session_scope(engine) as session:
        district = session.exec(select(District)).first()
        assoc = Association(
            code="Z9",
            district_id=int(district.id or 0),  # type: ignore[union-attr]
            name="よその町内会",
        )
        session.add(assoc)
        session.flush()
        return int(assoc.id or 0)


def test_event_card_carries_rsvp_buttons_and_passes_the_spec(bot_factory: Any, engine: Any) -> None:
    make_area(engine)
    event_id = make_event(
        engine,
        capacity=20,
        image_url="https://example.org/drill.png",
        latitude=39.7,
        longitude=141.1,
        description='"引用" と改行\nも',
    )
    private = make_event(engine, association_id=make_area_other(engine))
    bot = clocked_bot(bot_factory, FixedClock(T0))
    _post(bot, postback_event(uid("newcomer"), postback_data("events")))
    cards = [m for m in bot.standin.messages_to(uid("newcomer")) if m["type"] == "flex"]
    assert len(cards) == 1  # the other association's event is not offered to a non-member
    assert f"e={private}&" not in str(cards)
    footer = str(cards[0]["contents"]["footer"])
    for answer in ("going", "maybe", "not"):
        assert f"a=rsvp&e={event_id}&v={answer}" in footer
    token = get_event(engine, event_id).calendar_token
    assert f"/events/{event_id}.ics?t={token}" in footer
    for locale in ("en", "ja-easy"):  # every locale renders valid JSON
        say = event_card_say(
            get_event(engine, event_id), bot.app.state.content, locale, "https://example.org"
        )
        assert bot.app.state.renderer.message(say, locale)["type"] == "flex"


def test_organiser_flow_creates_publishes_and_announces_an_event(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, other) = make_area(engine)
    officer = add_member(engine, assoc, "kaicho")
    add_member(engine, assoc, "neighbour")
    add_member(engine, other, "stranger")
    with session_scope(engine) as session:
        session.add(Officer(resident_id=officer, association_id=assoc, linked_at=T0))
    bot = clocked_bot(bot_factory, FixedClock(T0))
    user = uid("kaicho")
    steps = [
        postback_event(user, postback_data("start", f="new_event")),
        text_event(user, "年末夜回り"),
        postback_event(user, "f=new_event&s=category&v=drill"),
        text_event(user, "12/20 19:00"),
        postback_event(user, "f=new_event&s=duration&v=2"),
        text_event(user, "集会所"),
        text_event(user, "25"),
        postback_event(user, "f=new_event&s=headcount&v=no"),
        postback_event(user, "f=new_event&s=confirm&v=publish"),
    ]
    for step in steps:
        _post(bot, step)
    assert any("公開し、2人に案内を送りました" in t for t in bot.texts_to(user))
    deliver(engine, standin, bot.app.state.settings, T0)
    invited = [m for m in standin.messages_to(uid("neighbour")) if m["type"] == "flex"]
    assert len(invited) == 1 and "a=rsvp&e=" in str(invited[0])
    assert standin.messages_to(uid("stranger")) == []
    with Session(engine) as session:
        event = session.exec(select(Event).where(Event.title == "年末夜回り")).one()
    assert (event.status, event.capacity, event.association_id, event.category) == (
        "published",
        25,
        assoc,
        "drill",
    )
    assert event.starts_at == T0.replace(month=12, day=20, hour=10)  # 19:00 Tokyo
    assert event.audience == {
        "scope": "association",
        "ids": [assoc],
        "interest": None,
        "never_participated": False,
    }


def test_organiser_flow_refuses_non_officers(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "member")
    bot = clocked_bot(bot_factory, FixedClock(T0))
    _post(bot, postback_event(uid("member"), postback_data("start", f="new_event")))
    _post(bot, text_event(uid("member"), "勝手な行事"))
    assert any("役員の方だけ" in t for t in bot.texts_to(uid("member")))
    with Session(engine) as session:
        assert session.exec(select(Event)).first() is None
