"""An event as an iCalendar (`.ics`) file for "add to calendar", built with `icalendar`."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar
from icalendar import Event as VEvent

from bot.features.events.models import Event, EventStatus

PRODID = "-//Tsunagari//events//JA"


def event_ics(
    event: Event, *, now: datetime, domain: str = "tsunagari.local", url: str | None = None
) -> bytes:
    """One VEVENT in a VCALENDAR; a cancelled event is marked CANCELLED so calendars drop it."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event.status == EventStatus.CANCELLED else "PUBLISH")
    item = VEvent()
    item.add("uid", f"event-{event.id}@{domain}")
    item.add("dtstamp", now)
    item.add("dtstart", event.starts_at)
    item.add("dtend", event.ends_at)
    item.add("summary", event.title)
    item.add("sequence", event.revision)
    if event.description:
        item.add("description", event.description)
    if event.place:
        item.add("location", event.place)
    if event.latitude is not None and event.longitude is not None:
        item.add("geo", (event.latitude, event.longitude))
    if url:
        item.add("url", url)
    item.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    calendar.add_component(item)
    ical: bytes = calendar.to_ical()  # icalendar leaves `to_ical` unannotated (returns Any)
    return ical
