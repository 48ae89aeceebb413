"""Onboarding officers (city admin, ward staff): an officer account for the staff web and a
one-time LINE link code (「役員登録 CODE」), each shown once and audit-logged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from bot.core import audit
from bot.core.scope import Permission, visible_associations
from bot.features.membership.staff.officers_view import (
    OfficerFormError,
    create_officer_account,
    issue_link_code,
    officers_table,
)
from bot.staff.deps import Csrf, NowDep, PageAccess, SessionDep, StaffUser
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)

Onboarder = Annotated[StaffUser, Depends(PageAccess(Permission.MANAGE_OFFICERS))]
FormId = Annotated[int, Form(ge=1, le=2_147_483_647)]


def _page(request: Request, user: StaffUser, db: Any, **context: Any) -> HTMLResponse:
    return page(
        request,
        user,
        "officers.html",
        table=officers_table(db, user.scope),
        associations=[(a.id, a.name) for a, _d, _w in visible_associations(db, user.scope)],
        **context,
    )


@router.get("/officers", response_class=HTMLResponse)
def officers_page(request: Request, user: Onboarder, db: SessionDep) -> HTMLResponse:
    """Associations in scope with their officers, and the two onboarding forms."""
    return _page(request, user, db)


@router.post("/officers/accounts", response_class=HTMLResponse)
def create_account_submit(
    request: Request,
    user: Onboarder,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    association_id: FormId,
    login: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=80)] = "",
) -> HTMLResponse:
    """Make an officer account; its password is shown on this response only."""
    try:
        made = create_officer_account(
            db, user.scope, association_id, login=login, display_name=display_name
        )
    except OfficerFormError as error:
        return _page(
            request,
            user,
            db,
            error=error.reason,
            login=login,
            display_name=display_name,
            chosen=association_id,
        )
    audit.record(
        db,
        account_id=user.account.id,
        now=now,
        action="officer_account_created",
        target_type="association",
        target_id=association_id,
        association_id=association_id,
        login=made.login,
    )
    return _page(request, user, db, account=made, chosen=association_id)


@router.post("/officers/link-code", response_class=HTMLResponse)
def link_code_submit(
    request: Request,
    user: Onboarder,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    association_id: FormId,
) -> HTMLResponse:
    """Issue a one-time LINE link code; shown on this response only (its hash is stored)."""
    try:
        issued = issue_link_code(db, user.scope, association_id, now, user.account.login)
    except OfficerFormError as error:
        return _page(request, user, db, error=error.reason, chosen=association_id)
    audit.record(
        db,
        account_id=user.account.id,
        now=now,
        action="officer_link_code",
        target_type="association",
        target_id=association_id,
        association_id=association_id,
        via="web",
        ttl_minutes=72 * 60,
    )
    return _page(request, user, db, link_code=issued, chosen=association_id)
