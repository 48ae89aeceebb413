"""Membership pages: the overview (the staff web's start page, `/staff/`), members per
association, pending applications (approve / decline), the join funnel, and their CSVs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from bot.conversation.notifier import Notifier
from bot.core import audit, hooks
from bot.core.han import HanchoError
from bot.core.scope import Permission, visible_associations
from bot.features.membership.memberships import Decision, association_of
from bot.features.membership.officer_flow import tell_applicant, tell_officers, tell_reassigned
from bot.features.membership.staff.funnel_view import funnel_table
from bot.features.membership.staff.members import (
    Attended,
    NotFound,
    counts_by_association,
    decide,
    decide_unattended,
    members_table,
    pending_table,
    reassign_unattended,
    set_han_leader,
    unattended_table,
)
from bot.features.membership.staff.overview import overview_table
from bot.settings import Settings
from bot.staff.charts import Bar, bar_chart
from bot.staff.deps import (
    Csrf,
    DbId,
    NotifierDep,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
    words_for,
)
from bot.staff.tables import Table
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Members = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS))]
MembersExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS, Permission.EXPORT))
]
Approver = Annotated[StaffUser, Depends(PageAccess(Permission.APPROVE_MEMBERS))]
Applications = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_APPLICATIONS))]
PendingExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_APPLICATIONS, Permission.EXPORT))
]
WardDecider = Annotated[StaffUser, Depends(PageAccess(Permission.DECIDE_UNATTENDED))]
Tallies = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES))]
TalliesExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES, Permission.EXPORT))
]


# --- overview (the staff web's start page) --------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, user: Tallies, db: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Associations in scope with members and pending applications, members per ward, and
    the city's indicators against their targets (the surveys feature's, through a hook)."""
    table = overview_table(db, user.scope)
    t = words_for(request, user.locale)
    indicators = hooks.ask_overview_indicators(db, user.scope, t, user.locale, settings)
    per_ward: dict[str, int] = {}
    for row in table.rows:
        per_ward[row["ward"]] = per_ward.get(row["ward"], 0) + row["members"]
    chart = bar_chart(
        [Bar(t.name(k), v) for k, v in per_ward.items()], title=t("overview.chart_wards")
    )
    cards: list[dict[str, object]] = [
        {"label": f"col.{key}", "value": f"{table.total(key):,}"}
        for key in ("members", "households", "pending")
    ]
    orphaned = sum(1 for row in table.rows if row["officer"] == "none")
    if orphaned:  # applications there reach ward staff, who should find them an officer
        cards.append({"label": "overview.no_officer", "value": f"{orphaned:,}", "flag": True})
    return page(
        request,
        user,
        "overview.html",
        table=table,
        chart=chart,
        cards=cards,
        indicators=indicators,
        export_url="/staff/export/overview.csv",
    )


@router.get("/export/overview.csv")
def overview_csv(request: Request, user: TalliesExport, db: SessionDep) -> Response:
    """The overview table as CSV (the same rows the page shows)."""
    return export_response(request, user, overview_table(db, user.scope))


# --- members --------------------------------------------------------------------------------


@router.get("/members", response_class=HTMLResponse)
def members_index(request: Request, user: Members, db: SessionDep) -> HTMLResponse:
    """The associations whose members this officer may read, with their numbers."""
    return page(request, user, "members_index.html", table=overview_table(db, user.scope))


def _members(
    db: Session, settings: Settings, user: StaffUser, association_id: int
) -> tuple[Table, str]:
    table = members_table(db, user.scope, association_id, settings.tz)
    names = (a.name for a, _d, _w in visible_associations(db, user.scope) if a.id == association_id)
    return table, next(names, "")


