"""RSVP in LINE: 参加 / 未定 / 不参加 on the event card, headcount by quick reply, needs, my events.

Postback actions (outside flows): `a=rsvp&e=<event>&v=going|maybe|not`,
`a=offer&o=<offer>&v=yes|no`, `a=my_events` (わたしの出欠: events and, through a hook,
volunteer shifts), `a=event_card&e=<event>`, `a=rsvp_cancel&e=<event>`, `a=events`
(`a=ack&n=<notice>` is the notices feature's); a text hook checks residents in from the
venue QR's pre-filled message. Two small flows ask the headcount and the needs note.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.conversation import engine, postback
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Invalid, Option, Say, Step
from bot.conversation.menu import main_menu
from bot.conversation.numbers import parse_count
from bot.conversation.registry import Registry
from bot.conversation.store import save_state
from bot.core import hooks
from bot.features.events import checkin as event_checkin
from bot.features.events import events, messages, rsvp
from bot.features.events.actions import (
    CancelRsvp,
    EventCard,
    MyEvents,
    OfferReply,
    RsvpTap,
    UpcomingEvents,
)
from bot.features.events.messages import event_card_say
from bot.features.events.models import Event, EventStatus, RsvpAnswer

NEEDS_CHOICES = ("wheelchair", "sign_language", "allergy")
NEEDS_MAX = 120


def register(registry: Registry) -> None:
    """Add the RSVP flows, actions and the check-in hook."""
    registry.add_flow(HEADCOUNT_FLOW)
    registry.add_flow(NEEDS_FLOW)
    registry.on(RsvpTap, on_rsvp)
    registry.on(OfferReply, on_offer)
    registry.on(MyEvents, on_my_events)
    registry.on(CancelRsvp, on_cancel)
    registry.on(EventCard, on_event_card)
    registry.on(UpcomingEvents, on_events)
    registry.code_hooks.insert(0, checkin_hook)


def _event(ctx: FlowContext, raw: str | int | None) -> Event | None:
    try:
        return events.get_event(ctx.session, event_id=int(raw or 0))
    except ValueError:
        return None


def _resident_id(ctx: FlowContext) -> int:
    return int(ctx.resident.id or 0)


def on_rsvp(ctx: FlowContext, tap: RsvpTap) -> list[Say]:
    """A tap on 参加 / 未定 / 不参加."""
    event = _event(ctx, tap.event_id)
    choice = tap.answer
    if event is None:
        return [Say("common.stale_button"), main_menu(ctx)]
    if not rsvp.is_open(event, ctx.now):
        return [Say(_closed_key(event), _info(ctx, event))]
    if not rsvp.may_answer(ctx.session, event=event, resident_id=_resident_id(ctx), choice=choice):
        return [Say("rsvp.not_invited", _info(ctx, event))]  # before asking any headcount
    if choice == "going" and event.headcount_allowed:
        return start_flow(ctx, HEADCOUNT_FLOW, {"e": str(event.id)})
    return _answer(ctx, event, choice)


def start_flow(ctx: FlowContext, flow: Flow, args: Mapping[str, str]) -> list[Say]:
    """Begin `flow` from an action, as the runner's `a=start` does."""
    outcome = engine.start(flow, ctx, ctx.now, args)
    save_state(ctx.session, str(ctx.resident.line_user_id), outcome.state, ctx.now)
    return list(outcome.replies)


def _answer(
    ctx: FlowContext, event: Event, choice: str, adults: int = 1, children: int = 0
) -> list[Say]:
    result = rsvp.answer(
        ctx.session,
        event_id=int(event.id or 0),
        resident_id=_resident_id(ctx),
        choice=choice,
        adults=adults,
        children=children,
        now=ctx.now,
        offer_for=offer_time(ctx),
    )
    tell_offers(ctx, event, result)
    return result_says(ctx, event, result)


def offer_time(ctx: FlowContext) -> timedelta:
    """How long a freed place is held for the next on the waitlist (a setting)."""
    return timedelta(hours=ctx.settings.rsvp_offer_hours)


def result_says(ctx: FlowContext, event: Event, result: rsvp.RsvpResult) -> list[Say]:
    """What to tell the resident about their answer."""
    info = _info(ctx, event)
    if result.status in ("closed", "not_open"):
        return [Say(_closed_key(event), info)]
    if result.status == "not_invited":
        return [Say("rsvp.not_invited", info)]
    if result.status == "invalid":
        return [Say("rsvp.invalid", info)]
    if result.status == "full":
        return [Say("rsvp.full", info)]
    if result.status == "waitlisted":
        return [Say("rsvp.waitlisted", {**info, "position": result.position})]
    answer = result.rsvp.answer if result.rsvp else RsvpAnswer.NOT
    if answer == RsvpAnswer.GOING:
        party = result.rsvp.party if result.rsvp else 1
        needs = Option(
            "rsvp.needs_chip", postback.encode(a="start", f=NEEDS_FLOW.name, e=event.id or 0)
        )
        mine = Option("rsvp.my_events_chip", MyEvents().encode())
        return [Say("rsvp.going_saved", {**info, "party": party}, (needs, mine))]
    return [Say(f"rsvp.{answer}_saved", info)]


