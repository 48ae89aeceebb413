"""Notice pages: list with delivery and acknowledgement, compose, preview cost, send or schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core import audit
from bot.core.scope import Permission, visible_associations
from bot.core.translated import translations_from_form
from bot.features.notices import messages as notice_messages
from bot.features.notices import notices
from bot.features.notices.models import Notice
from bot.features.notices.staff.kairan_pdf import kairan_pdf
from bot.features.notices.staff.views import (
    NoticeNotFound,
    draft_notice,
    notices_table,
    scoped_notice,
)
from bot.staff import once
from bot.staff.deps import (
    ContentDep,
    Csrf,
    DbId,
    NotifierDep,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
)
from bot.staff.pdf import pdf_response
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Sender = Annotated[StaffUser, Depends(PageAccess(Permission.SEND_NOTICES))]
SenderExport = Annotated[StaffUser, Depends(PageAccess(Permission.SEND_NOTICES, Permission.EXPORT))]


@router.get("/notices", response_class=HTMLResponse)
def notices_page(
    request: Request, user: Sender, db: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Notices in scope with their delivery and acknowledgement status."""
    table = notices_table(db, user.scope, settings.tz)
    associations = [a for a, _d, _w in visible_associations(db, user.scope)]
    return page(
        request,
        user,
        "notices.html",
        table=table,
        associations=associations,
        export_url="/staff/export/notices.csv",
        form_token=once.new_token(),
    )


