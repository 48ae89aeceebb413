"""After a shift is agreed: the reminder, who came, hours, thanks and 地域活動ポイント.

The organiser confirms who came (`confirm_attendance`); when nobody has within
`volunteer_grace_hours` of the end, everyone who accepted is assumed to have come
(`assume_attendance_after_grace`), since a forgotten confirmation should not cost a
volunteer their thanks. Each accepted place gets exactly one `Shift` row (unique per offer).
Reminders and thanks come back as `Tell`s for the caller to push (messages.tell).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.features.volunteers import tells as tells
from bot.features.volunteers.models import (
    OfferStatus,
    Opportunity,
    Shift,
    Slot,
    VolunteerOffer,
    VolunteerProfile,
)
from bot.features.volunteers.tells import Tell
from bot.settings import Settings


@dataclass(frozen=True)
class Points:
    """A resident's running totals, as shown by "my points"."""

    points: int
    hours: float
    shifts: int


@dataclass(frozen=True)
class Recorded:
    """Shifts recorded (who came and who did not), and the thanks to push to those who came."""

    shifts: list[Shift] = field(default_factory=list)
    tells: list[Tell] = field(default_factory=list)


def hours_of(slot: Slot) -> float:
    """The slot's length in hours, to a quarter hour."""
    seconds = (slot.ends_at - slot.starts_at).total_seconds()
    return round(max(0.0, seconds) / 3600 * 4) / 4


def due_shift_reminders(session: Session, now: datetime, *, settings: Settings) -> list[Tell]:
    """Those who accepted a shift starting within `volunteer_reminder_hours`, to remind once
    (each slot is marked reminded)."""
    horizon = now + timedelta(hours=settings.volunteer_reminder_hours)
    slots = session.exec(
        select(Slot).where(
            col(Slot.reminded_at).is_(None),
            col(Slot.starts_at) > now,
            col(Slot.starts_at) <= horizon,
            col(Slot.filled) > 0,
            col(Slot.status).in_(["open", "filled"]),
        )
    ).all()
    told: list[Tell] = []
    for slot in slots:
        opportunity = session.get(Opportunity, slot.opportunity_id)
        assert opportunity is not None
        for offer in _accepted(session, int(slot.id or 0)):
            told.append(
                Tell(
                    tells.REMINDER,
                    f"volunteer:remind:{offer.id}",
                    offer.resident_id,
                    slot,
                    opportunity,
                )
            )
        slot.reminded_at = now
        session.add(slot)
    session.flush()
    return told


def confirm_attendance(
    session: Session,
    *,
    slot_id: int,
    attended: Iterable[int],
    now: datetime,
    settings: Settings,
    staff_id: int | None = None,
    resident_id: int | None = None,
) -> Recorded:
    """The organiser says who came (resident ids); hours and points go to them."""
    slot = session.get(Slot, slot_id)
    if slot is None or slot.starts_at > now:
        raise ValueError("attendance can be confirmed once the shift has started")
    came = set(attended)
    recorded = Recorded()
    _record(
        session,
        slot,
        lambda offer: offer.resident_id in came,
        now,
        settings,
        recorded,
        assumed=False,
        staff_id=staff_id,
        resident_id=resident_id,
    )
    return recorded


def assume_attendance_after_grace(
    session: Session, now: datetime, *, settings: Settings
) -> Recorded:
    """Slots ended more than the grace period ago and unconfirmed: everyone came."""
    cutoff = now - timedelta(hours=settings.volunteer_grace_hours)
    slots = session.exec(
        select(Slot).where(col(Slot.status).in_(["open", "filled"]), col(Slot.ends_at) <= cutoff)
    ).all()
    recorded = Recorded()
    for slot in slots:
        _record(session, slot, lambda _offer: True, now, settings, recorded, assumed=True)
    return recorded


def points_of(session: Session, resident_id: int) -> Points:
    """Points, hours and shifts the resident has done."""
    hours, shifts = session.exec(
        select(func.coalesce(func.sum(Shift.hours), 0.0), func.count()).where(
            Shift.resident_id == resident_id, col(Shift.attended).is_(True)
        )
    ).one()
    profile = session.exec(
        select(VolunteerProfile).where(VolunteerProfile.resident_id == resident_id)
    ).first()
    return Points(
        points=profile.points if profile else 0, hours=float(hours or 0), shifts=int(shifts or 0)
    )


def _record(
    session: Session,
    slot: Slot,
    came: Callable[[VolunteerOffer], bool],
    now: datetime,
    settings: Settings,
    recorded: Recorded,
    *,
    assumed: bool,
    staff_id: int | None = None,
    resident_id: int | None = None,
) -> None:
    opportunity = session.get(Opportunity, slot.opportunity_id)
    assert opportunity is not None
    done = set(session.exec(select(Shift.offer_id).where(Shift.slot_id == slot.id)).all())
    hours = hours_of(slot)
    for offer in _accepted(session, int(slot.id or 0)):
        if offer.id in done:
            continue
        attended = came(offer)
        points = round(hours * settings.volunteer_points_per_hour) if attended else 0
        shift = Shift(
            offer_id=int(offer.id or 0),
            slot_id=int(slot.id or 0),
            resident_id=offer.resident_id,
            attended=attended,
            hours=hours if attended else 0.0,
            points=points,
            confirmed_by_staff_id=staff_id,
            confirmed_by_resident_id=resident_id,
            assumed=assumed,
            month=slot.month,
            recorded_at=now,
        )
        session.add(shift)
        session.flush()
        recorded.shifts.append(shift)
        if attended:
            recorded.tells.append(_thank(session, shift, slot, opportunity))
    slot.status = "done"
    session.add(slot)
    session.flush()


def _thank(session: Session, shift: Shift, slot: Slot, opportunity: Opportunity) -> Tell:
    session.execute(
        update(VolunteerProfile)
        .where(col(VolunteerProfile.resident_id) == shift.resident_id)
        .values(points=VolunteerProfile.points + shift.points)
    )
    total = points_of(session, shift.resident_id).points
    return Tell(
        tells.THANKS,
        f"volunteer:thanks:{shift.id}",
        shift.resident_id,
        slot,
        opportunity,
        {"hours": shift.hours, "points": shift.points, "total": total},
    )


def _accepted(session: Session, slot_id: int) -> list[VolunteerOffer]:
    return list(
        session.exec(
            select(VolunteerOffer)
            .where(VolunteerOffer.slot_id == slot_id, VolunteerOffer.status == OfferStatus.ACCEPTED)
            .order_by(col(VolunteerOffer.id))
        ).all()
    )
