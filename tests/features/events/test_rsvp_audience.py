"""RSVPs are for the event's audience: anyone else who posts an RSVP postback is refused
politely and nothing is stored (through the webhook and the LINE stand-in)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.db import session_scope
from bot.features.events import events
from bot.features.events.models import Rsvp
from tests.builders import T0, add_member, add_resident, make_area, uid
from tests.factories import postback_event
from tests.features.events.support import make_event
from tests.harness import clocked_bot, postback_data

REFUSAL = "ご案内した方（主催する町内会の会員など）を対象にした行事"


def _say(bot: Any, name: str, data: str) -> list[str]:
    user = uid(name)
    before = len(bot.texts_to(user))
    bot.post(postback_event(user, data))
    bot.drain()
    return bot.texts_to(user)[before:]


def _answers(engine: Any, event_id: int) -> list[tuple[int, str]]:
    with Session(engine) as session:
        return [
            (r.resident_id, r.answer)
            for r in session.exec(select(Rsvp).where(Rsvp.event_id == event_id)).all()
        ]


def test_residents_outside_the_audience_are_refused_and_nothing_is_stored(
    bot_factory: Any, engine: Any
) -> None:
    assoc_a, assoc_b = make_area(engine)
    member = add_member(engine, assoc_a, "mina")
    add_member(engine, assoc_b, "sota")  # a member, but of another association
    add_resident(engine, "kai")  # follows the bot, belongs to no association
    add_member(engine, assoc_a, "rin", status="pending")  # not yet approved
    members_only = make_event(
        engine,
        association_id=assoc_a,
        headcount_allowed=True,
        audience={"scope": "association", "ids": [assoc_a]},
    )
    legacy = make_event(engine, title="総会", association_id=assoc_a)  # no spec: its members
    bot = clocked_bot(bot_factory, FixedClock(T0))

    for name in ("sota", "kai", "rin"):
        for event_id, choice in ((members_only, "going"), (members_only, "maybe"), (legacy, "not")):
            replies = _say(bot, name, postback_data("rsvp", e=event_id, v=choice))
            assert len(replies) == 1 and REFUSAL in replies[0], (name, replies)
            assert "人数" not in replies[0]  # no headcount question before the refusal
    assert _answers(engine, members_only) == [] and _answers(engine, legacy) == []

    _say(bot, "mina", postback_data("rsvp", e=legacy, v="going"))
    assert _answers(engine, legacy) == [(member, "going")]


def test_an_open_event_takes_anyone_and_a_former_answerer_may_still_withdraw(
    bot_factory: Any, engine: Any
) -> None:
    assoc_a, assoc_b = make_area(engine)
    outsider = add_member(engine, assoc_b, "sota")
    open_event = make_event(engine, association_id=assoc_a, audience={"scope": "everyone"})
    district = make_event(
        engine,
        title="地区運動会",
        association_id=assoc_a,
        audience={"scope": "district", "ids": [_district_of(engine, assoc_b)]},
    )
    bot = clocked_bot(bot_factory, FixedClock(T0))
    replies = _say(bot, "sota", postback_data("rsvp", e=open_event, v="going"))
    assert not any(REFUSAL in r for r in replies)
    assert _answers(engine, open_event) == [(outsider, "going")]
    _say(bot, "sota", postback_data("rsvp", e=district, v="going"))
    assert _answers(engine, district) == [(outsider, "going")]

    with session_scope(engine) as session:  # the audience narrows after they answered
        event = events.get_event(session, event_id=open_event)
        assert event is not None
        event.audience = {"scope": "association", "ids": [assoc_a]}
        session.add(event)
    refused = _say(bot, "sota", postback_data("rsvp", e=open_event, v="maybe"))
    assert REFUSAL in refused[0] and _answers(engine, open_event) == [(outsider, "going")]
    _say(bot, "sota", postback_data("rsvp", e=open_event, v="not"))  # withdrawing is always allowed
    assert _answers(engine, open_event) == [(outsider, "not")]


def _district_of(engine: Any, association_id: int) -> int:
    from bot.core.models.areas import Association

    with Session(engine) as session:
        association = session.get(Association, association_id)
        assert association is not None
        return association.district_id
