"""What volunteering tells residents: a slot described in their locale, pushed via the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.content import Content
from bot.conversation import postback
from bot.conversation.engine import Option, Say
from bot.conversation.render import Renderer
from bot.core.models.residents import Resident, ResidentStatus
from bot.features.volunteers.models import Opportunity, Slot, VolunteerOffer
from bot.platform.delivery import outbox


def slot_info(
    slot: Slot, opportunity: Opportunity, content: Content, locale: str, tz: ZoneInfo
) -> dict[str, Any]:
    """Placeholders every volunteering text may use: role, when, place, description."""
    start, end = slot.starts_at.astimezone(tz), slot.ends_at.astimezone(tz)
    weekdays = content.text("volunteer.weekdays", locale).split(",")
    when = content.text(
        "volunteer.when",
        locale,
        month=start.month,
        day=start.day,
        weekday=weekdays[start.weekday()],
        start=start.strftime("%H:%M"),
        end=end.strftime("%H:%M"),
    )
    place = slot.place or content.text("volunteer.place_unset", locale)
    return {
        "role": opportunity.role,
        "when": when,
        "place": place,
        "description": opportunity.description,
        "hours": hours_of(slot),
    }


def hours_of(slot: Slot) -> float:
    """The slot's length in hours, to a quarter hour."""
    seconds = (slot.ends_at - slot.starts_at).total_seconds()
    return round(max(0.0, seconds) / 3600 * 4) / 4


def offer_says(offer: VolunteerOffer, info: dict[str, Any], answer_hours: float) -> list[Say]:
    """The ask, with 引き受ける / 見送る buttons that name this offer."""
    chips = (
        Option("volunteer.accept_chip", postback.encode(a="vo", o=offer.id or 0, v="yes")),
        Option("volunteer.decline_chip", postback.encode(a="vo", o=offer.id or 0, v="no")),
    )
    return [Say("volunteer.offer", {**info, "answer_hours": round(answer_hours)}, chips)]


def push(
    session: Session,
    *,
    renderer: Renderer,
    tz: ZoneInfo,
    key: str,
    kind: str,
    resident_id: int,
    slot: Slot,
    opportunity: Opportunity,
    says_for: Any,
    now: datetime,
) -> bool:
    """Enqueue `says_for(info)` to one resident in their locale; False when unreachable."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.line_user_id is None:
        return False
    if resident.status != ResidentStatus.ACTIVE:
        return False
    info = slot_info(slot, opportunity, renderer.content, resident.locale, tz)
    messages = renderer.messages(says_for(info), resident.locale)
    outbox.enqueue(
        session, key=key, kind=kind, recipient_ids=[resident_id], messages=messages, now=now
    )
    return True
