"""A safety check in LINE: one tap answers for the household, then people and a note.

  bot: 【安否確認】地震がありました。ご家族はご無事ですか？ [無事] [助けが必要] [不在・避難中]
  住民: [無事]   → bot: 「無事」と記録しました。何人ですか？ [1人] [2人] … [メモを送る]
  住民: [3人]    → bot: 3人と記録しました。
  住民: [メモを送る] → bot: メモを書いてください → 住民: 足をけがした → bot: 記録しました。

Anyone of the household may answer; the last answer counts (buttons stay tappable, so a
household that answered 無事 and then needs help taps again). Postbacks are typed
(`sa`, `sp`); the note is a one-step flow started with the check's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from bot.conversation import postback
from bot.conversation.actions import Action, wire
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Invalid, Option, Say, Step
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.features.safety import checks
from bot.features.safety.checks import SafetyError

NOTE_FLOW = "safety_note"
PEOPLE_CHIPS = 6


@dataclass(frozen=True)
class SafetyAnswer(Action, prefix="sfa"):
    """無事 / 助けが必要 / 不在・避難中 on a check's message."""

    check_id: int = wire("c")
    state: str = wire("s", choices=("safe", "help", "away"))


@dataclass(frozen=True)
class SafetyPeople(Action, prefix="sfp"):
    """How many people the household's answer speaks for."""

    check_id: int = wire("c")
    people: int = wire("n")


def register(registry: Registry) -> None:
    """Add the answer buttons, the people chips and the note flow."""
    registry.on(SafetyAnswer, on_answer)
    registry.on(SafetyPeople, on_people)
    registry.add_flow(NOTE)


def on_answer(ctx: FlowContext, tap: SafetyAnswer) -> list[Say]:
    """Record the household's answer (replacing an earlier one) and offer people and note."""
    try:
        checks.answer(
            ctx.session,
            check_id=tap.check_id,
            resident_id=int(ctx.resident.id or 0),
            state=tap.state,
            now=ctx.now,
        )
    except SafetyError:
        return [with_menu(ctx, "safety.closed")]
    return recorded(tap.check_id, tap.state)


def recorded(check_id: int, state: str) -> list[Say]:
    """The reply to a recorded answer: its words, and chips for people and a note."""
    return [_recorded(check_id, state)]


@lru_cache(maxsize=64)  # in a surge, thousands of answers to one check get one of 3 replies
def _recorded(check_id: int, state: str) -> Say:
    people = tuple(
        Option("safety.people_option", SafetyPeople(check_id, n).encode(), label_params={"n": n})
        for n in range(1, PEOPLE_CHIPS + 1)
    )
    note = Option("safety.add_note", postback.encode(a="start", f=NOTE_FLOW, c=check_id))
    return Say(f"safety.recorded.{state}", options=(*people, note))


def on_people(ctx: FlowContext, tap: SafetyPeople) -> list[Say]:
    """The number of people with the answer."""
    try:
        checks.set_people(
            ctx.session,
            check_id=tap.check_id,
            resident_id=int(ctx.resident.id or 0),
            people=tap.people,
            now=ctx.now,
        )
    except SafetyError:
        return [with_menu(ctx, "safety.closed")]
    note = Option("safety.add_note", postback.encode(a="start", f=NOTE_FLOW, c=tap.check_id))
    return [Say("safety.people_saved", {"n": tap.people}, options=(note,))]


def _initial(ctx: FlowContext, args: Mapping[str, str]) -> Data:
    raw = str(args.get("c", ""))
    return {"check": int(raw) if raw.isdigit() else 0}


def _parse_note(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    text = " ".join(given.text.split())
    if not text:
        raise Invalid("safety.note_empty")
    return text


def _note_done(ctx: FlowContext, data: Data) -> list[Say]:
    try:
        checks.set_note(
            ctx.session,
            check_id=int(data.get("check") or 0),
            resident_id=int(ctx.resident.id or 0),
            note=str(data.get("note") or ""),
            now=ctx.now,
        )
    except SafetyError:
        return [with_menu(ctx, "safety.closed")]
    return [Say("safety.note_saved")]


NOTE = Flow(
    name=NOTE_FLOW,
    steps=(
        Step(
            "note",
            "safety.ask_note",
            parse=_parse_note,
            next=None,
            help_key="safety.help_note",
            max_text_length=checks.MAX_NOTE,
        ),
    ),
    on_complete=_note_done,
    ttl=timedelta(minutes=30),
    initial=_initial,
)
