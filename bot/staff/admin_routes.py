"""The city admin's pages: staff accounts and the officers' April hand-over."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.core.scope import Permission
from bot.db import session_scope
from bot.staff.accounts import HandoverError, account_rows, hand_over
from bot.staff.deps import Csrf, NowDep, PageAccess, SessionDep, StaffUser, engine_of
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)


Admin = Annotated[StaffUser, Depends(PageAccess(Permission.MANAGE_STAFF))]


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request,
    user: Admin,
    db: SessionDep,
    moved: int | None = None,
    error: str | None = None,
) -> HTMLResponse:
    """Every staff account with its role and scope, and the hand-over form."""
    rows = account_rows(db)
    return page(request, user, "accounts.html", rows=rows, moved=moved, error=error == "handover")


@router.post("/accounts/handover")
def handover_submit(
    request: Request,
    user: Admin,
    csrf: Csrf,
    now: NowDep,
    outgoing: Annotated[str, Form(max_length=64)] = "",
    incoming: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Move an outgoing officer's associations to the incoming one in one step."""
    try:
        # Its own transaction: a refused hand-over must leave nothing half-moved.
        with session_scope(engine_of(request)) as db:
            moved = hand_over(
                db,
                outgoing_login=outgoing,
                incoming_login=incoming,
                actor_id=user.account.id,
                now=now,
            )
    except HandoverError:
        return RedirectResponse("/staff/accounts?error=handover", status_code=303)
    return RedirectResponse(f"/staff/accounts?moved={moved}", status_code=303)
