"""Membership pages: the overview (the staff web's start page, `/staff/`), members per
association, pending applications (approve / decline), the join funnel, and their CSVs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.conversation.notifier import Notifier
from bot.core import audit
from bot.core.han import HanchoError
from bot.core.scope import Permission, visible_associations
from bot.db import session_scope
from bot.features.membership.officer_flow import tell_applicant
from bot.features.membership.staff.funnel_view import funnel_table
from bot.features.membership.staff.members import (
    NotFound,
    decide,
    members_table,
    pending_table,
    set_han_leader,
)
from bot.features.membership.staff.overview import overview_table
from bot.staff.charts import Bar, bar_chart
from bot.staff.deps import (
    DbId,
    NotifierDep,
    PageAccess,
    StaffUser,
    csrf_checked,
    engine_of,
    now_of,
    words_for,
)
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Members = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS))]
MembersExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS, Permission.EXPORT))
]
Approver = Annotated[StaffUser, Depends(PageAccess(Permission.APPROVE_MEMBERS))]
PendingExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.APPROVE_MEMBERS, Permission.EXPORT))
]
Tallies = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES))]
TalliesExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES, Permission.EXPORT))
]
Csrf = Annotated[None, Depends(csrf_checked)]


# --- overview (the staff web's start page) --------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: Tallies) -> HTMLResponse:
    """Associations in scope with members and pending applications, and members per ward."""
    with session_scope(engine_of(request)) as db:
        table = overview_table(db, user.scope)
    t = words_for(request, user.locale)
    per_ward: dict[str, int] = {}
    for row in table.rows:
        per_ward[row["ward"]] = per_ward.get(row["ward"], 0) + row["members"]
    chart = bar_chart([Bar(k, v) for k, v in per_ward.items()], title=t("overview.chart_wards"))
    cards = [
        {"label": f"col.{key}", "value": f"{table.total(key):,}"}
        for key in ("members", "households", "pending")
    ]
    return page(
        request,
        user,
        "overview.html",
        table=table,
        chart=chart,
        cards=cards,
        export_url="/staff/export/overview.csv",
    )


@router.get("/export/overview.csv")
def overview_csv(request: Request, user: TalliesExport) -> Response:
    """The overview table as CSV (the same rows the page shows)."""
    with session_scope(engine_of(request)) as db:
        table = overview_table(db, user.scope)
    return export_response(request, user, table)


# --- members --------------------------------------------------------------------------------


@router.get("/members", response_class=HTMLResponse)
def members_index(request: Request, user: Members) -> HTMLResponse:
    """The associations whose members this officer may read, with their numbers."""
    with session_scope(engine_of(request)) as db:
        table = overview_table(db, user.scope)
    return page(request, user, "members_index.html", table=table)


def _members(request: Request, user: StaffUser, association_id: int):  # type: ignore[no-untyped-def]
    tz = request.app.state.settings.tz
    with session_scope(engine_of(request)) as db:
        table = members_table(db, user.scope, association_id, tz)
        name = next(
            (
                a.name
                for a, _d, _w in visible_associations(db, user.scope)
                if a.id == association_id
            ),
            "",
        )
    return table, name


@router.get("/associations/{association_id}/members", response_class=HTMLResponse)
def members_page(
    request: Request, association_id: DbId, user: Members, done: str | None = None
) -> HTMLResponse:
    """Approved members of one association (403 outside the officer's associations), with the
    form that names a member 班長 of a 班 (officers who may approve members only)."""
    table, name = _members(request, user, association_id)
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
    membership_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
    han: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Name a member 班長 of a 班, or (班 left blank) end their role; audit-logged."""
    now = now_of(request)
    with session_scope(engine_of(request)) as db:
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
def members_csv(request: Request, association_id: DbId, user: MembersExport) -> Response:
    """The members page as CSV."""
    table, _name = _members(request, user, association_id)
    return export_response(request, user, table)


def _pending(request: Request, user: StaffUser):  # type: ignore[no-untyped-def]
    with session_scope(engine_of(request)) as db:
        names = {a.id: a.name for a, _d, _w in visible_associations(db, user.scope)}
        return pending_table(db, user.scope, names, request.app.state.settings.tz)  # type: ignore[arg-type]


@router.get("/pending", response_class=HTMLResponse)
def pending_page(request: Request, user: Approver, done: str | None = None) -> HTMLResponse:
    """Applications waiting for a decision, with approve and decline buttons."""
    return page(
        request,
        user,
        "pending.html",
        table=_pending(request, user),
        done=done if done in ("approved", "declined", "already") else None,
        export_url="/staff/export/pending.csv",
    )


@router.get("/export/pending.csv")
def pending_csv(request: Request, user: PendingExport) -> Response:
    """The pending applications as CSV."""
    return export_response(request, user, _pending(request, user))


def _decide(
    request: Request, user: StaffUser, notifier: Notifier, membership_id: int, approve: bool
) -> Response:
    now = now_of(request)
    with session_scope(engine_of(request)) as db:
        try:
            decision = decide(
                db, user.scope, membership_id, approve=approve, staff=user.account.login, now=now
            )
        except NotFound:
            raise HTTPException(status_code=404) from None
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
            )
    done = ("approved" if approve else "declined") if decision.changed else "already"
    return RedirectResponse(f"/staff/pending?done={done}", status_code=303)


@router.post("/applications/{membership_id}/approve")
def approve(
    request: Request, membership_id: DbId, user: Approver, notifier: NotifierDep, csrf: Csrf
) -> Response:
    """Approve an application (once; a second tap changes nothing)."""
    return _decide(request, user, notifier, membership_id, approve=True)


@router.post("/applications/{membership_id}/decline")
def decline(
    request: Request, membership_id: DbId, user: Approver, notifier: NotifierDep, csrf: Csrf
) -> Response:
    """Decline an application (its personal fields are cleared by the membership service)."""
    return _decide(request, user, notifier, membership_id, approve=False)


@router.get("/funnel", response_class=HTMLResponse)
def funnel_page(request: Request, user: Tallies) -> HTMLResponse:
    """Follows → consented → applied → approved per QR source."""
    with session_scope(engine_of(request)) as db:
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
def funnel_csv(request: Request, user: TalliesExport) -> Response:
    """The funnel as CSV."""
    with session_scope(engine_of(request)) as db:
        table = funnel_table(db, user.scope)
    return export_response(request, user, table)