def _closed_key(event: Event) -> str:
    return "rsvp.cancelled_event" if event.status == "cancelled" else "rsvp.closed"


def _info(ctx: FlowContext, event: Event) -> dict[str, Any]:
    return messages.describe(event, ctx.content, ctx.locale)


def tell_offers(ctx: FlowContext, event: Event, result: rsvp.RsvpResult) -> None:
    """Tell the residents an answer offered freed places to."""
    if result.offers:
        messages.tell_offers(ctx.notifier, ctx.session, ctx.now, event, result.offers)


def on_offer(ctx: FlowContext, reply: OfferReply) -> list[Say]:
    """Take or decline a place offered from the waitlist."""
    result = rsvp.respond_to_offer(
        ctx.session,
        offer_id=reply.offer_id,
        resident_id=_resident_id(ctx),
        accept=reply.answer == "yes",
        now=ctx.now,
        offer_for=offer_time(ctx),
    )
    event = _event(ctx, result.rsvp.event_id) if result.rsvp else None
    if event is None:
        return [Say("common.stale_button"), main_menu(ctx)]
    tell_offers(ctx, event, result)
    if result.status == "expired":
        return [Say("rsvp.offer_too_late", _info(ctx, event))]
    if reply.answer == "yes":
        return [Say("rsvp.offer_taken", _info(ctx, event))]
    return [Say("rsvp.offer_declined", _info(ctx, event))]


MY_THINGS_SHOWN = 6  # two chips each (変更, 取消): twelve of LINE's thirteen quick replies


def on_my_events(ctx: FlowContext, _tap: MyEvents) -> list[Say]:
    """わたしの出欠: events answered and volunteer shifts taken, numbered, each with chips to
    change or cancel it by its number; with nothing yet, what the resident can do next."""
    found = hooks.ask_resident_commitments(
        ctx.session, _resident_id(ctx), ctx.now, ctx.content, ctx.locale, ctx.settings.tz
    )
    if not found:
        return [main_menu(ctx, "rsvp.my_events_none")]
    shown = found[:MY_THINGS_SHOWN]
    lines = [
        ctx.content.text("rsvp.my_things_item", ctx.locale, n=n, line=one.line)
        for n, one in enumerate(shown, 1)
    ]
    if len(found) > len(shown):
        lines.append(
            ctx.content.text("rsvp.my_things_more", ctx.locale, more=len(found) - len(shown))
        )
    chips: list[Option] = []
    for n, one in enumerate(shown, 1):
        if one.change:
            chips.append(Option("rsvp.change_chip_n", one.change, label_params={"n": n}))
        if one.cancel:
            chips.append(Option("rsvp.cancel_chip_n", one.cancel, label_params={"n": n}))
    return [Say("rsvp.my_events", {"events": "\n".join(lines)}, tuple(chips))]


def on_event_card(ctx: FlowContext, tap: EventCard) -> list[Say]:
    """変更 from わたしの出欠: the event's card again, to answer 参加 / 未定 / 不参加 anew."""
    event = _event(ctx, tap.event_id)
    if event is None or event.status != EventStatus.PUBLISHED:
        return [Say("common.stale_button"), main_menu(ctx)]
    return [event_card_say(event, ctx.content, ctx.locale, ctx.settings.public_base_url)]


def on_cancel(ctx: FlowContext, tap: CancelRsvp) -> list[Say]:
    """Cancel from the menu: the answer becomes 不参加 and the place is offered on."""
    event = _event(ctx, tap.event_id)
    if event is None:
        return [Say("common.stale_button"), main_menu(ctx)]
    result = rsvp.answer(
        ctx.session,
        event_id=int(event.id or 0),
        resident_id=_resident_id(ctx),
        choice="not",
        now=ctx.now,
        offer_for=offer_time(ctx),
    )
    tell_offers(ctx, event, result)
    if result.status != "saved":
        return result_says(ctx, event, result)
    return [Say("rsvp.cancelled", _info(ctx, event))]


