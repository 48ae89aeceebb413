"""Officers in LINE: link by one-time code, see applications, approve or decline in one tap.

  officer: 役員登録 ABCDE-FGHJK        → bot: 「○○町内会」の役員として登録しました。
  bot (push): 新しい入会申請があります（3人世帯）[詳しく見る] [承認する] [見送る]
  officer: [承認する]                  → bot: 承認しました。申請者にお知らせします。
  officer: [承認する] (again)          → bot: この申請はすでに承認済みです。 (nothing else)
  resident (push): ○○町内会への入会が承認されました🎉

The push to officers names nobody (counts only), so the outbox holds no personal data;
the name is shown in the reply to 詳しく見る, which is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.conversation.actions import Action, wire
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Invalid, Option, Say, Step
from bot.conversation.notifier import Notifier
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.conversation.richmenu_links import relink_after_commit
from bot.core import place_names
from bot.core.models.areas import Association
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.features.membership import memberships as membership
from bot.features.membership import officers
from bot.features.membership.actions import MyMembership
from bot.features.membership.officers import LinkResult


@dataclass(frozen=True)
class DecideTap(Action, prefix="jd"):
    """承認する / 見送る on an application."""

    membership_id: int = wire("m")
    decision: str = wire("d", choices=("ok", "no"))


@dataclass(frozen=True)
class DetailTap(Action, prefix="jv"):
    """詳しく見る on an application."""

    membership_id: int = wire("m")


@dataclass(frozen=True)
class PendingTap(Action, prefix="jp"):
    """The officer's waiting applications (menu and rich menu item `jp`)."""


MY_ASSOCIATION = Option("menu.items.my_association", MyMembership().encode())


def _local(moment: datetime | None, ctx: FlowContext) -> str:
    return moment.astimezone(ctx.settings.tz).strftime("%m/%d %H:%M") if moment else "-"


def _buttons(membership_id: int) -> dict[str, str]:
    return {
        "approve_data": DecideTap(membership_id, "ok").encode(),
        "decline_data": DecideTap(membership_id, "no").encode(),
        "detail_data": DetailTap(membership_id).encode(),
    }


def notify_new_application(ctx: FlowContext, row: Membership, association: Association) -> int:
    """Push the new application to the association's officers, with decision buttons."""
    return len(tell_officers(ctx.session, ctx.notifier, row, association, ctx.now))


def tell_officers(
    session: Session, notifier: Notifier, row: Membership, association: Association, now: datetime
) -> list[int]:
    """Push an application to the association's linked officers once (keyed by application
    and association, so a reassigned one reaches the new officers too), with one-tap
    decision buttons; quiet hours defer it, budgets do not (an officer asked for these).

    Public so that the staff web, reassigning an application, tells its new officers.
    """
    assert row.id is not None
    applied = (
        row.applied_at.astimezone(notifier.tz).strftime("%m/%d %H:%M") if row.applied_at else "-"
    )
    params = {
        "association": association.name,
        "household": row.household_size,
        "applied": applied,
        **_buttons(row.id),
    }
    return notifier.push(
        session,
        now,
        key=f"membership:{row.id}:new:{association.id}",
        kind="membership_application",
        resident_ids=membership.officer_resident_ids(session, association.id or 0),
        says_for=lambda locale: [Say("officer.new_application", params, flex="join_application")],
        under_policy=True,
        use_budget=False,
    )


def _application_for_officer(
    ctx: FlowContext, membership_id: int
) -> tuple[Membership, int] | list[Say]:
    """The application a button names, and the tapping officer's id; or why not."""
    row = ctx.session.get(Membership, membership_id)
    if row is None or row.erased_at is not None:
        return [Say("officer.application_gone")]
    officer = membership.officer_for(ctx.session, ctx.resident.id or 0, row.association_id)
    if officer is None or officer.id is None:
        return [Say("officer.not_officer")]
    return row, officer.id


def decide(ctx: FlowContext, tap: DecideTap) -> list[Say]:
    """Approve (d=ok) or decline (d=no); a second tap reports the first decision."""
    found = _application_for_officer(ctx, tap.membership_id)
    if isinstance(found, list):
        return found
    row, officer_id = found
    act = membership.approve if tap.decision == "ok" else membership.decline
    decision = act(ctx.session, row.id or 0, ctx.now, officer_id=officer_id)
    status = decision.membership.status
    if not decision.changed:
        return [Say(f"officer.already.{status}", {"when": _local(row.decided_at, ctx)})]
    tell_applicant(ctx.session, ctx.notifier, decision.membership, ctx.now)
    return [Say(f"officer.done.{status}")]


