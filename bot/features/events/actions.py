"""The events' buttons, as typed postback actions (see bot/conversation/actions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.actions import Action, wire

ANSWERS = ("going", "maybe", "not")


@dataclass(frozen=True)
class RsvpTap(Action, prefix="rsvp"):
    """参加 / 未定 / 不参加 on an event card."""

    event_id: int = wire("e")
    answer: str = wire("v", choices=ANSWERS)


@dataclass(frozen=True)
class OfferReply(Action, prefix="offer"):
    """Take or decline a place offered from the waitlist."""

    offer_id: int = wire("o")
    answer: str = wire("v", choices=("yes", "no"))


@dataclass(frozen=True)
class CancelRsvp(Action, prefix="rsvp_cancel"):
    """Cancel one's answer to an event from わたしの出欠."""

    event_id: int = wire("e")


@dataclass(frozen=True)
class MyEvents(Action, prefix="my_events"):
    """わたしの出欠: the events the resident answered."""


@dataclass(frozen=True)
class UpcomingEvents(Action, prefix="events"):
    """行事の予定: events the resident is invited to, as cards."""


@dataclass(frozen=True)
class EventCard(Action, prefix="event_card"):
    """変更 in わたしの出欠: the event's card again, to answer anew."""

    event_id: int = wire("e")
