"""Joining an association: the QR code's message, consent first, then the application.

resident: つながりで町内会に参加します #K7P2QX9M     (typed in by the QR; editable)
bot: 【個人情報の取り扱い】… 同意しますか？ [同意する] [同意しない]
resident: [同意しない] → bot: 大丈夫です。お知らせは今まで通り届きます。(nothing personal kept)
resident: [同意する]   → the address steps (join_address.py), then the form (join_form.py)
bot: 申し込みました。役員の承認をお待ちください。
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation import postback
from bot.conversation.chain import start_flow
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Option, Say, Step
from bot.conversation.menu import main_menu
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.core import areas, consent, place_names, standing
from bot.core import households as household_register
from bot.core.models.areas import Association, MovingInCounter
from bot.core.models.households import Household
from bot.core.models.membership import ContactMethod
from bot.features.membership import invitations, join_codes
from bot.features.membership import memberships as membership
from bot.features.membership.join_address_flow import STEPS as ADDRESS_STEPS
from bot.features.membership.join_address_flow import chosen
from bot.features.membership.join_codes import Found
from bot.features.membership.join_form_flow import NO_ROOM
from bot.features.membership.join_form_flow import STEPS as FORM_STEPS
from bot.features.membership.join_steps import BRANCHES, JoinStep
from bot.features.membership.models import JoinCode
from bot.features.membership.officer_flow import notify_new_application

JOIN, APPLY = "join", "join_apply"


def consent_params(data: Data, ctx: FlowContext) -> dict[str, str]:
    """The consent text of the current version, in the resident's language."""
    return {"text": consent.load(ctx.content.root).text(ctx.locale)}


def _consent_initial(ctx: FlowContext, args: Mapping[str, str]) -> Data:
    assert ctx.resident.id is not None
    version = consent.load(ctx.content.root).version
    data: Data = {k: v for k, v in args.items() if k in ("code", "mode", "slip")}
    data["consented"] = consent.has_agreed(ctx.session, ctx.resident.id, version)
    data["standing"] = _standing(ctx, changing=args.get("mode") == "change")
    return data


def _standing(ctx: FlowContext, *, changing: bool) -> list[str] | None:
    """Why joining cannot start: a pending application, or a membership (unless moving)."""
    assert ctx.resident.id is not None
    pending = membership.pending_application(ctx.session, ctx.resident.id)
    if pending is not None:
        return ["pending", _shown(ctx, membership.association_of(ctx.session, pending))]
    current = membership.current_membership(ctx.session, ctx.resident.id)
    if current is not None and not changing:
        return ["member", _shown(ctx, membership.association_of(ctx.session, current))]
    return None


def _standing_reply(ctx: FlowContext, standing: list[str]) -> list[Say]:
    kind, name = standing
    if kind == "pending":
        return [with_menu(ctx, "join.already_pending", {"association": name})]
    change = Option("join.change_instead", postback.encode(a="start", f="membership_change"))
    return [Say("join.already_member", {"association": name}, options=(change,))]


def _after_consent(ctx: FlowContext, data: Data) -> list[Say]:
    assert ctx.resident.id is not None
    if data.get("standing"):
        return _standing_reply(ctx, data["standing"])
    if data.get("consent") == "no":
        consent.record(
            ctx.session,
            ctx.resident.id,
            agreed=False,
            locale=ctx.locale,
            version=consent.load(ctx.content.root).version,
            now=ctx.now,
        )
        invitations.note(ctx.session, ctx.resident.id, ctx.now)  # no invitation for a while
        return [with_menu(ctx, "join.declined")]
    if not data["consented"]:
        consent.record(
            ctx.session,
            ctx.resident.id,
            agreed=True,
            locale=ctx.locale,
            version=consent.load(ctx.content.root).version,
            now=ctx.now,
        )
    args = {k: str(data[k]) for k in ("code", "mode", "slip") if data.get(k)}
    return start_flow(ctx, APPLY_FLOW, args)


CONSENT_FLOW = Flow(
    name=JOIN,
    steps=(
        Step(
            "consent",
            "join.consent_ask",
            prompt_params=consent_params,
            options=(Option("join.agree", "yes"), Option("join.disagree", "no")),
            skip_if=lambda d, ctx: bool(d["consented"] or d["standing"]),
            help_key="join.consent_help",
            next=None,
        ),
    ),
    on_complete=_after_consent,
    initial=_consent_initial,
)


