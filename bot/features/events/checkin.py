"""Check-in at the venue: the event's QR code (an `oaMessage` link with a pre-filled code, the
same mechanism as the join QR), attendance marked by staff, and walk-ins counted."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.content import Content
from bot.core import qr
from bot.features.events.codes import CODE_LENGTH
from bot.features.events.events import EventError
from bot.features.events.models import CheckIn, Event, EventStatus, WalkIn

CHECKIN_PREFIX = "CHK-"
_CHECKIN_TOKEN = re.compile(rf"CHK-?([0-9A-Z]{{{CODE_LENGTH}}})(?![0-9A-Z])")


def find_checkin_code(text: str) -> str | None:
    """The check-in code in a message, wherever it sits (the pre-filled text may be edited)."""
    match = _CHECKIN_TOKEN.search(unicodedata.normalize("NFKC", text).upper())
    return match.group(1) if match else None


@dataclass(frozen=True)
class CheckInResult:
    """What a check-in did: `status` is checked_in, already, unknown or not_today."""

    status: str
    event: Event | None = None


def check_in_by_code(
    session: Session, *, code: str, resident_id: int, now: datetime, window_hours: int = 3
) -> CheckInResult:
    """Mark the resident present from the venue QR's code (only around the event's time)."""
    event = session.exec(select(Event).where(Event.checkin_code == code.upper())).first()
    if event is None or event.status != EventStatus.PUBLISHED:
        return CheckInResult("unknown")
    slack = timedelta(hours=window_hours)
    if not event.starts_at - slack <= now <= event.ends_at + slack:
        return CheckInResult("not_today", event)
    created = mark_attended(
        session, event_id=int(event.id or 0), resident_id=resident_id, now=now, method="qr"
    )
    return CheckInResult("checked_in" if created else "already", event)


def mark_attended(
    session: Session,
    *,
    event_id: int,
    resident_id: int,
    now: datetime,
    method: str = "staff",
    staff_id: int | None = None,
) -> bool:
    """Record attendance once; False when already recorded."""
    existing = session.exec(
        select(CheckIn).where(CheckIn.event_id == event_id, CheckIn.resident_id == resident_id)
    ).first()
    if existing is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                CheckIn(
                    event_id=event_id,
                    resident_id=resident_id,
                    method=method,
                    marked_by_staff_id=staff_id,
                    at=now,
                )
            )
    except IntegrityError:  # a double scan racing itself
        return False
    return True


def record_walk_ins(
    session: Session,
    *,
    event_id: int,
    adults: int,
    children: int = 0,
    now: datetime,
    staff_id: int | None = None,
) -> WalkIn:
    """Count unregistered people at the door (no names)."""
    if adults < 0 or children < 0:
        raise EventError("counts cannot be negative")
    if session.get(Event, event_id) is None:
        raise EventError(f"no event {event_id}")
    row = WalkIn(
        event_id=event_id, adults=adults, children=children, recorded_by_staff_id=staff_id, at=now
    )
    session.add(row)
    return row


def checkin_text(event: Event, content: Content) -> str:
    """The text the venue QR pre-fills; the code is found wherever it sits in a message."""
    code = f"{CHECKIN_PREFIX}{event.checkin_code}"
    return content.text("events.checkin_prefill", "ja", code=code)


def checkin_link(event: Event, content: Content, basic_id: str) -> str:
    """The `oaMessage` link the check-in QR holds (the join QR's mechanism, bot/core/qr.py)."""
    return qr.oa_message_url(basic_id, checkin_text(event, content))


def checkin_qr_svg(event: Event, content: Content, basic_id: str) -> str:
    """The check-in QR as SVG, for the staff web to print at the venue."""
    return qr.svg_text(checkin_link(event, content, basic_id))


def checkin_qr_png(event: Event, content: Content, basic_id: str) -> bytes:
    """The check-in QR as PNG."""
    return qr.png_bytes(checkin_link(event, content, basic_id))
