"""Volunteering in LINE: the profile conversation, browse and sign up, answers to asks, points.

Postback actions (outside flows): `a=volunteer` (the hub), `a=vo&o=<offer>&v=yes|no`,
`a=vbrowse`, `a=vsign&s=<slot>`, `a=vpause&v=1|0`, `a=vpoints` (points and the shifts to come,
each with a cancel chip), `a=vcancel&o=<offer>[&c=1|0]` (confirm, then cancel or keep).
Typing the pause chip's words (しばらくお休み) pauses too. The profile flow asks interests,
skills and free times (several chips each, then 決定), a monthly cap and how far; `edit=1`
asks only one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from bot.content import LOCALES
from bot.conversation import postback
from bot.conversation.chain import start_flow
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Option, Say, Step
from bot.conversation.menu import main_menu
from bot.conversation.registry import Registry
from bot.features.volunteers import cancel as volunteer_cancel
from bot.features.volunteers import messages, volunteers
from bot.features.volunteers import shifts as volunteer_shifts
from bot.features.volunteers.actions import (
    Browse,
    CancelShift,
    Hub,
    OfferAnswer,
    Pause,
    Points,
    SignUp,
)
from bot.features.volunteers.catalog import load_catalog
from bot.features.volunteers.models import Bucket, Reach, VolunteerProfile
from bot.features.volunteers.tells import Tell

FLOW_NAME = "volunteer_profile"
MULTI = {"interests": "sel_interests", "skills": "sel_skills", "availability": "sel_times"}
FIELDS = ("interests", "skills", "availability", "frequency", "reach")
FREQUENCIES = ("1", "2", "4")
DONE = "done"


def register(registry: Registry) -> None:
    """Add the profile flow, the volunteering actions and the pause words."""
    registry.add_flow(PROFILE_FLOW)
    registry.on(Hub, on_hub)
    registry.on(OfferAnswer, on_offer)
    registry.on(Browse, on_browse)
    registry.on(SignUp, on_sign_up)
    registry.on(Pause, on_pause)
    registry.on(Points, on_points)
    registry.on(CancelShift, on_cancel)
    registry.text_hooks.append(pause_hook)


def _rid(ctx: FlowContext) -> int:
    return int(ctx.resident.id or 0)


def _tell(ctx: FlowContext, told: Iterable[Tell]) -> None:
    """Push what a service says to tell (the next asks, a filled slot, the organiser)."""
    told = list(told)
    if told:
        messages.tell(ctx.notifier, ctx.session, ctx.now, told)


def _chip(key: str, **fields: str | int) -> Option:
    return Option(key, postback.encode(**fields))


# --- hub ----------------------------------------------------------------------------------


def on_hub(ctx: FlowContext, _tap: Hub) -> list[Say]:
    """The volunteering menu: a summary of the profile, or the profile conversation."""
    profile = volunteers.get_profile(ctx.session, _rid(ctx))
    if profile is None:
        return [Say("volunteer.intro"), *start_flow(ctx, PROFILE_FLOW, {})]
    return [hub_say(ctx, profile, "volunteer.hub")]


def hub_say(ctx: FlowContext, profile: VolunteerProfile, key: str) -> Say:
    """`key` with the profile summary and the volunteering chips."""
    pause = (
        Option("volunteer.resume_chip", Pause("0").encode())
        if profile.paused
        else Option("volunteer.pause_chip", Pause("1").encode())
    )
    chips = (
        Option("volunteer.browse_chip", Browse().encode()),
        _chip("volunteer.edit_chip", a="start", f=FLOW_NAME, edit=1),
        pause,
        Option("volunteer.points_chip", Points().encode()),
    )
    return Say(key, summary(ctx, profile), chips)


def summary(ctx: FlowContext, profile: VolunteerProfile) -> dict[str, Any]:
    """The profile in words, for the hub and the saved message."""
    text = ctx.content.text
    loc = ctx.locale
    none = text("volunteer.none", loc)
    return {
        "interests": ctx.content.join(
            (text(f"volunteer.tags.{t}", loc) for t in profile.interests), loc
        )
        or none,
        "skills": ctx.content.join(
            (text(f"volunteer.skills.{s}", loc) for s in profile.skills), loc
        )
        or none,
        "times": ctx.content.join(
            (text(f"volunteer.times.{b}", loc) for b in profile.availability), loc
        )
        or none,
        "cap": profile.max_per_month,
        "reach": text(f"volunteer.reach.{profile.reach}", loc),
        "state": text(
            "volunteer.state_paused" if profile.paused else "volunteer.state_active", loc
        ),
    }


# --- asks, browsing, sign-up, pause, points -----------------------------------------------


def answer_says(ctx: FlowContext, answer: volunteers.Answer, accepted_key: str) -> list[Say]:
    """Word the outcome of an accept, decline or sign-up."""
    if answer.slot is None or answer.opportunity is None or answer.status == "stale":
        return [Say("common.stale_button"), main_menu(ctx)]
    info = messages.slot_info(
        answer.slot, answer.opportunity, ctx.content, ctx.locale, ctx.settings.tz
    )
    if answer.status == "no_profile":
        return on_hub(ctx, Hub())
    key = {
        "accepted": accepted_key,
        "declined": "volunteer.declined",
        "expired": "volunteer.offer_expired",
        "full": "volunteer.slot_full",
        "over_cap": "volunteer.over_cap",
        "already": "volunteer.already",
    }[answer.status]
    return [Say(key, {**info, "cap": answer.cap})]


def on_offer(ctx: FlowContext, tap: OfferAnswer) -> list[Say]:
    """引き受ける / 今回は見送る on an ask."""
    answer = volunteers.respond(
        ctx.session,
        offer_id=tap.offer_id,
        resident_id=_rid(ctx),
        accept=tap.answer == "yes",
        now=ctx.now,
        settings=ctx.settings,
    )
    _tell(ctx, answer.tells)
    return answer_says(ctx, answer, "volunteer.accepted")


def on_browse(ctx: FlowContext, _tap: Browse) -> list[Say]:
    """Open slots that fit the resident, each with a sign-up chip."""
    profile = volunteers.get_profile(ctx.session, _rid(ctx))
    if profile is None:
        return on_hub(ctx, Hub())
    found = volunteers.browse(ctx.session, _rid(ctx), ctx.now)
    if not found:
        return [
            Say(
                "volunteer.browse_none",
                options=(_chip("volunteer.edit_chip", a="start", f=FLOW_NAME, edit=1),),
            )
        ]
    lines, chips = [], []
    for n, (slot, opportunity) in enumerate(found, start=1):
        info = messages.slot_info(slot, opportunity, ctx.content, ctx.locale, ctx.settings.tz)
        lines.append(
            ctx.content.text(
                "volunteer.browse_line", ctx.locale, n=n, left=slot.needed - slot.filled, **info
            )
        )
        chips.append(
            Option(
                "volunteer.signup_chip",
                SignUp(slot.id or 0).encode(),
                label_params={"n": n},
            )
        )
    return [Say("volunteer.browse", {"slots": "\n".join(lines)}, tuple(chips))]


def on_sign_up(ctx: FlowContext, tap: SignUp) -> list[Say]:
    """Take a place found by browsing."""
    try:
        answer = volunteers.sign_up(
            ctx.session,
            slot_id=tap.slot_id,
            resident_id=_rid(ctx),
            now=ctx.now,
            settings=ctx.settings,
        )
    except ValueError:
        return [Say("common.stale_button"), main_menu(ctx)]
    _tell(ctx, answer.tells)
    return answer_says(ctx, answer, "volunteer.signed_up")


def on_pause(ctx: FlowContext, tap: Pause) -> list[Say]:
    """しばらくお休み (v=1) or 再開 (v=0)."""
    paused = tap.paused == "1"
    told = volunteers.set_paused(ctx.session, _rid(ctx), paused, ctx.now, settings=ctx.settings)
    if told is None:
        return on_hub(ctx, Hub())
    _tell(ctx, told)
    profile = volunteers.get_profile(ctx.session, _rid(ctx))
    assert profile is not None
    return [hub_say(ctx, profile, "volunteer.paused" if paused else "volunteer.resumed")]


def pause_hook(ctx: FlowContext, given: FlowInput) -> list[Say] | None:
    """Typing しばらくお休み (the pause chip's words, any locale) pauses the profile."""
    if given.kind != "text":
        return None
    words = {ctx.content.text("volunteer.pause_chip", loc) for loc in LOCALES}
    if given.text.strip() not in words:
        return None
    return on_pause(ctx, Pause("1"))


def on_points(ctx: FlowContext, _tap: Points) -> list[Say]:
    """地域活動ポイント, hours, and the shifts still to come, each with a cancel chip."""
    totals = volunteer_shifts.points_of(ctx.session, _rid(ctx))
    upcoming = volunteers.commitments(ctx.session, _rid(ctx), ctx.now)[:5]
    lines = [
        ctx.content.text("volunteer.upcoming_line", ctx.locale, n=n, **_info(ctx, s, o))
        for n, (_v, s, o) in enumerate(upcoming, 1)
    ]
    upcoming_text = "\n".join(lines) or ctx.content.text("volunteer.none", ctx.locale)
    cancels = [
        Option(
            "volunteer.cancel_chip",
            CancelShift(v.id or 0).encode(),
            label_params={"n": n},
        )
        for n, (v, s, _o) in enumerate(upcoming, 1)
        if s.starts_at > ctx.now
    ]
    return [
        Say(
            "volunteer.points",
            {
                "points": totals.points,
                "hours": totals.hours,
                "shifts": totals.shifts,
                "upcoming": upcoming_text,
            },
            (Option("volunteer.browse_chip", Browse().encode()), *cancels),
        )
    ]


def _info(ctx: FlowContext, slot: Any, opportunity: Any) -> dict[str, Any]:
    return messages.slot_info(slot, opportunity, ctx.content, ctx.locale, ctx.settings.tz)


def on_cancel(ctx: FlowContext, tap: CancelShift) -> list[Say]:
    """Give back an accepted shift: `c` absent asks to confirm, `c=1` cancels, `c=0` keeps."""
    offer_id = tap.offer_id
    found = volunteer_cancel.accepted_offer(ctx.session, offer_id=offer_id, resident_id=_rid(ctx))
    if found is None:
        return [Say("common.stale_button"), main_menu(ctx)]
    _offer, slot, opportunity = found
    info = _info(ctx, slot, opportunity)
    if tap.confirm == "0":
        return [Say("volunteer.cancel_kept", info)]
    if tap.confirm != "1":
        late = volunteer_cancel.is_late(slot, ctx.now, ctx.settings)
        hours = ctx.settings.volunteer_late_cancel_hours
        chips = (
            Option("volunteer.cancel_yes_chip", CancelShift(offer_id, "1").encode()),
            Option("volunteer.cancel_no_chip", CancelShift(offer_id, "0").encode()),
        )
        key = "volunteer.cancel_confirm_late" if late else "volunteer.cancel_confirm"
        return [Say(key, {**info, "hours": f"{hours:g}"}, chips)]
    done = volunteer_cancel.cancel_place(
        ctx.session, offer_id=offer_id, resident_id=_rid(ctx), now=ctx.now, settings=ctx.settings
    )
    _tell(ctx, done.tells)
    done_key = {
        "cancelled": "volunteer.cancelled",
        "late": "volunteer.cancelled_late",
        "started": "volunteer.cancel_started",
    }.get(done.status)
    if done_key is None:
        return [Say("common.stale_button"), main_menu(ctx)]
    return [Say(done_key, info)]


# --- the profile conversation -------------------------------------------------------------


def _initial(ctx: FlowContext, args: Mapping[str, str]) -> Data:
    profile = volunteers.get_profile(ctx.session, _rid(ctx))
    data: Data = {
        "editing": args.get("edit") == "1" and profile is not None,
        "sel_interests": [],
        "sel_skills": [],
        "sel_times": [],
    }
    if profile is not None:
        data.update(
            sel_interests=list(profile.interests),
            sel_skills=list(profile.skills),
            sel_times=list(profile.availability),
            frequency=str(profile.max_per_month),
            reach=profile.reach,
        )
    return data


def _codes(step: str, ctx: FlowContext) -> tuple[str, ...]:
    catalog = load_catalog(ctx.content.root)
    return {
        "interests": catalog.interests,
        "skills": catalog.skills,
        "availability": tuple(b.value for b in Bucket),
    }[step]


def _label_key(step: str, code: str) -> str:
    group = {"interests": "tags", "skills": "skills", "availability": "times"}[step]
    return f"volunteer.{group}.{code}"


def _multi_options(step: str) -> Callable[[Data, Any], list[Option]]:
    def options(data: Data, ctx: FlowContext) -> list[Option]:
        chosen = set(data.get(MULTI[step], []))
        chips = []
        for code in _codes(step, ctx):
            if code in chosen:
                name = ctx.content.text(_label_key(step, code), ctx.locale)
                chips.append(Option("volunteer.chosen_chip", code, label_params={"name": name}))
            else:
                chips.append(Option(_label_key(step, code), code))
        return [*chips, Option("volunteer.done_chip", DONE)]

    return options


def _multi_prompt(step: str) -> Callable[[Data, Any], Mapping[str, Any]]:
    def params(data: Data, ctx: FlowContext) -> Mapping[str, Any]:
        names = [
            ctx.content.text(_label_key(step, c), ctx.locale) for c in data.get(MULTI[step], [])
        ]
        return {
            "chosen": ctx.content.join(names, ctx.locale)
            or ctx.content.text("volunteer.none", ctx.locale)
        }

    return params


def _multi_next(step: str, following: str, required: bool) -> Callable[[Any, Data], str | None]:
    """Toggle the tapped code and ask again; on 決定, move on (or finish when editing)."""

    def nxt(answer: Any, data: Data) -> str | None:
        key = MULTI[step]
        chosen = list(data.get(key, []))
        if answer != DONE:
            chosen = [c for c in chosen if c != answer] if answer in chosen else [*chosen, answer]
            data[key] = chosen
            return step
        if required and not chosen:
            return step
        return None if data.get("editing") else following

    return nxt


def _then(following: str | None) -> Callable[[Any, Data], str | None]:
    return lambda _answer, data: None if data.get("editing") else following


def _multi_step(name: str, following: str, required: bool) -> Step:
    return Step(
        name,
        f"volunteer.ask_{name}",
        options=_multi_options(name),
        next=_multi_next(name, following, required),
        prompt_params=_multi_prompt(name),
        help_key="volunteer.help_multi",
    )


def _save(ctx: FlowContext, data: Data) -> list[Say]:
    given = volunteers.ProfileInput(
        interests=data["sel_interests"],
        skills=data["sel_skills"],
        availability=data["sel_times"],
        max_per_month=int(data["frequency"]),
        reach=str(data["reach"]),
    )
    profile = volunteers.save_profile(ctx.session, _rid(ctx), given, ctx.now)
    replies = [hub_say(ctx, profile, "volunteer.saved")]
    if profile.ward_id is None:
        replies.insert(0, Say("volunteer.saved_no_area"))
    return replies


PROFILE_FLOW = Flow(
    name=FLOW_NAME,
    steps=(
        Step(
            "field",
            "volunteer.ask_field",
            options=tuple(Option(f"volunteer.field.{f}", f) for f in FIELDS),
            next=lambda answer, data: answer if data.get("editing") else "interests",
            skip_if=lambda data, ctx: not data.get("editing"),
        ),
        _multi_step("interests", "skills", required=True),
        _multi_step("skills", "availability", required=False),
        _multi_step("availability", "frequency", required=True),
        Step(
            "frequency",
            "volunteer.ask_frequency",
            options=tuple(Option(f"volunteer.frequency.{n}", n) for n in FREQUENCIES),
            next=_then("reach"),
            help_key="volunteer.help_frequency",
        ),
        Step(
            "reach",
            "volunteer.ask_reach",
            options=tuple(Option(f"volunteer.reach.{r.value}", r.value) for r in Reach),
            next=_then(None),
            help_key="volunteer.help_reach",
        ),
    ),
    on_complete=_save,
    ttl=timedelta(minutes=30),
    initial=_initial,
)
