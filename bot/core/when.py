"""Dates and times as residents read them ('12月1日(日) 10:00〜12:00'), in Tokyo time.

Shared by events (cards, reminders) and notices (the print page's date).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content

TOKYO = ZoneInfo("Asia/Tokyo")


def when_text(start: datetime, end: datetime | None, content: Content, locale: str) -> str:
    """'12月1日(日) 10:00〜12:00' in the resident's locale, Tokyo time."""
    local = start.astimezone(TOKYO)
    weekdays = content.text("events.weekdays", locale).split(",")
    text = content.text(
        "events.date",
        locale,
        month=local.month,
        day=local.day,
        weekday=weekdays[local.weekday()],
        time=local.strftime("%H:%M"),
    )
    if end is not None:
        text += content.text("events.until", locale, time=end.astimezone(TOKYO).strftime("%H:%M"))
    return text
