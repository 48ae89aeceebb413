"""The staff web (server-rendered pages under /staff) and the JSON API under /api/v1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.core.scope import Permission, ScopeDenied
from bot.settings import SettingsError
from bot.staff.deps import CsrfRejected, LoginRequired, web_session_of
from bot.staff.web import NavItem, use_features

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


DEV_SECRET = "dev-only-change-me"


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

    Refuses to start in production with the development session secret: anyone could
    sign a staff cookie with it.
    """
    settings = app.state.settings
    secret = settings.staff_session_secret.get_secret_value()
    if settings.environment == "prod" and (secret == DEV_SECRET or len(secret) < 32):
        raise SettingsError("TSUNAGARI_SESSION_SECRET must be set to 32+ random characters")
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
