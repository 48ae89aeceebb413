"""A short LINE flow for an officer to create a simple event (the staff web does the rest).

title → category → start (typed: 12/1 10:00) → duration → place → capacity → headcount →
publish or keep as a draft. Only officers may start it; the event belongs to their first
association and invites its members.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Invalid, Option, Say, Step
from bot.conversation.registry import Registry
from bot.core import hooks
from bot.core.audience import Audience
from bot.core.models.membership import Officer
from bot.core.when import when_text
from bot.features.events import events
from bot.features.events.messages import event_card_say

CATEGORIES = ("festival", "drill", "cleanup", "cafe", "course", "meeting", "other")
DURATIONS = ("1", "2", "3", "4")
CAPACITIES = ("none", "10", "20", "30", "50")
_DATE = re.compile(r"(?:(\d{4})[/\-年])?(\d{1,2})[/\-月](\d{1,2})日?\s*(\d{1,2})[:時](\d{2})?")


def register(registry: Registry) -> None:
    """Add the organiser flow (started from the officer menu)."""
    registry.add_flow(FLOW)


def _officer_association(ctx: FlowContext) -> int | None:
    """The first association the resident is a live officer of."""
    link = ctx.session.exec(
        select(Officer)
        .where(Officer.resident_id == int(ctx.resident.id or 0), col(Officer.revoked_at).is_(None))
        .order_by(col(Officer.id))
    ).first()
    return link.association_id if link else None


def _initial(ctx: FlowContext, args: Any) -> Data:
    return {"association": _officer_association(ctx)}


def _parse_title(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    if data.get("association") is None:
        raise Invalid("organiser.officers_only")
    title = given.text.strip()
    if not 2 <= len(title) <= 60:
        raise Invalid("organiser.title_length")
    return title


def parse_start(text: str, now: datetime, tz: Any) -> datetime:
    """'12/1 10:00', '12月1日 10時', '2026-12-01 10:00' in local time → UTC (next such date)."""
    match = _DATE.search(unicodedata.normalize("NFKC", text))
    if match is None:
        raise Invalid("organiser.start_format")
    year, month, day, hour, minute = (int(g) if g else None for g in match.groups())
    local_now = now.astimezone(tz)
    try:
        moment = datetime(
            year or local_now.year, month or 1, day or 1, hour or 0, minute or 0, tzinfo=tz
        )
    except ValueError:
        raise Invalid("organiser.start_format") from None
    if year is None and moment < local_now:
        moment = moment.replace(year=moment.year + 1)
    if moment <= local_now:
        raise Invalid("organiser.start_past")
    return moment.astimezone(UTC)


def _parse_start(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    return parse_start(given.text, ctx.now, ctx.settings.tz).isoformat()


def _parse_place(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    place = given.text.strip()
    if not place:
        raise Invalid("organiser.place_empty")
    return place[:100]


def _parse_capacity(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    text = unicodedata.normalize("NFKC", given.text).strip()
    if not text.isdigit() or not 1 <= int(text) <= 5000:
        raise Invalid("organiser.capacity_number")
    return text


def _options(prefix: str, values: tuple[str, ...]) -> tuple[Option, ...]:
    return tuple(Option(f"organiser.{prefix}.{v}", v) for v in values)


def _summary(data: Data, ctx: FlowContext) -> dict[str, Any]:
    start = datetime.fromisoformat(str(data["start"]))
    end = start + timedelta(hours=int(data["duration"]))
    capacity = data["capacity"]
    return {
        "title": data["title"],
        "when": when_text(start, end, ctx.content, ctx.locale),
        "place": data["place"],
        "capacity": ctx.content.text("organiser.capacity.none", ctx.locale)
        if capacity == "none"
        else capacity,
    }


def _done(ctx: FlowContext, data: Data) -> list[Say]:
    association = data.get("association")
    if association is None:
        return [Say("organiser.officers_only")]
    start = datetime.fromisoformat(str(data["start"]))
    event = events.create_event(
        ctx.session,
        title=str(data["title"]),
        starts_at=start,
        ends_at=start + timedelta(hours=int(data["duration"])),
        now=ctx.now,
        publish=data["confirm"] == "publish",
        category=str(data["category"]),
        place=str(data["place"]),
        association_id=int(association),
        capacity=None if data["capacity"] == "none" else int(data["capacity"]),
        headcount_allowed=data["headcount"] == "yes",
        audience=Audience("association", (int(association),)).to_dict(),
        organiser_resident_id=ctx.resident.id,
    )
    base = ctx.settings.public_base_url
    card = event_card_say(event, ctx.content, ctx.locale, base)
    if data["confirm"] != "publish":
        return [Say("organiser.drafted", {"title": event.title}), card]
    # The announcement is a notice (the notices feature's): asked through a hook.
    invited = hooks.ask_announce_event(
        ctx.session,
        int(event.id or 0),
        ctx.notifier,
        ctx.now,
        base,
        ctx.resident.id,
    )
    return [Say("organiser.published", {"title": event.title, "count": invited or 0}), card]


FLOW = Flow(
    name="new_event",
    steps=(
        Step("title", "organiser.ask_title", parse=_parse_title, next="category"),
        Step(
            "category",
            "organiser.ask_category",
            options=_options("category", CATEGORIES),
            next="start",
        ),
        Step(
            "start",
            "organiser.ask_start",
            parse=_parse_start,
            next="duration",
            help_key="organiser.help_start",
        ),
        Step(
            "duration",
            "organiser.ask_duration",
            options=_options("duration", DURATIONS),
            next="place",
        ),
        Step("place", "organiser.ask_place", parse=_parse_place, next="capacity"),
        Step(
            "capacity",
            "organiser.ask_capacity",
            options=_options("capacity", CAPACITIES),
            parse=_parse_capacity,
            next="headcount",
        ),
        Step(
            "headcount",
            "organiser.ask_headcount",
            options=_options("headcount", ("yes", "no")),
            next="confirm",
        ),
        Step(
            "confirm",
            "organiser.confirm_prompt",
            prompt_params=_summary,
            options=_options("confirm", ("publish", "draft")),
        ),
    ),
    on_complete=_done,
    ttl=timedelta(minutes=30),
    initial=_initial,
)
