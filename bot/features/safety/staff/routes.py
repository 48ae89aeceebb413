"""Safety check pages: start one for an area, see its reach and LINE cost (against this
month's quota) before sending, then the live page (counts by state and by 班, refreshing
itself) and the printable list for door-to-door visits.

A check is started by a city admin, ward staff or an officer (RUN_SAFETY_CHECKS) for an area
they cover; its push ignores quiet hours, and the page says so before the button. The
printout holds names and addresses, so it is for officers (VIEW_MEMBERS) and audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from bot.core import audit
from bot.core.models.areas import Association, District, Ward
from bot.core.scope import Permission
from bot.features.safety import checks, messages
from bot.features.safety.checks import SafetyError
from bot.features.safety.models import SafetyCheck, SafetyState
from bot.features.safety.staff import views
from bot.platform.delivery import send_policy
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
from bot.staff.i18n import Translator
from bot.staff.pdf import pdf_response
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)

Runner = Annotated[StaffUser, Depends(PageAccess(Permission.RUN_SAFETY_CHECKS))]
Printer = Annotated[
    StaffUser, Depends(PageAccess(Permission.RUN_SAFETY_CHECKS, Permission.VIEW_MEMBERS))
]
REFRESH_SECONDS = 10


def _audit(db: Session, user: StaffUser, now: object, action: str, check_id: int) -> None:
    audit.record(
        db,
        account_id=user.account.id,
        action=action,
        now=now,  # type: ignore[arg-type]
        target_type="safety_check",
        target_id=check_id,
    )


@router.get("/safety", response_class=HTMLResponse)
def safety_page(
    request: Request, user: Runner, db: SessionDep, settings: SettingsDep, error: str | None = None
) -> HTMLResponse:
    """Recent checks in scope, and the form to start one."""
    t = words_for(request, user.locale)
    return page(
        request,
        user,
        "safety.html",
        table=views.checks_table(db, user.scope, settings.tz, t),
        areas=views.area_choices(db, user.scope),
        templates=views.TEMPLATES,
        visit_after=views.VISIT_AFTER,
        error=error if error in ("area",) else None,
    )


@router.post("/safety")
def safety_create(
    user: Runner,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    area: Annotated[str, Form(max_length=40)],
    template: Annotated[str, Form(max_length=40)],
    visit_after: Annotated[int, Form(ge=5, le=24 * 60)] = 30,
) -> Response:
    """A draft for an area this staff member covers; nothing is sent until confirmed."""
    chosen = views.parse_area(db, user.scope, area)
    if chosen is None or template not in views.TEMPLATES:
        return RedirectResponse("/staff/safety?error=area", status_code=303)
    try:
        check = checks.draft(
            db,
            area_kind=chosen[0],
            area_id=chosen[1],
            template=template,
            visit_after=visit_after,
            now=now,
            staff_id=user.account.id,
        )
    except SafetyError:
        return RedirectResponse("/staff/safety?error=area", status_code=303)
    _audit(db, user, now, "safety_drafted", int(check.id or 0))
    return RedirectResponse(f"/staff/safety/{check.id}", status_code=303)


def _scoped(db: Session, user: StaffUser, check_id: int) -> tuple[SafetyCheck, set[int]]:
    check = db.get(SafetyCheck, check_id)
    visible = views.in_scope(db, user.scope, check) if check is not None else set()
    if check is None or not visible:
        raise HTTPException(status_code=404)
    return check, visible


def _area_name(db: Session, check: SafetyCheck, t: Translator) -> str:
    if check.area_id is None:
        return str(t("safety.area.city"))
    found: Ward | District | Association | None = (
        db.get(Ward, check.area_id)
        if check.area_kind == "ward"
        else db.get(District, check.area_id)
        if check.area_kind == "district"
        else db.get(Association, check.area_id)
    )
    return t.name(found.name) if found is not None else ""


@router.get("/safety/{check_id}", response_class=HTMLResponse)
def check_page(
    request: Request,
    check_id: DbId,
    user: Runner,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> HTMLResponse:
    """A draft: reach, LINE cost against the month's quota, send. A sent check: live counts."""
    check, visible = _scoped(db, user, check_id)
    t = words_for(request, user.locale)
    facts: dict[str, object] = {}
    if check.sent_at is None:
        facts["cost"] = checks.preview(db, check)
        facts["quota"] = send_policy.quota_status(db, now, settings.tz, notifier.policy)
    else:
        found = views.scoped_counts(db, check, visible)
        facts["counts"] = found
        facts["hans"] = views.han_table(found, t)
        facts["unanswered"] = checks.unanswered_hans(db, check_id)
        facts["refresh"] = REFRESH_SECONDS if check.closed_at is None else None
        facts["stamp"] = now.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S")
        facts["stages"] = {s: checks.stage_at(check, s) for s in checks.STAGES}
    return page(
        request,
        user,
        "safety_check.html",
        check=check,
        area_name=_area_name(db, check, t),
        states=list(SafetyState),
        can_print=user.scope.can(Permission.VIEW_MEMBERS),
        **facts,
    )


@router.post("/safety/{check_id}/send")
def check_send(
    check_id: DbId, user: Runner, csrf: Csrf, db: SessionDep, now: NowDep, notifier: NotifierDep
) -> Response:
    """Send now, once: a second press sends nothing."""
    _scoped(db, user, check_id)
    if messages.send_check(notifier, db, now, check_id).sent:
        _audit(db, user, now, "safety_sent", check_id)
    return RedirectResponse(f"/staff/safety/{check_id}", status_code=303)


@router.post("/safety/{check_id}/close")
def check_close(check_id: DbId, user: Runner, csrf: Csrf, db: SessionDep, now: NowDep) -> Response:
    """Stop taking answers; the counts stay."""
    _scoped(db, user, check_id)
    if checks.close(db, check_id=check_id, now=now):
        _audit(db, user, now, "safety_closed", check_id)
    return RedirectResponse(f"/staff/safety/{check_id}", status_code=303)


@router.get("/safety/{check_id}/visits.pdf")
def check_print(
    request: Request,
    check_id: DbId,
    user: Printer,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    """The printable list: counts as on the live page, then every household per 班."""
    check, visible = _scoped(db, user, check_id)
    if check.sent_at is None:
        raise HTTPException(status_code=404)
    t = words_for(request, user.locale)
    stamp = now.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S")
    content = views.visit_pdf(db, check, visible, t, stamp)
    _audit(db, user, now, "safety_printed", check_id)
    return pdf_response(content, f"safety-{check_id}.pdf")
