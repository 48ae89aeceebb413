"""代理入力: a 班長 answers for households without LINE, known by a label ("3-12").

The 班長 role is re-checked by the caller (bot/core/han.py `leadership_of`); here the event
must belong to the leader's association. Labels are what the 班長 knows, never names.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.core.models.han import HanLeader
from bot.core.models.residents import Resident
from bot.features.events import rsvp
from bot.features.events.models import Event, EventStatus, Rsvp, RsvpAnswer

MAX_LABEL = 60  # Rsvp.proxy_label
LIST_LIMIT = 8  # chips a small phone shows without scrolling far


def open_events(session: Session, *, association_id: int, now: datetime) -> list[Event]:
    """The association's published events still taking answers, soonest first."""
    found = session.exec(
        select(Event)
        .where(
            Event.association_id == association_id,
            Event.status == EventStatus.PUBLISHED,
            col(Event.starts_at) > now,
        )
        .order_by(col(Event.starts_at), col(Event.id))
        .limit(LIST_LIMIT * 2)
    ).all()
    return [e for e in found if rsvp.is_open(e, now)][:LIST_LIMIT]


def proxy_answer(
    session: Session,
    *,
    leader: HanLeader,
    event_id: int,
    label: str,
    choice: str,
    adults: int,
    now: datetime,
    offer_for: timedelta = rsvp.DEFAULT_OFFER_TIME,
) -> rsvp.RsvpResult:
    """Answer for a household without LINE, known by `label`; the same label on the same
    event changes that answer instead of adding a second one. Places freed are offered on
    (`result.offers`: the caller tells those residents)."""
    label = label.strip()[:MAX_LABEL]
    event = session.get(Event, event_id)
    if event is None or event.association_id != leader.association_id or not label:
        return rsvp.RsvpResult("not_open")
    earlier = session.exec(
        select(Rsvp.resident_id)
        .join(Resident, col(Resident.id) == col(Rsvp.resident_id))
        .where(
            Rsvp.event_id == event_id,
            Rsvp.proxy_label == label,
            col(Resident.line_user_id).is_(None),
        )
    ).first()
    resident_id = earlier or rsvp.offline_resident(session, now=now).id
    return rsvp.answer(
        session,
        event_id=event_id,
        resident_id=int(resident_id or 0),
        choice=RsvpAnswer(choice),
        now=now,
        adults=adults,
        entered_by_resident_id=leader.resident_id,
        proxy_label=label,
        offer_for=offer_for,
    )