def _apply_initial(ctx: FlowContext, args: Mapping[str, str]) -> Data:
    data: Data = {k: v for k, v in args.items() if k in ("code", "mode")}
    if _slip_household(ctx, data, args.get("slip", "")):
        return data
    code = ctx.session.get(JoinCode, int(args["code"])) if args.get("code", "").isdigit() else None
    if code is not None and code.association_id is not None:
        association = ctx.session.get(Association, code.association_id)
        if association is not None and association.active:
            data["code_association"] = association.id
            data["code_association_name"] = association.name
    if code is not None and code.counter_id is not None:
        counter = ctx.session.get(MovingInCounter, code.counter_id)
        data["ward"] = str(counter.ward_id) if counter else None
    wards = areas.wards(ctx.session)
    if not data.get("ward") and len(wards) == 1:
        data["ward"] = str(wards[0].id)
    return data


def _slip_household(ctx: FlowContext, data: Data, slip: str) -> bool:
    """A household's printed slip: its association is asked to confirm and its address is
    known, so the address steps and the room are skipped."""
    household = ctx.session.get(Household, int(slip)) if slip.isdigit() else None
    association = ctx.session.get(Association, household.association_id) if household else None
    if household is None or association is None or not association.active:
        return False
    data["slip"] = household.id
    data["code_association"] = association.id
    data["code_association_name"] = association.name
    data[JoinStep.ROOM] = household.address or NO_ROOM
    return True


def _slip_for(data: Data, association_id: int) -> int | None:
    """The slip's household, when the resident kept to its association."""
    if data.get("slip") and data.get("code_association") == association_id:
        return int(data["slip"])
    return None


def _submit(ctx: FlowContext, data: Data) -> list[Say]:
    assert ctx.resident.id is not None
    association_id, town = chosen(data)
    phone = data.get("phone") if data["contact"] == ContactMethod.PHONE else None
    source = int(data["code"]) if data.get("code") else None
    if source is None:
        latest = join_codes.latest_source(ctx.session, ctx.resident.id)
        source = latest.id if latest else None
    form = membership.Application(
        association_id=association_id,
        full_name=data["name"],
        household_size=int(data["household"]),
        contact_method=data["contact"],
        room=None if data["room"] == NO_ROOM else data["room"],
        phone=phone,
        town_label=town,
        source_code_id=source,
        household_id=_slip_for(data, association_id),
    )
    try:
        row = membership.apply(ctx.session, ctx.resident, form, ctx.now)
    except membership.MembershipError as refused:
        return [with_menu(ctx, f"join.refused.{refused.reason}")]
    association = membership.association_of(ctx.session, row)
    notify_new_application(ctx, row, association)
    return [with_menu(ctx, "join.applied", {"association": _shown(ctx, association)})]


def _shown(ctx: FlowContext, association: Association) -> str:
    """The association's name in the resident's language."""
    return place_names.association_name(association, ctx.locale)


APPLY_FLOW = Flow(
    name=APPLY,
    steps=(*ADDRESS_STEPS, *FORM_STEPS),
    on_complete=_submit,
    initial=_apply_initial,
    branches=BRANCHES,
)


def begin(ctx: FlowContext, args: Mapping[str, str] | None = None) -> list[Say]:
    """Start joining: consent (unless given), then the application; members are told so."""
    return start_flow(ctx, CONSENT_FLOW, args)


def code_hook(ctx: FlowContext, given: FlowInput) -> list[Say] | None:
    """A message holding a join code (the QR's pre-filled text): record the source, join."""
    if given.kind != "text":
        return None
    found = join_codes.recognise(ctx.session, given.text)
    if found.found in (Found.NONE, Found.UNKNOWN):
        tokens = [token for token, _ in join_codes.candidates(given.text)]
        household = household_register.by_join_code(ctx.session, tokens)
        if household is not None:  # a household's slip: the join lands in that household
            return begin(ctx, {"slip": str(household.id)})
    if found.found == Found.NONE:
        return None
    if found.found != Found.ACTIVE or found.code is None:
        return [Say(f"join.code_{found.found.value}"), *begin(ctx)]
    join_codes.record_source(ctx.session, ctx.resident, found.code, ctx.now)
    return begin(ctx, {"code": str(found.code.id)})


def invite_on_follow(ctx: FlowContext) -> list[Say]:
    """A new or returning friend who is not a member is invited, at most once per interval."""
    resident_id = ctx.resident.id
    if resident_id is None or standing.menu_role(ctx.session, ctx.resident) != "subscriber":
        return []
    if membership.pending_application(ctx.session, resident_id) is not None:
        return []
    if not invitations.due(
        ctx.session, resident_id, ctx.now, ctx.settings.join_invite_interval_days
    ):
        return []
    invitations.note(ctx.session, resident_id, ctx.now)
    return [main_menu(ctx, "join.invite")]  # the menu leads with 町内会に入る for subscribers


def register(registry: Registry) -> None:
    """Add the join flows, the code recogniser and the follow invitation to the registry."""
    registry.add_flow(CONSENT_FLOW, "join")
    registry.add_flow(APPLY_FLOW)
    registry.code_hooks.append(code_hook)
    registry.on_follow.append(invite_on_follow)
