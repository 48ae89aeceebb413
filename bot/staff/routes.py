"""Staff pages: log-in and out, API tokens, the audit log and its CSV export.

The overview (`/staff/`) is the membership feature's page (bot/features/membership/staff).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.models.staff import ApiToken, StaffAccount
from bot.core.scope import Permission
from bot.settings import Settings
from bot.staff import auth
from bot.staff.deps import (
    Csrf,
    DbId,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
    codec_of,
    web_session_of,
)
from bot.staff.tables import Column, Table
from bot.staff.web import export_response, page, render, set_session_cookie

router = APIRouter(prefix="/staff", include_in_schema=False)


ApiUse = Annotated[StaffUser, Depends(PageAccess(Permission.USE_API))]
Auditor = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_AUDIT))]
AuditExport = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_AUDIT, Permission.EXPORT))]


def _safe_next(target: str | None) -> str:
    # Only paths inside the staff web: an open redirect would help phishing.
    if target and target.startswith("/staff/") and not target.startswith("//"):
        return target
    return "/staff/"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- log-in and log-out -------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The log-in form (its CSRF token lives in a session cookie set here)."""
    return render(request, "login.html", web_session=web_session_of(request), next=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    login: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form()] = "/staff/",
) -> Response:
    """Check the password (throttled per login and address) and start a fresh session."""
    web_session = web_session_of(request)
    try:
        account = auth.authenticate(
            db, login=login, password=password, client_ip=_client_ip(request), now=now
        )
    except auth.TooManyAttempts as exc:
        throttled = render(
            request,
            "login.html",
            web_session=web_session,
            status_code=429,
            error="login.throttled",
            next=_safe_next(next),
        )
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    if account is None:
        return render(
            request,
            "login.html",
            web_session=web_session,
            status_code=401,
            error="login.failed",
            next=_safe_next(next),
        )
    audit.record(db, account_id=account.id, action="login", now=now)
    # A new token on log-in: a CSRF token planted before log-in is worthless after it.
    fresh = auth.WebSession.fresh(web_session.locale)
    fresh.log_in(account, codec_of(request).clock())
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, fresh)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Csrf, db: SessionDep, now: NowDep) -> Response:
    """End the session on the server too: a copy of the cookie taken before is worthless.

    The account's epoch moves on, which ends its sessions on every device ("log out
    everywhere"): the simple, sure way, since cookies are not stored server-side."""
    web_session = web_session_of(request)
    account = auth.account_for_session(db, web_session)
    if account is not None:
        auth.end_sessions(db, account)
        audit.record(db, account_id=account.id, action="logout", now=now)
    response = RedirectResponse("/staff/login", status_code=303)
    set_session_cookie(request, response, auth.WebSession.fresh(web_session.locale))
    return response


# --- API tokens -----------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    user: StaffUser,
    db: Session,
    now: datetime,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = page(
        request,
        user,
        "tokens.html",
        tokens=_tokens_of(db, user),
        new_token=new_token,
        error=error,
        lifetimes=auth.TOKEN_LIFETIMES_DAYS,
        default_days=auth.DEFAULT_TOKEN_DAYS,
        expired=lambda row: auth.token_expired(row, now),
    )
    response.status_code = status_code
    return response


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, user: ApiUse, db: SessionDep, now: NowDep) -> HTMLResponse:
    """The account's own API tokens: prefix, expiry, last use (the secrets are shown once)."""
    return _tokens_page(request, user, db, now)


@router.post("/tokens", response_class=HTMLResponse)
def tokens_create(
    request: Request,
    user: ApiUse,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    name: Annotated[str, Form(min_length=1, max_length=80)] = "token",
    days: Annotated[int, Form(ge=1, le=3650)] = auth.DEFAULT_TOKEN_DAYS,
) -> HTMLResponse:
    """Issue a token valid for the chosen number of days and show it this once."""
    if days not in auth.TOKEN_LIFETIMES_DAYS:
        return _tokens_page(request, user, db, now, error="tokens.bad_lifetime", status_code=400)
    account = db.get(StaffAccount, user.account.id)
    assert account is not None  # the session's own account
    token = auth.issue_api_token(db, account, name, now, days=days)
    audit.record(
        db,
        account_id=user.account.id,
        action="token_issued",
        now=now,
        target_type="api_token",
        target_id=token[:10],
        days=days,
    )
    return _tokens_page(request, user, db, now, new_token=token)


def _tokens_of(db: Session, user: StaffUser) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.account_id == user.account.id)
        .order_by(col(ApiToken.created_at).desc())
    )
    return list(db.exec(query).all())


@router.post("/tokens/{token_id}/revoke")
def tokens_revoke(
    token_id: DbId, user: ApiUse, csrf: Csrf, db: SessionDep, now: NowDep
) -> Response:
    """Revoke one of the account's own tokens."""
    if auth.revoke_api_token(db, user.account, token_id, now):
        audit.record(
            db,
            account_id=user.account.id,
            action="token_revoked",
            now=now,
            target_type="api_token",
            target_id=token_id,
        )
    return RedirectResponse("/staff/tokens", status_code=303)


# --- audit log ------------------------------------------------------------------------------


def _audit_table(db: Session, settings: Settings, user: StaffUser) -> Table:
    entries = audit.recent(db, user.scope)
    logins = dict(db.exec(select(StaffAccount.id, StaffAccount.login)).all())
    tz = settings.tz
    rows = [
        {
            "at": e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            "account": logins.get(e.account_id, "-"),
            "action": e.action,
            "target_type": e.target_type,
            "target": e.target_id,
        }
        for e in entries
    ]
    columns = [
        Column("at", "audit.at"),
        Column("account", "audit.account"),
        Column("action", "audit.action", labels="audit_action."),
        Column("target_type", "audit.target", labels="audit_target."),
        Column("target", "audit.target_id"),
    ]
    return Table("audit-log", columns, rows)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, user: Auditor, db: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Who approved, sent, exported or deleted what, and when."""
    table = _audit_table(db, settings, user)
    return page(
        request,
        user,
        "table_page.html",
        title="audit.title",
        table=table,
        export_url="/staff/export/audit-log.csv",
    )


@router.get("/export/audit-log.csv")
def audit_csv(
    request: Request, user: AuditExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The audit log as CSV (exporting it is itself audited)."""
    return export_response(request, user, _audit_table(db, settings, user))