def tell_applicant(session: Session, notifier: Notifier, row: Membership, now: datetime) -> None:
    """Push the decision to the applicant (once per application) and switch their menu.

    Public so that the staff web, deciding outside LINE, tells residents the same way.
    """
    association = membership.association_of(session, row)
    notifier.push(
        session,
        now,
        key=f"membership:{row.id}:decided",
        kind="membership_decision",
        resident_ids=[row.resident_id],
        says_for=lambda locale: [
            Say(
                f"join.decided.{row.status}",
                {"association": place_names.association_name(association, locale)},
                options=(MY_ASSOCIATION,),
            )
        ],
    )
    applicant = session.get(Resident, row.resident_id)
    if applicant is not None and row.status == MembershipStatus.APPROVED:
        relink_after_commit(session, applicant)


def tell_reassigned(
    session: Session, notifier: Notifier, row: Membership, association: Association, now: datetime
) -> None:
    """Tell the applicant that ward staff sent their application on to `association`."""
    notifier.push(
        session,
        now,
        key=f"membership:{row.id}:moved:{association.id}",
        kind="membership_decision",
        resident_ids=[row.resident_id],
        says_for=lambda locale: [Say("join.reassigned", {"association": association.name})],
    )


def detail(ctx: FlowContext, tap: DetailTap) -> list[Say]:
    """The application's details, shown only in this reply, with the decision buttons."""
    found = _application_for_officer(ctx, tap.membership_id)
    if isinstance(found, list):
        return found
    row, _ = found
    text = ctx.content.text
    not_given = text("join.not_given", ctx.locale)
    contact = (
        text(f"join.contact.{row.contact_method}", ctx.locale) if row.contact_method else not_given
    )
    params = {
        "name": row.full_name or not_given,
        "household": row.household_size,
        "town": row.town_label or not_given,
        "room": row.room or not_given,
        "contact": contact + (f" ({row.phone})" if row.phone else ""),
        "applied": _local(row.applied_at, ctx),
        "status": text(f"officer.status.{row.status}", ctx.locale),
    }
    options: tuple[Option, ...] = ()
    if row.status == MembershipStatus.PENDING:
        buttons = _buttons(row.id or 0)
        options = (
            Option("officer.approve", buttons["approve_data"]),
            Option("officer.decline", buttons["decline_data"]),
        )
    return [Say("officer.detail", params, options=options)]


def pending_list(ctx: FlowContext, tap: PendingTap) -> list[Say]:
    """The officer's pending applications, newest first, each a chip to open."""
    rows = [
        row
        for association in officers.associations_of(ctx.session, ctx.resident.id or 0)
        for row in membership.pending_for_association(ctx.session, association.id or 0)
    ][:12]
    if not rows:
        return [with_menu(ctx, "officer.no_pending")]
    options = tuple(
        Option(
            "officer.pending_item",
            DetailTap(row.id or 0).encode(),
            label_params={"n": i + 1, "applied": _local(row.applied_at, ctx)},
        )
        for i, row in enumerate(rows)
    )
    return [Say("officer.pending", {"count": len(rows)}, options=options)]


def _link(ctx: FlowContext, code: str) -> list[Say]:
    result, association = officers.redeem(ctx.session, ctx.resident, code, ctx.now)
    if result == LinkResult.INVALID or association is None:
        return [with_menu(ctx, "officer.link_invalid")]
    relink_after_commit(ctx.session, ctx.resident)
    return [with_menu(ctx, f"officer.link_{result.value}", {"association": association.name})]


def _parse_code(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    code = officers.find_link_code(given.text)
    if code is None:
        raise Invalid("officer.link_format")
    return code


LINK_FLOW = Flow(
    name="officer_link",
    steps=(Step("code", "officer.link_ask", parse=_parse_code, max_text_length=60),),
    on_complete=lambda ctx, data: _link(ctx, data["code"]),
)


def link_hook(ctx: FlowContext, given: FlowInput) -> list[Say] | None:
    """「役員登録 ABCDE-FGHJK」 sent in one message links at once."""
    if given.kind != "text" or not officers.looks_like_link_message(given.text):
        return None
    code = officers.find_link_code(given.text)
    return _link(ctx, code) if code else None


def register(registry: Registry) -> None:
    """Add the officer flow, hook and actions to the registry."""
    registry.add_flow(LINK_FLOW, "officer_link")
    registry.text_hooks.append(link_hook)
    registry.on(DecideTap, decide)
    registry.on(DetailTap, detail)
    registry.on(PendingTap, pending_list)
