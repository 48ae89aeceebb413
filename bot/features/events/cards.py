"""The event card (a flex bubble with 参加 / 未定 / 不参加 buttons) as a `Say`."""

from __future__ import annotations

from urllib.parse import quote

from bot.content import Content
from bot.conversation import postback
from bot.conversation.engine import Say
from bot.features.events.events import describe
from bot.features.events.models import Event

ANSWERS = ("going", "maybe", "not")


def event_card_say(event: Event, content: Content, locale: str, base_url: str = "") -> Say:
    """The card for `event` in `locale`; links are absolute under `base_url`."""
    base = (base_url or _default_base_url()).rstrip("/")
    info = describe(event, content, locale)
    params = {
        **info,
        "description": (event.description or "")[:300],
        "image_url": event.image_url or "",
        "capacity": (
            content.text("events.capacity", locale, capacity=event.capacity)
            if event.capacity
            else ""
        ),
        "ics_url": f"{base}/events/{event.id}.ics",
        "map_url": _map_url(event),
        "postbacks": {a: postback.encode(a="rsvp", e=event.id or 0, v=a) for a in ANSWERS},
    }
    return Say("events.card_alt", params, flex="event_card")


def _map_url(event: Event) -> str:
    if event.latitude is None or event.longitude is None:
        return ""
    query = quote(f"{event.latitude:.6f},{event.longitude:.6f}")
    return f"https://www.google.com/maps/search/?api=1&query={query}"


def _default_base_url() -> str:
    from bot.settings import get_settings

    return get_settings().public_base_url