def on_events(ctx: FlowContext, _tap: UpcomingEvents) -> list[Say]:
    """Upcoming events the resident is invited to, as cards (up to four) to answer from."""
    found = events.open_for_resident(ctx.session, resident_id=_resident_id(ctx), now=ctx.now)
    if not found:
        return [Say("rsvp.no_events"), main_menu(ctx, "menu.after_cancel")]
    base = ctx.settings.public_base_url
    return [
        Say("rsvp.events_intro"),
        *(event_card_say(e, ctx.content, ctx.locale, base) for e in found),
    ]


def checkin_hook(ctx: FlowContext, given: FlowInput) -> list[Say] | None:
    """A message holding a venue check-in code marks the resident present."""
    if given.kind != "text":
        return None
    code = event_checkin.find_checkin_code(given.text)
    if code is None:
        return None
    result = event_checkin.check_in_by_code(
        ctx.session, code=code, resident_id=_resident_id(ctx), now=ctx.now
    )
    if result.event is None:
        return [Say("events.checkin_unknown")]
    return [Say(f"events.checkin_{result.status}", _info(ctx, result.event))]


# --- headcount flow -----------------------------------------------------------------------


def _initial(ctx: FlowContext, args: Mapping[str, str]) -> Data:
    return {"event": int(args.get("e", "0") or 0)}


def _flow_event(data: Data, ctx: FlowContext) -> Event:
    event = events.get_event(ctx.session, event_id=int(data.get("event", 0)))
    if event is None:
        raise Invalid("common.stale_button")
    return event


def _adult_options(data: Data, ctx: FlowContext) -> list[Option]:
    limit = _flow_event(data, ctx).max_party
    return [
        Option("rsvp.count_option", str(n), label_params={"n": n})
        for n in range(1, min(limit, 12) + 1)
    ]


def _child_options(data: Data, ctx: FlowContext) -> list[Option]:
    left = _flow_event(data, ctx).max_party - int(data.get("adults", 1))
    return [
        Option("rsvp.count_option", str(n), label_params={"n": n})
        for n in range(0, min(left, 12) + 1)
    ]


def _typed_count(options: Any) -> Any:
    """A count step's parse: a typed count (「ふたり」, 2人, two) that a chip offers."""

    def parse(given: FlowInput, data: Data, ctx: FlowContext) -> str:
        count = parse_count(given.text) if given.kind == "text" else None
        if count is None or str(count) not in {o.value for o in options(data, ctx)}:
            raise Invalid("common.choose_option")
        return str(count)

    return parse


def _title_params(data: Data, ctx: FlowContext) -> Mapping[str, Any]:
    return {"title": _flow_event(data, ctx).title}


def _headcount_done(ctx: FlowContext, data: Data) -> list[Say]:
    event = _flow_event(data, ctx)
    return _answer(ctx, event, "going", int(data["adults"]), int(data.get("children", 0)))


HEADCOUNT_FLOW = Flow(
    name="rsvp_count",
    steps=(
        Step(
            "adults",
            "rsvp.ask_adults",
            options=_adult_options,
            parse=_typed_count(_adult_options),
            next="children",
            prompt_params=_title_params,
            help_key="rsvp.help_count",
        ),
        Step(
            "children",
            "rsvp.ask_children",
            options=_child_options,
            parse=_typed_count(_child_options),
            prompt_params=_title_params,
            help_key="rsvp.help_count",
        ),
    ),
    on_complete=_headcount_done,
    ttl=timedelta(minutes=30),
    initial=_initial,
)


# --- needs flow ---------------------------------------------------------------------------


def _needs_options(data: Data, ctx: FlowContext) -> list[Option]:
    return [Option(f"rsvp.needs.{name}", name) for name in NEEDS_CHOICES]


def _parse_needs(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    text = given.text.strip()
    if not text:
        raise Invalid("rsvp.needs_empty")
    return text[:NEEDS_MAX]


def _needs_done(ctx: FlowContext, data: Data) -> list[Say]:
    event = _flow_event(data, ctx)
    value = str(data["needs"])
    note = ctx.content.text(f"rsvp.needs.{value}", "ja") if value in NEEDS_CHOICES else value
    saved = rsvp.set_needs(
        ctx.session,
        event_id=int(event.id or 0),
        resident_id=_resident_id(ctx),
        needs=note,
        now=ctx.now,
    )
    return [Say("rsvp.needs_saved" if saved else "rsvp.closed", _info(ctx, event))]


NEEDS_FLOW = Flow(
    name="rsvp_needs",
    steps=(
        Step(
            "needs",
            "rsvp.ask_needs",
            options=_needs_options,
            parse=_parse_needs,
            max_text_length=NEEDS_MAX,
            help_key="rsvp.help_needs",
        ),
    ),
    on_complete=_needs_done,
    ttl=timedelta(minutes=30),
    initial=_initial,
)
