"""The staff web (server-rendered pages under /staff) and the JSON API under /api/v1."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.core.scope import ScopeDenied
from bot.settings import SettingsError
from bot.staff.deps import CsrfRejected, LoginRequired, web_session_of

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


def mount_staff(app: FastAPI) -> None:
    """Add the staff pages, their static files, the API and the error pages to `app`.

    Refuses to start in production with the development session secret: anyone could
    sign a staff cookie with it.
    """
    settings = app.state.settings
    secret = settings.staff_session_secret.get_secret_value()
    if settings.environment == "prod" and (secret == DEV_SECRET or len(secret) < 32):
        raise SettingsError("TSUNAGARI_SESSION_SECRET must be set to 32+ random characters")
    from bot.features.events.staff import edit_routes as event_edit_routes
    from bot.features.events.staff import routes as event_routes
    from bot.features.membership.staff import api as membership_api
    from bot.features.membership.staff import qr_routes
    from bot.features.membership.staff import routes as member_routes
    from bot.features.notices.staff import paper_routes
    from bot.features.notices.staff import routes as notice_routes
    from bot.features.surveys.staff import routes as survey_routes
    from bot.features.volunteers.staff import opportunity_routes
    from bot.features.volunteers.staff import routes as volunteer_routes
    from bot.staff import admin_routes, api, routes

    app.include_router(routes.router)
    app.include_router(member_routes.router)
    app.include_router(event_edit_routes.router)  # before /events/{event_id}
    app.include_router(event_routes.router)
    app.include_router(qr_routes.router)
    app.include_router(notice_routes.router)
    app.include_router(paper_routes.router)
    app.include_router(survey_routes.router)
    app.include_router(admin_routes.router)
    app.include_router(volunteer_routes.router)
    app.include_router(opportunity_routes.router)
    app.include_router(api.router)
    app.include_router(membership_api.router)  # TODO(lead): from FEATURES' api_routers
    app.mount("/staff/static", StaticFiles(directory=STATIC_DIR), name="staff-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(ScopeDenied, _forbidden)
    app.add_exception_handler(CsrfRejected, _forbidden)