@router.get("/associations/{association_id}/members", response_class=HTMLResponse)
def members_page(
    request: Request,
    association_id: DbId,
    user: Members,
    db: SessionDep,
    settings: SettingsDep,
    done: str | None = None,
) -> HTMLResponse:
    """Approved members of one association (403 outside the officer's associations), with the
    form that names a member 班長 of a 班 (officers who may approve members only)."""
    table, name = _members(db, settings, user, association_id)
    return page(
        request,
        user,
        "members.html",
        title="members.title",
        subtitle=name,
        table=table,
        export_url=f"/staff/associations/{association_id}/members.csv",
        association_id=association_id,
        can_edit=user.scope.can(Permission.APPROVE_MEMBERS),
        done=done if done in ("set", "revoked", "unchanged", "invalid") else None,
    )


@router.post("/associations/{association_id}/han-leaders")
def han_leader(
    request: Request,
    association_id: DbId,
    user: Approver,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    membership_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
    han: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Name a member 班長 of a 班, or (班 left blank) end their role; audit-logged."""
    try:
        changed = set_han_leader(
            db,
            user.scope,
            association_id,
            membership_id,
            han=han,
            staff=user.account.login,
            now=now,
        )
    except HanchoError:
        changed = None
    if changed:
        audit.record(
            db,
            account_id=user.account.id,
            now=now,
            action="han_leader_set" if han.strip() else "han_leader_revoke",
            target_type="membership",
            target_id=membership_id,
            association_id=association_id,
            han=han.strip(),
        )
    done = (
        "invalid"
        if changed is None
        else (("set" if han.strip() else "revoked") if changed else "unchanged")
    )
    return RedirectResponse(
        f"/staff/associations/{association_id}/members?done={done}", status_code=303
    )


@router.get("/associations/{association_id}/members.csv")
def members_csv(
    request: Request,
    association_id: DbId,
    user: MembersExport,
    db: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The members page as CSV."""
    table, _name = _members(db, settings, user, association_id)
    return export_response(request, user, table)


def _pending(db: Session, settings: Settings, user: StaffUser) -> Table:
    """Officers: their associations' applications; city and ward staff: those nobody in
    the association is told of (no linked officer), without names."""
    names = {int(a.id or 0): a.name for a, _d, _w in visible_associations(db, user.scope)}
    if user.scope.can(Permission.APPROVE_MEMBERS):
        return pending_table(db, user.scope, names, settings.tz)
    return unattended_table(db, user.scope, names, settings.tz)


PENDING_DONE = ("approved", "declined", "already", "reassigned", "attended", "unchanged")


@router.get("/pending", response_class=HTMLResponse)
def pending_page(
    request: Request,
    user: Applications,
    db: SessionDep,
    settings: SettingsDep,
    done: str | None = None,
) -> HTMLResponse:
    """Applications waiting for a decision, with approve and decline buttons (and, for ward
    staff, reassign to another association)."""
    table = _pending(db, settings, user)
    ward = not user.scope.can(Permission.APPROVE_MEMBERS)
    waiting = sum(c.pending for c in counts_by_association(db, user.scope).values())
    return page(
        request,
        user,
        "pending.html",
        table=table,
        ward=ward,
        # Applications officers are told of: ward staff see how many, not whose.
        with_officers=max(waiting - len(table.rows), 0) if ward else 0,
        associations=[(a.id, a.name) for a, _d, _w in visible_associations(db, user.scope)]
        if ward
        else [],
        done=done if done in PENDING_DONE else None,
        export_url="/staff/export/pending.csv",
    )


@router.get("/export/pending.csv")
def pending_csv(
    request: Request, user: PendingExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The pending applications as CSV."""
    return export_response(request, user, _pending(db, settings, user))


def _after_decision(
    db: Session,
    user: StaffUser,
    notifier: Notifier,
    now: datetime,
    decision: Decision,
    approve: bool,
    via: str,
) -> Response:
    membership_id = decision.membership.id
    if decision.changed:
        # The resident hears the decision exactly as when an officer decides in LINE.
        tell_applicant(db, notifier, decision.membership, now)
        audit.record(
            db,
            account_id=user.account.id,
            now=now,
            action="approve" if approve else "decline",
            target_type="membership",
            target_id=membership_id,
            association_id=decision.membership.association_id,
            via=via,
        )
    done = ("approved" if approve else "declined") if decision.changed else "already"
    return RedirectResponse(f"/staff/pending?done={done}", status_code=303)


def _decide(
    db: Session,
    user: StaffUser,
    notifier: Notifier,
    now: datetime,
    membership_id: int,
    approve: bool,
) -> Response:
    try:
        decision = decide(
            db, user.scope, membership_id, approve=approve, staff=user.account.login, now=now
        )
    except NotFound:
        raise HTTPException(status_code=404) from None
    return _after_decision(db, user, notifier, now, decision, approve, "officer")


@router.post("/applications/{membership_id}/approve")
def approve(
    membership_id: DbId,
    user: Approver,
    notifier: NotifierDep,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
) -> Response:
    """Approve an application (once; a second tap changes nothing)."""
    return _decide(db, user, notifier, now, membership_id, approve=True)


@router.post("/applications/{membership_id}/decline")
def decline(
    membership_id: DbId,
    user: Approver,
    notifier: NotifierDep,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
) -> Response:
    """Decline an application (its personal fields are cleared by the membership service)."""
    return _decide(db, user, notifier, now, membership_id, approve=False)


@router.post("/unattended/{membership_id}/decide")
def decide_unattended_submit(
    membership_id: DbId,
    user: WardDecider,
    notifier: NotifierDep,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    decision: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Ward staff approve or decline an application to an association with no linked
    officer (once); if an officer has linked meanwhile, it is theirs and nothing changes."""
    if decision not in ("approve", "decline"):
        raise HTTPException(status_code=422)
    approve_it = decision == "approve"
    try:
        decided = decide_unattended(
            db, user.scope, membership_id, approve=approve_it, staff=user.account.login, now=now
        )
    except NotFound:
        raise HTTPException(status_code=404) from None
    except Attended:
        return RedirectResponse("/staff/pending?done=attended", status_code=303)
    return _after_decision(db, user, notifier, now, decided, approve_it, "ward")


@router.post("/unattended/{membership_id}/reassign")
def reassign_submit(
    membership_id: DbId,
    user: WardDecider,
    notifier: NotifierDep,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    association_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    """Send an application on to the association it belongs to; that association's
    officers are told in LINE (or it stays here, if it has none), and so is the resident."""
    try:
        moved = reassign_unattended(db, user.scope, membership_id, association_id, now)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except Attended:
        return RedirectResponse("/staff/pending?done=attended", status_code=303)
    if moved is None:
        return RedirectResponse("/staff/pending?done=unchanged", status_code=303)
    association = association_of(db, moved)
    tell_officers(db, notifier, moved, association, now)
    tell_reassigned(db, notifier, moved, association, now)
    audit.record(
        db,
        account_id=user.account.id,
        now=now,
        action="reassign",
        target_type="membership",
        target_id=membership_id,
        association_id=association_id,
    )
    return RedirectResponse("/staff/pending?done=reassigned", status_code=303)


@router.get("/funnel", response_class=HTMLResponse)
def funnel_page(request: Request, user: Tallies, db: SessionDep) -> HTMLResponse:
    """Follows → consented → applied → approved per QR source."""
    table = funnel_table(db, user.scope)
    t = words_for(request, user.locale)
    stages = ("follows", "consented", "applied", "approved")
    chart = bar_chart([Bar(t(f"col.{s}"), table.total(s)) for s in stages], title=t("funnel.chart"))
    return page(
        request,
        user,
        "table_page.html",
        title="funnel.title",
        table=table,
        chart=chart,
        export_url="/staff/export/funnel.csv",
    )


@router.get("/export/funnel.csv")
def funnel_csv(request: Request, user: TalliesExport, db: SessionDep) -> Response:
    """The funnel as CSV."""
    return export_response(request, user, funnel_table(db, user.scope))