@router.get("/export/notices.csv")
def notices_csv(
    request: Request, user: SenderExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The notices list as CSV."""
    table = notices_table(db, user.scope, settings.tz)
    return export_response(request, user, table)


@router.post("/notices")
def notice_create(
    user: Sender,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    association_id: Annotated[int, Form()],
    title: Annotated[str, Form(min_length=1, max_length=120)],
    body: Annotated[str, Form(min_length=1, max_length=4000)],
    ack_requested: Annotated[bool, Form()] = False,
    never_participated: Annotated[bool, Form()] = False,
    title_en: Annotated[str, Form(max_length=120)] = "",
    body_en: Annotated[str, Form(max_length=4000)] = "",
    title_easy: Annotated[str, Form(max_length=120)] = "",
    body_easy: Annotated[str, Form(max_length=4000)] = "",
    form_token: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Save a draft (with the organiser's English and easy-Japanese versions, if given), then
    show its audience and push cost before anything is sent.

    A double submit or back-and-resubmit of the same form (its `form_token`) drafts once."""
    token = once.posted_token(form_token)
    earlier = _drafted_with(db, user, token)
    if earlier is not None:
        return RedirectResponse(f"/staff/notices/{earlier}", status_code=303)
    given = {"title_en": title_en, "body_en": body_en}
    given |= {"title_easy": title_easy, "body_easy": body_easy}
    try:
        with db.begin_nested():
            notice = draft_notice(
                db,
                user.scope,
                association_id=association_id,
                title=title,
                body=body,
                ack_requested=ack_requested,
                never_participated=never_participated,
                author_staff_id=user.account.id,
                now=now,
                form_token=token,
                translations=translations_from_form(given, ("title", "body")),
            )
    except IntegrityError:  # the same form submitted twice at once: the other one stored it
        earlier = _drafted_with(db, user, token)
        if earlier is None:
            raise
        return RedirectResponse(f"/staff/notices/{earlier}", status_code=303)
    audit.record(
        db,
        account_id=user.account.id,
        action="notice_drafted",
        now=now,
        target_type="notice",
        target_id=notice.id,
    )
    return RedirectResponse(f"/staff/notices/{notice.id}", status_code=303)


def _drafted_with(db: Session, user: StaffUser, token: str | None) -> int | None:
    """The notice an earlier submit of the same compose form drafted (in scope), if any."""
    if token is None:
        return None
    earlier = db.exec(select(Notice.id).where(Notice.form_token == token)).first()
    if earlier is None:
        return None
    _scoped_or_404(db, user, earlier)
    return int(earlier)


def _notice(db: Session, user: StaffUser, notice_id: int) -> tuple[Notice, dict[str, Any]]:
    try:
        notice = scoped_notice(db, user.scope, notice_id)
    except NoticeNotFound:
        raise HTTPException(status_code=404) from None
    cost = notices.preview_notice(db, notice_id=notice_id)
    acks = notices.ack_count(db, notice_id=notice_id)
    return notice, {"cost": cost, "acks": acks}


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(
    request: Request, notice_id: DbId, user: Sender, db: SessionDep, error: str | None = None
) -> HTMLResponse:
    """One notice: text, audience and push cost, send / schedule / cancel, acknowledgements."""
    notice, facts = _notice(db, user, notice_id)
    return page(
        request,
        user,
        "notice.html",
        notice=notice,
        error=error if error in ("past", "state") else None,
        **facts,
    )


@router.get("/notices/{notice_id}/kairan.pdf")
def notice_pdf(notice_id: DbId, user: Sender, db: SessionDep, content: ContentDep) -> Response:
    """The paper 回覧 as an A4 PDF rendered here (one page for a short notice)."""
    try:
        notice = scoped_notice(db, user.scope, notice_id)
    except NoticeNotFound:
        raise HTTPException(status_code=404) from None
    return pdf_response(kairan_pdf(db, notice, content), f"kairan-{notice_id}.pdf")


def _decided(db: Session, user: StaffUser, now: datetime, notice_id: int, action: str) -> None:
    audit.record(
        db,
        account_id=user.account.id,
        action=action,
        now=now,
        target_type="notice",
        target_id=notice_id,
    )


@router.post("/notices/{notice_id}/send")
def notice_send(
    notice_id: DbId,
    user: Sender,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> Response:
    """Send now, once (a second press enqueues nothing)."""
    _scoped_or_404(db, user, notice_id)
    result = notice_messages.send_notice(notifier, db, now, notice_id, settings.public_base_url)
    if result.sent:
        _decided(db, user, now, notice_id, "notice_sent")
    return RedirectResponse(f"/staff/notices/{notice_id}", status_code=303)


@router.post("/notices/{notice_id}/schedule")
def notice_schedule(
    notice_id: DbId,
    user: Sender,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    at: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Schedule for a time given in the city's zone (a datetime-local field)."""
    try:
        moment = datetime.fromisoformat(at).replace(tzinfo=settings.tz)
    except ValueError:
        return RedirectResponse(f"/staff/notices/{notice_id}?error=past", status_code=303)
    _scoped_or_404(db, user, notice_id)
    try:  # schedule_notice checks the notice's state and the time before it writes anything
        notices.schedule_notice(db, notice_id=notice_id, at=moment, now=now)
    except notices.NoticeError as exc:
        code = "past" if "past" in str(exc) else "state"
        return RedirectResponse(f"/staff/notices/{notice_id}?error={code}", status_code=303)
    _decided(db, user, now, notice_id, "notice_scheduled")
    return RedirectResponse(f"/staff/notices/{notice_id}", status_code=303)


@router.post("/notices/{notice_id}/cancel")
def notice_cancel(
    notice_id: DbId, user: Sender, csrf: Csrf, db: SessionDep, now: NowDep
) -> Response:
    """Withdraw a draft or scheduled notice (a sent one stays sent)."""
    _scoped_or_404(db, user, notice_id)
    if notices.cancel_notice(db, notice_id=notice_id):
        _decided(db, user, now, notice_id, "notice_cancelled")
    return RedirectResponse(f"/staff/notices/{notice_id}", status_code=303)


def _scoped_or_404(db: Session, user: StaffUser, notice_id: int) -> None:
    try:
        scoped_notice(db, user.scope, notice_id)
    except NoticeNotFound:
        raise HTTPException(status_code=404) from None
