"""What volunteering says to residents: a slot described in their language, and the words of
each `Tell` the services return, pushed through the one Notifier."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.content import Content
from bot.conversation.engine import Option, Say
from bot.conversation.notifier import Notifier
from bot.core.translated import organiser_text
from bot.features.volunteers import tells as tells
from bot.features.volunteers.actions import OfferAnswer
from bot.features.volunteers.models import Opportunity, Slot
from bot.features.volunteers.shifts import hours_of
from bot.features.volunteers.tells import Tell

# The text each kind of tell is worded with.
_TEXT = {
    tells.FILLED: "volunteer.filled_notice",
    tells.REMINDER: "volunteer.reminder",
    tells.THANKS: "volunteer.thanks",
    tells.LATE_CANCEL: "volunteer.late_cancel_notice",
    tells.SLOT_CANCELLED: "volunteer.slot_cancelled_notice",
}


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
    # Organisers write these in Japanese: marked for English readers, with readings for
    # easy-Japanese ones (bot.core.translated).
    place = organiser_text(slot.place, None, "place", locale, content, proper_noun=True)
    return {
        "role": organiser_text(opportunity.role, None, "role", locale, content),
        "when": when,
        "place": place or content.text("volunteer.place_unset", locale),
        "description": organiser_text(
            opportunity.description, None, "description", locale, content
        ),
        "hours": hours_of(slot),
    }


def offer_says(offer_id: int, info: dict[str, Any], answer_hours: float) -> list[Say]:
    """The ask, with 引き受ける / 見送る buttons that name this offer."""
    chips = (
        Option("volunteer.accept_chip", OfferAnswer(offer_id, "yes").encode()),
        Option("volunteer.decline_chip", OfferAnswer(offer_id, "no").encode()),
    )
    return [Say("volunteer.offer", {**info, "answer_hours": round(answer_hours)}, chips)]


def says_for(tell: Tell, content: Content, tz: ZoneInfo) -> Callable[[str], list[Say]]:
    """The words of one tell, in a given language."""

    def says(locale: str) -> list[Say]:
        info = slot_info(tell.slot, tell.opportunity, content, locale, tz)
        if tell.kind == tells.OFFER:
            return offer_says(int(tell.facts["offer_id"]), info, tell.facts["answer_hours"])
        return [Say(_TEXT[tell.kind], {**info, **tell.facts})]

    return says


def tell(notifier: Notifier, session: Session, now: datetime, told: Iterable[Tell]) -> int:
    """Push each tell to its resident, in their language; returns how many were reached
    (residents who blocked the bot or have no LINE account are not)."""
    reached = 0
    for one in told:
        reached += bool(
            notifier.push(
                session,
                now,
                key=one.key,
                kind=one.kind,
                resident_ids=[one.resident_id],
                says_for=says_for(one, notifier.content, notifier.tz),
                active_only=True,
            )
        )
    return reached
