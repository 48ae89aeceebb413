"""The staff event form: raw form fields in, event fields or error codes out.

Parsing only: which association an account may write for is checked by `Scope`, and what
an edit tells residents is decided by ../events.py. Every error is a code that the page shows
as `event_form.error.<code>` beside its field; with any error nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.core.audience import Audience
from bot.core.translated import form_of_translations, translations_from_form
from bot.features.events.models import Event

CATEGORIES = ("festival", "drill", "cleanup", "cafe", "course", "meeting", "other")
AUDIENCES = ("association", "everyone")
# Editing an event whose audience the form cannot express (a district, an interest tag, set by
# the demo seed or the API) offers "current", which leaves the stored audience as it is.
KEEP_AUDIENCE = "current"
FIELDS = (
    "title",
    "category",
    "description",
    "place",
    "latitude",
    "longitude",
    "starts_at",
    "ends_at",
    "capacity",
    "headcount_allowed",
    "rsvp_deadline",
    "audience",
    "image_url",
)
# The organiser may add English and easy-Japanese versions of these (title_en, place_easy…).
TRANSLATED = ("title", "description", "place")
TRANSLATION_INPUTS = tuple(f"{f}_{s}" for s in ("en", "easy") for f in TRANSLATED)
MAX_CAPACITY = 100_000
LIMITS = {"title": 120, "description": 2000, "place": 200, "image_url": 500}


@dataclass
class EventForm:
    """What the organiser typed (`raw`, redisplayed on error) and what it parses to."""

    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every field parsed."""
        return not self.errors


def _text(raw: Mapping[str, str], name: str) -> str:
    return str(raw.get(name, "") or "").strip()


def _local(raw: str, tz: tzinfo) -> datetime:
    """A datetime-local field ('2026-12-01T10:00') in the city's zone, as UTC."""
    return datetime.fromisoformat(raw).replace(tzinfo=tz).astimezone(UTC)


def parse_event_form(
    raw: Mapping[str, Any], *, tz: tzinfo, association_id: int, now: datetime | None
) -> EventForm:
    """Parse the posted form; `now` given (creation) refuses a start in the past."""
    names = (*FIELDS, *TRANSLATION_INPUTS, "association_id")
    form = EventForm({name: _text(raw, name) for name in names})
    form.raw["headcount_allowed"] = "true" if raw.get("headcount_allowed") else ""
    _texts(form)
    _place(form)
    _times(form, tz, now)
    _capacity(form)
    audience = form.raw["audience"] or "association"
    if audience == KEEP_AUDIENCE and now is None:
        pass  # an edit that keeps the stored audience
    elif audience not in AUDIENCES:
        form.errors["audience"] = "audience"
    else:
        spec = (
            Audience(scope="association", ids=(association_id,))
            if audience == "association"
            else Audience(scope="everyone")
        )
        form.values["audience"] = spec.to_dict()
    form.values["headcount_allowed"] = bool(form.raw["headcount_allowed"])
    return form


def _texts(form: EventForm) -> None:
    raw = form.raw
    if not raw["title"]:
        form.errors["title"] = "required"
    for name, limit in LIMITS.items():
        for input_name in (name, f"{name}_en", f"{name}_easy"):
            if len(raw.get(input_name, "")) > limit:
                form.errors[input_name] = "too_long"
    category = raw["category"] or "other"
    if category not in CATEGORIES:
        form.errors["category"] = "category"
    image = raw["image_url"]
    if image and not image.startswith("https://"):
        form.errors["image_url"] = "https"  # LINE shows images from https URLs only
    form.values.update(
        title=raw["title"],
        category=category,
        description=raw["description"],
        place=raw["place"],
        image_url=image or None,
        translations=translations_from_form(raw, TRANSLATED),
    )


def _place(form: EventForm) -> None:
    lat, lng = form.raw["latitude"], form.raw["longitude"]
    if not lat and not lng:
        form.values.update(latitude=None, longitude=None)
        return
    try:
        latitude, longitude = float(lat), float(lng)
    except ValueError:
        form.errors["latitude"] = "map"
        return
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        form.errors["latitude"] = "map"
        return
    form.values.update(latitude=latitude, longitude=longitude)


def _times(form: EventForm, tz: tzinfo, now: datetime | None) -> None:
    parsed: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at", "rsvp_deadline"):
        text = form.raw[name]
        if not text:
            if name != "rsvp_deadline":
                form.errors[name] = "required"
            parsed[name] = None
            continue
        try:
            parsed[name] = _local(text, tz)
        except ValueError:
            form.errors[name] = "datetime"
    start, end, deadline = (
        parsed.get("starts_at"),
        parsed.get("ends_at"),
        parsed.get("rsvp_deadline"),
    )
    if start and end and end < start:
        form.errors["ends_at"] = "ends_before_start"
    if start and deadline and deadline > start:
        form.errors["rsvp_deadline"] = "deadline_after_start"
    if start and now is not None and start <= now:
        form.errors["starts_at"] = "past"
    form.values.update(starts_at=start, ends_at=end, rsvp_deadline=deadline)


def _capacity(form: EventForm) -> None:
    text = form.raw["capacity"]
    if not text:
        form.values["capacity"] = None
        return
    try:
        capacity = int(text)
    except ValueError:
        form.errors["capacity"] = "capacity"
        return
    if not 1 <= capacity <= MAX_CAPACITY:
        form.errors["capacity"] = "capacity"
        return
    form.values["capacity"] = capacity


def raw_of(event: Event, tz: tzinfo) -> dict[str, str]:
    """An event as the form shows it for editing."""

    def local(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        "title": event.title,
        "category": event.category,
        "description": event.description,
        "place": event.place,
        "latitude": "" if event.latitude is None else f"{event.latitude:g}",
        "longitude": "" if event.longitude is None else f"{event.longitude:g}",
        "starts_at": local(event.starts_at),
        "ends_at": local(event.ends_at),
        "capacity": "" if event.capacity is None else str(event.capacity),
        "headcount_allowed": "true" if event.headcount_allowed else "",
        "rsvp_deadline": local(event.rsvp_deadline),
        "audience": _audience_choice(event.audience, event.association_id),
        "image_url": event.image_url or "",
        "association_id": str(event.association_id or ""),
        **form_of_translations(event.translations, TRANSLATED),
    }


def _audience_choice(spec: dict[str, Any], association_id: int | None) -> str:
    """The form's choice for a stored audience; KEEP_AUDIENCE when it has no plain choice."""
    if spec.get("scope") == "everyone" and not spec.get("interest"):
        return "everyone" if not spec.get("never_participated") else KEEP_AUDIENCE
    plain = {"scope": "association", "ids": [association_id]}
    if not spec or {k: v for k, v in spec.items() if v} == plain:
        return "association"
    return KEEP_AUDIENCE
