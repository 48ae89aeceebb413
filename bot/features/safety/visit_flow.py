"""班長 in LINE: the households of my 班 to visit after a safety check, one tap each.

  bot: 【安否確認】1班で確認が必要な家が3軒あります。 [訪問する家を見る]
  班長: [訪問する家を見る] → bot: 1班で訪問が必要な家：3軒 [101 山田（未回答）] …
  班長: [101 山田（未回答）] → bot: 101 山田 を訪ねた結果は？ [無事] [助けが必要] [不在・避難中]
  班長: [無事]             → bot: 101 山田 を「無事」と記録しました。残り2軒 …

The list holds households with no answer (paper-only ones from the register too) and every
助けが必要 no visit has seen since it was given; a visit records what the 班長 found and takes
it off the list (a later 助けが必要 from the household puts it back, and is told again). A
班長 sees and records their own 班 only; a forged tap on another 班's household changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.actions import Action, wire
from bot.conversation.context import FlowContext
from bot.conversation.engine import Option, Say
from bot.conversation.leader_flows import leader_of
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.core import audit
from bot.core.models.han import HanLeader
from bot.core.models.households import Household
from bot.features.safety import checks
from bot.features.safety.checks import SafetyError
from bot.features.safety.models import ANSWERS, SafetyHousehold

CHIPS = 13  # LINE's quick replies at most
LABEL = 15  # a quick reply holds 20 characters, with the state before the name


@dataclass(frozen=True)
class SafetyVisits(Action, prefix="sfl"):
    """The 班長's list of households to visit for a check."""

    check_id: int = wire("c")


@dataclass(frozen=True)
class SafetyVisitPick(Action, prefix="sfk"):
    """One household of the list: ask what the visit found."""

    check_id: int = wire("c")
    row_id: int = wire("r")


@dataclass(frozen=True)
class SafetyVisit(Action, prefix="sfv"):
    """What the 班長 found at the household."""

    check_id: int = wire("c")
    row_id: int = wire("r")
    state: str = wire("s", choices=("safe", "help", "away"))


@dataclass(frozen=True)
class SafetyMenu(Action, prefix="sfm"):
    """The 班長's menu entry: the visit list of the newest open check of their association."""


def register(registry: Registry) -> None:
    """Add the 班長's visit list (from the alert and from the menu) and its taps."""
    registry.on(SafetyMenu, on_menu)
    registry.on(SafetyVisits, on_list)
    registry.on(SafetyVisitPick, on_pick)
    registry.on(SafetyVisit, on_visit)


def label_of(row: SafetyHousehold, household: Household | None) -> str:
    """Room or address and the contact's name, shortened for a chip."""
    if household is None:
        return ""
    return " ".join(p for p in (household.address, household.contact_name) if p)[:LABEL]


def _listing(ctx: FlowContext, leader: HanLeader, check_id: int, key: str, label: str) -> Say:
    left = checks.to_visit(
        ctx.session, check_id=check_id, association_id=leader.association_id, han=leader.han
    )
    if not left:
        return with_menu(ctx, f"{key}_done", {"han": leader.han, "label": label})
    chips = tuple(
        Option(
            f"safety.visit_chip.{row.state}",
            SafetyVisitPick(check_id, row.id or 0).encode(),
            label_params={
                "label": label_of(row, household)
                or ctx.content.text("safety.member_only", ctx.locale)
            },
        )
        for row, household in left[:CHIPS]
    )
    params = {"han": leader.han, "left": len(left), "label": label}
    return Say(key, params, options=chips)


def _leader(ctx: FlowContext, check_id: int) -> HanLeader | None:
    leader = leader_of(ctx)
    if leader is None:
        return None
    try:
        checks.open_check(ctx.session, check_id)
    except SafetyError:
        return None
    return leader


def on_menu(ctx: FlowContext, tap: SafetyMenu) -> list[Say]:
    """From the menu: the newest open check covering my association, if there is one."""
    leader = leader_of(ctx)
    if leader is None:
        return [with_menu(ctx, "hancho.leaders_only")]
    found = checks.latest_open_for(ctx.session, leader.association_id)
    if found is None:
        return [with_menu(ctx, "safety.no_open_check")]
    return on_list(ctx, SafetyVisits(found))


def on_list(ctx: FlowContext, tap: SafetyVisits) -> list[Say]:
    """The households of my 班 to visit (audited: the 班長 sees names and rooms)."""
    leader = _leader(ctx, tap.check_id)
    if leader is None:
        return [with_menu(ctx, "safety.visits_closed")]
    audit.record(
        ctx.session,
        account_id=None,
        action="safety_visits_viewed",
        now=ctx.now,
        target_type="safety_check",
        target_id=tap.check_id,
        han_leader_id=leader.id,
    )
    return [_listing(ctx, leader, tap.check_id, "safety.visits", "")]


def on_pick(ctx: FlowContext, tap: SafetyVisitPick) -> list[Say]:
    """Ask what the visit found."""
    leader = _leader(ctx, tap.check_id)
    row = ctx.session.get(SafetyHousehold, tap.row_id)
    if (
        leader is None
        or row is None
        or (row.association_id, row.han, row.check_id)
        != (
            leader.association_id,
            leader.han,
            tap.check_id,
        )
    ):
        return [with_menu(ctx, "safety.visits_closed")]
    household = ctx.session.get(Household, row.household_id) if row.household_id else None
    options = tuple(
        Option(f"safety.answers.{state}", SafetyVisit(tap.check_id, tap.row_id, state).encode())
        for state in ANSWERS
    )
    label = label_of(row, household) or ctx.content.text("safety.member_only", ctx.locale)
    return [Say("safety.visit_ask", {"label": label}, options=options)]


def on_visit(ctx: FlowContext, tap: SafetyVisit) -> list[Say]:
    """Record the visit, then what is left to visit."""
    leader = _leader(ctx, tap.check_id)
    if leader is None:
        return [with_menu(ctx, "safety.visits_closed")]
    try:
        row = checks.record_visit(
            ctx.session,
            check_id=tap.check_id,
            row_id=tap.row_id,
            association_id=leader.association_id,
            han=leader.han,
            state=tap.state,
            visitor_id=int(ctx.resident.id or 0),
            now=ctx.now,
        )
    except SafetyError:
        return [with_menu(ctx, "safety.visits_closed")]
    household = ctx.session.get(Household, row.household_id) if row.household_id else None
    label = label_of(row, household) or ctx.content.text("safety.member_only", ctx.locale)
    state = ctx.content.text(f"safety.answers.{tap.state}", ctx.locale)
    return [_listing(ctx, leader, tap.check_id, "safety.visited", f"{label}：{state}")]
