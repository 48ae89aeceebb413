"""The staff web (server-rendered pages under /staff) and the JSON API under /api/v1."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg.errors import NumericValueOutOfRange
from sqlalchemy.exc import DataError

from bot.core.scope import Permission, ScopeDenied
from bot.staff.deps import CsrfRejected, LoginRequired, web_session_of
from bot.staff.web import NavItem, use_features

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _login_required(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse(
            {"detail": "authentication required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/staff/login?next={quote(target)}", status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": "forbidden"}, status_code=403)
    from bot.staff.web import render

    message = "error.csrf" if isinstance(exc, CsrfRejected) else "error.forbidden"
    return render(
        request, "error.html", web_session=web_session_of(request), status_code=403, message=message
    )


async def _out_of_range(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DataError) and not isinstance(exc.orig, NumericValueOutOfRange):
        raise exc  # another database error stays a server error
    # The last line of defence for a number no column can hold (SQLite raises OverflowError,
    # PostgreSQL "integer out of range"): the caller's mistake, not a server error.
    log.warning("refused a number out of range", extra={"path": request.url.path})
    return JSONResponse({"detail": "a number is out of range"}, status_code=400)


SHELL_NAV = (
    NavItem("nav.tokens", "/staff/tokens", Permission.USE_API, 90),
    NavItem("nav.accounts", "/staff/accounts", Permission.MANAGE_STAFF, 92),
    NavItem("nav.audit", "/staff/audit", Permission.VIEW_AUDIT, 95),
)


@dataclass(frozen=True)
class StaffParts:
    """What the mounted features add to the staff web: pages, API, navigation, templates."""

    routers: Sequence[APIRouter] = ()
    api_routers: Sequence[APIRouter] = ()
    nav: Sequence[NavItem] = ()
    template_dirs: Sequence[Path] = ()


def mount_staff(app: FastAPI, parts: StaffParts) -> None:
    """Add the staff pages, their static files, the API and the error pages to `app`.

    Refuses to start in production with a development or short session secret: anyone
    could sign a staff cookie with it (`Settings.require_safe_for_production`).
    """
    app.state.settings.require_safe_for_production()
    from bot.staff import admin_routes, api, routes

    use_features([*SHELL_NAV, *parts.nav], parts.template_dirs)
    app.include_router(routes.router)
    for router in parts.routers:
        app.include_router(router)
    app.include_router(admin_routes.router)
    app.include_router(api.router)
    for router in parts.api_routers:
        app.include_router(router)
    app.mount("/staff/static", StaticFiles(directory=STATIC_DIR), name="staff-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(ScopeDenied, _forbidden)
    app.add_exception_handler(CsrfRejected, _forbidden)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
