"""班長 in LINE: a notice's worklist, the households of my 班 it has not reached, each ticked
with one tap.

  班長: [班の名簿] → [お知らせの配布] → bot: どのお知らせ？ [ごみ集積所の清掃] …
  班長: [ごみ集積所の清掃]  → bot: 1班でまだ届いていない家：3軒 [101 山田] [102 佐藤] …
  班長: [101 山田]          → bot: 101 山田 を「紙で配った」と記録しました。残り2軒 [102 佐藤] …

A household reached on LINE (acknowledged, or delivered) drops off the list by itself; a tap
is a paper tick of that household (bot/features/notices/paper_rounds.py), so it counts in
the notice's coverage at once. The list is the 班's as it is now: when the 班長 changes in
April, the new 班長 sees it and the old one no longer does. Only the 班長 sees names and rooms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.conversation.actions import Action, wire
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, Option, Say, Step
from bot.conversation.leader_flows import (
    cannot_start,
    initial_with,
    leader_of,
    nothing_to_pick,
)
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.core import audit
from bot.core.models.han import HanLeader
from bot.core.models.households import Household
from bot.features.notices import paper_rounds
from bot.features.notices.paper_rounds import PaperError

WORKLIST = "hancho_worklist"
CHIPS = 13  # LINE's quick replies at most
LABEL = 20  # a quick reply's label


@dataclass(frozen=True)
class WorkTick(Action, prefix="wk"):
    """One household of the 班長's worklist handed the paper copy of a notice."""

    notice_id: int = wire("n")
    household_id: int = wire("h")


def register(registry: Registry) -> None:
    """Add the worklist flow (from the 班長's household menu) and its one-tap ticks."""
    registry.add_flow(WORKLIST_FLOW)
    registry.on(WorkTick, on_tick)


def _notice_options(data: Data, ctx: FlowContext) -> list[Option]:
    leader = leader_of(ctx)
    if leader is None:
        return []
    found = paper_rounds.recent_notices(ctx.session, association_id=leader.association_id)
    return [Option("hancho.item", str(n.id), label=n.title) for n in found]


def chip_label(household: Household) -> str:
    """What the 班長 reads on a chip: room or address and the contact's name, shortened."""
    text = " ".join(p for p in (household.address, household.contact_name) if p)
    return text[:LABEL] or f"{household.han}-{household.id}"


def worklist_say(
    ctx: FlowContext, leader: HanLeader, notice_id: int, key: str, params: dict[str, object]
) -> Say:
    """The households still to reach, as chips (the list ends with the menu when empty)."""
    left = paper_rounds.worklist(ctx.session, leader=leader, notice_id=notice_id)
    if not left:
        return with_menu(ctx, f"{key}_done", {**params, "han": leader.han})
    chips = tuple(
        Option(
            "hancho.household_chip", WorkTick(notice_id, h.id or 0).encode(), label=chip_label(h)
        )
        for h in left[:CHIPS]
    )
    return Say(key, {**params, "han": leader.han, "left": len(left)}, options=chips)


def _picked(ctx: FlowContext, data: Data) -> list[Say]:
    leader = leader_of(ctx)
    refused = cannot_start(ctx, data, leader, "notice", "hancho.no_notices")
    if refused is not None or leader is None:
        return refused or []
    # The 班長 reads names and rooms of their 班: recorded like any view of the register.
    audit.record(
        ctx.session,
        account_id=None,
        action="household_worklist_viewed",
        now=ctx.now,
        target_type="notice",
        target_id=data["notice"],
        han_leader_id=leader.id,
    )
    try:
        return [worklist_say(ctx, leader, int(data["notice"]), "hancho.worklist", {})]
    except (PaperError, ValueError):
        return [with_menu(ctx, "hancho.notice_gone")]


def on_tick(ctx: FlowContext, tap: WorkTick) -> list[Say]:
    """One tap: the household is ticked (a second tap changes nothing), then what is left."""
    leader = leader_of(ctx)
    if leader is None:
        return [with_menu(ctx, "hancho.leaders_only")]
    household = ctx.session.get(Household, tap.household_id)
    try:
        paper_rounds.tick_one_as_leader(
            ctx.session,
            leader=leader,
            notice_id=tap.notice_id,
            household_id=tap.household_id,
            now=ctx.now,
        )
    except PaperError:
        return [with_menu(ctx, "hancho.notice_gone")]
    label = chip_label(household) if household else ""
    return [worklist_say(ctx, leader, tap.notice_id, "hancho.worklist_ticked", {"label": label})]


WORKLIST_FLOW = Flow(
    name=WORKLIST,
    steps=(
        Step(
            "notice",
            "hancho.pick_notice_worklist",
            options=_notice_options,
            skip_if=nothing_to_pick,
            next=None,
        ),
    ),
    on_complete=_picked,
    ttl=timedelta(minutes=30),
    initial=initial_with(_notice_options),
)
