"""QR codes and printable posters for the join funnel (bot/features/membership/qr.py draws them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.core import audit
from bot.core.scope import Permission, visible_associations
from bot.db import session_scope
from bot.features.membership import join_codes, qr
from bot.features.membership.staff.qr_view import (
    CodeNotFound,
    CodeView,
    codes_in_scope,
    counters_in_scope,
    issue_code,
    scoped_code,
)
from bot.staff.deps import DbId, PageAccess, StaffUser, csrf_checked, engine_of, now_of
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)


Printer = Annotated[StaffUser, Depends(PageAccess(Permission.PRINT_QR))]
Csrf = Annotated[None, Depends(csrf_checked)]


def _url(request: Request, view: CodeView) -> str:
    settings = request.app.state.settings
    return qr.join_url(request.app.state.content, settings.line_bot_basic_id, view.code.code)


def _code(request: Request, user: StaffUser, code_id: int) -> CodeView:
    with session_scope(engine_of(request)) as db:
        try:
            return scoped_code(db, user.scope, code_id)
        except CodeNotFound:
            raise HTTPException(status_code=404) from None


@router.get("/qr", response_class=HTMLResponse)
def qr_page(request: Request, user: Printer) -> HTMLResponse:
    """The caller's join codes, with their QR, PNG and poster, and a form to issue more."""
    with session_scope(engine_of(request)) as db:
        codes = codes_in_scope(db, user.scope)
        associations = [a for a, _d, _w in visible_associations(db, user.scope)]
        counters = counters_in_scope(db, user.scope)
    return page(
        request,
        user,
        "qr.html",
        codes=codes,
        associations=associations,
        counters=counters,
        display=join_codes.display,
    )


@router.post("/qr")
def qr_issue(
    request: Request,
    user: Printer,
    csrf: Csrf,
    association_id: Annotated[int | None, Form()] = None,
    counter_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Issue a code for an association or a moving-in counter in scope."""
    if (association_id is None) == (counter_id is None):
        raise HTTPException(status_code=400, detail="choose an association or a counter")
    now = now_of(request)
    with session_scope(engine_of(request)) as db:
        code = issue_code(
            db, user.scope, association_id=association_id, counter_id=counter_id, now=now
        )
        audit.record(
            db,
            account_id=user.account.id,
            action="qr_issued",
            now=now,
            target_type="join_code",
            target_id=code.id,
        )
    return RedirectResponse("/staff/qr", status_code=303)


@router.get("/qr/{code_id}.svg")
def qr_svg(request: Request, code_id: DbId, user: Printer) -> Response:
    """The QR as SVG (for print shops and slides)."""
    svg = qr.svg_text(_url(request, _code(request, user, code_id)))
    return Response(svg, media_type="image/svg+xml")


@router.get("/qr/{code_id}.png")
def qr_png(request: Request, code_id: DbId, user: Printer) -> Response:
    """The QR as PNG."""
    view = _code(request, user, code_id)
    return Response(
        qr.png_bytes(_url(request, view)),
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="join-{view.code.code}.png"'},
    )


@router.get("/qr/{code_id}/poster", response_class=HTMLResponse)
def qr_poster(request: Request, code_id: DbId, user: Printer) -> HTMLResponse:
    """An A4 poster to print from the browser, in Japanese, English and easy Japanese."""
    view = _code(request, user, code_id)
    html = qr.poster_html(
        request.app.state.content,
        _url(request, view),
        view.code.code,
        qr.PosterText(title=view.name),
    )
    return HTMLResponse(html)
