"""QR codes and printable posters for the join funnel (bot/features/membership/qr.py draws them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from bot.content import Content
from bot.core import audit
from bot.core.scope import Permission, visible_associations
from bot.features.membership import join_codes, qr
from bot.features.membership.staff.qr_view import (
    CodeNotFound,
    CodeView,
    codes_in_scope,
    counters_in_scope,
    issue_code,
    scoped_code,
)
from bot.settings import Settings
from bot.staff.deps import (
    ContentDep,
    Csrf,
    DbId,
    NowDep,
    OptionalFormId,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
)
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)


Printer = Annotated[StaffUser, Depends(PageAccess(Permission.PRINT_QR))]


def _url(content: Content, settings: Settings, view: CodeView) -> str:
    return qr.join_url(content, settings.line_bot_basic_id, view.code.code)


def _code(db: Session, user: StaffUser, code_id: int) -> CodeView:
    try:
        return scoped_code(db, user.scope, code_id)
    except CodeNotFound:
        raise HTTPException(status_code=404) from None


@router.get("/qr", response_class=HTMLResponse)
def qr_page(request: Request, user: Printer, db: SessionDep) -> HTMLResponse:
    """The caller's join codes, with their QR, PNG and poster, and a form to issue more."""
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
    db: SessionDep,
    now: NowDep,
    association_id: OptionalFormId = None,
    counter_id: OptionalFormId = None,
) -> Response:
    """Issue a code for an association or a moving-in counter in scope."""
    if (association_id is None) == (counter_id is None):
        raise HTTPException(status_code=400, detail="choose an association or a counter")
    code = issue_code(db, user.scope, association_id=association_id, counter_id=counter_id, now=now)
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
def qr_svg(
    code_id: DbId, user: Printer, db: SessionDep, content: ContentDep, settings: SettingsDep
) -> Response:
    """The QR as SVG (for print shops and slides)."""
    svg = qr.svg_text(_url(content, settings, _code(db, user, code_id)))
    return Response(svg, media_type="image/svg+xml")


@router.get("/qr/{code_id}.png")
def qr_png(
    code_id: DbId, user: Printer, db: SessionDep, content: ContentDep, settings: SettingsDep
) -> Response:
    """The QR as PNG."""
    view = _code(db, user, code_id)
    return Response(
        qr.png_bytes(_url(content, settings, view)),
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="join-{view.code.code}.png"'},
    )


@router.get("/qr/{code_id}/poster", response_class=HTMLResponse)
def qr_poster(
    code_id: DbId, user: Printer, db: SessionDep, content: ContentDep, settings: SettingsDep
) -> HTMLResponse:
    """An A4 poster to print from the browser, in Japanese, English and easy Japanese."""
    view = _code(db, user, code_id)
    html = qr.poster_html(
        content,
        _url(content, settings, view),
        view.code.code,
        qr.PosterText(title=view.name),
    )
    return HTMLResponse(html)
