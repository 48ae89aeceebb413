"""Rendering staff pages: Jinja2 templates, the language switch, navigation, the session cookie."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from bot.core import audit
from bot.core.scope import Permission
from bot.db import session_scope
from bot.platform.delivery import send_policy
from bot.staff import auth
from bot.staff.csv_export import csv_response
from bot.staff.deps import StaffUser, codec_of, engine_of, now_of, settings_of, words_for
from bot.staff.i18n import DEFAULT_STAFF_LOCALE
from bot.staff.tables import Table

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)


@dataclass(frozen=True)
class NavItem:
    """One entry of the top navigation, shown to roles holding `permission`."""

    label: str
    path: str
    permission: Permission
    order: int = 50  # position in the bar


# The bar: the shell's entries and those of the features mounted (`use_features`).
NAVIGATION: list[NavItem] = []


def use_features(nav: Iterable[NavItem], template_dirs: Iterable[Path]) -> None:
    """Show the mounted features' navigation entries and find their templates after the
    shell's own (idempotent)."""
    for item in nav:
        if item not in NAVIGATION:
            NAVIGATION.append(item)
    NAVIGATION.sort(key=lambda n: n.order)
    searched = [Path(p) for p in templates.env.loader.searchpath]  # type: ignore[union-attr]  # a FileSystemLoader
    for folder in template_dirs:
        if folder not in searched:
            templates.env.loader.searchpath.append(str(folder))  # type: ignore[union-attr]  # a FileSystemLoader


def set_session_cookie(request: Request, response: Response, web_session: auth.WebSession) -> None:
    """(Re)sign the session into its cookie: HttpOnly, SameSite=Lax, and Secure in
    production always (a proxy's plain-HTTP hop must not decide it) or behind HTTPS."""
    settings = settings_of(request)
    codec = codec_of(request)
    response.set_cookie(
        auth.SESSION_COOKIE,
        codec.dumps(web_session),
        max_age=codec.max_s,
        httponly=True,
        samesite="lax",
        secure=settings.is_production or settings.public_base_url.startswith("https://"),
        path="/",
    )


def local_time(request: Request, moment: datetime | None) -> str:
    """A UTC time shown in the city's zone."""
    if moment is None:
        return ""
    return moment.astimezone(settings_of(request).tz).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class QuotaBanner:
    """The banner every staff page shows while LINE's monthly quota runs low."""

    level: str  # "warning" (past the warning share) or "holding" (non-urgent pushes held)
    percent: int
    used: int
    limit: int


def quota_banner(request: Request) -> QuotaBanner | None:
    """This month's quota as the scheduler last read it, if staff should be told about it."""
    settings = settings_of(request)
    with session_scope(engine_of(request)) as db:
        status = send_policy.quota_status(
            db,
            now_of(request),
            settings.tz,
            send_policy.Policy.from_settings(settings),
        )
    if status is None or status.limit is None or not (status.warn or status.holding):
        return None
    return QuotaBanner(
        "holding" if status.holding else "warning",
        int(100 * (status.share or 0.0)),
        status.used,
        status.limit,
    )


def render(
    request: Request,
    template: str,
    *,
    web_session: auth.WebSession,
    locale: str | None = None,
    user: StaffUser | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the visitor's language, with navigation for their role and a fresh cookie."""
    locale = locale or web_session.locale or DEFAULT_STAFF_LOCALE
    nav = [n for n in NAVIGATION if user and user.scope.can(n.permission)]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": words_for(request, locale),
            "locale": locale,
            "csrf_token": web_session.csrf,
            "user": user,
            "nav": nav,
            "quota_banner": quota_banner(request) if user else None,
            "local_time": lambda moment: local_time(request, moment),
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(request, response, web_session)
    return response


def export_response(request: Request, user: StaffUser, table: Table) -> Response:
    """The table as a CSV download with Japanese headers; the export is audited."""
    now = now_of(request)
    with session_scope(engine_of(request)) as db:
        audit.record(
            db,
            account_id=user.account.id,
            action="export",
            now=now,
            target_type="table",
            target_id=table.name,
            rows=len(table.rows),
        )
    stamp = now.astimezone(settings_of(request).tz).strftime("%Y%m%d-%H%M")
    return csv_response(table, words_for(request, "ja"), stamp)


def page(request: Request, user: StaffUser, template: str, **context: Any) -> HTMLResponse:
    """`render` for a logged-in page request."""
    assert user.web_session is not None  # pages resolve users from the session cookie
    return render(
        request, template, web_session=user.web_session, user=user, locale=user.locale, **context
    )
