"""Request plumbing for the staff web and API: who is asking, what they may do, CSRF.

Each staff route declares one `PageAccess(permission)` or `ApiAccess(permission)`
dependency; tests read them back from the app's route list to check the role × route
matrix, so a route without one cannot slip by.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Form, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content import Content
from bot.conversation.notifier import Notifier
from bot.core.models.staff import StaffAccount
from bot.core.scope import Permission, Scope, scope_for
from bot.db import session_scope
from bot.settings import Settings
from bot.staff import auth
from bot.staff.i18n import DEFAULT_STAFF_LOCALE, STAFF_LOCALES, Translator, translators

# Row ids as path parameters: bounded to PostgreSQL's integer, so a huge number is a 422,
# not a database error.
MAX_DB_ID = 2_147_483_647
DbId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
# The same bound for ids posted in forms (an association chosen in a form, for example).
FormId = Annotated[int, Form(ge=1, le=MAX_DB_ID)]
OptionalFormId = Annotated[int | None, Form(ge=1, le=MAX_DB_ID)]


class LoginRequired(Exception):
    """No valid session: pages redirect to the log-in page, the API answers 401."""


class CsrfRejected(Exception):
    """A form arrived without this session's CSRF token (403)."""


@dataclass
class StaffUser:
    """The person behind a request, their scope and their web session (None over the API)."""

    account: StaffAccount
    scope: Scope
    web_session: auth.WebSession | None = None
    locale: str = DEFAULT_STAFF_LOCALE


def notifier_of(request: Request) -> Notifier:
    """The application's one Notifier: every push a staff action causes goes through it."""
    return request.app.state.notifier  # type: ignore[no-any-return]  # app.state is untyped


def settings_of(request: Request) -> Settings:
    """The application's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]  # app.state is untyped


def content_of(request: Request) -> Content:
    """The loaded content (texts residents read, catalogs)."""
    return request.app.state.content  # type: ignore[no-any-return]  # app.state is untyped


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with session_scope(engine_of(request)) as session:
        yield session


def engine_of(request: Request) -> Engine:
    """The application's database engine."""
    return request.app.state.engine  # type: ignore[no-any-return]  # app.state is untyped


def now_of(request: Request) -> datetime:
    """The application's clock (tests set it)."""
    return request.app.state.clock.now()  # type: ignore[no-any-return]  # app.state is untyped


def codec_of(request: Request) -> auth.SessionCodec:
    """The signer for session cookies, built once per app from TSUNAGARI_SESSION_SECRET."""
    codec = getattr(request.app.state, "staff_session_codec", None)
    if codec is None:
        settings = settings_of(request)
        codec = request.app.state.staff_session_codec = auth.SessionCodec(
            settings.staff_session_secret.get_secret_value(),
            idle_s=settings.session_idle_minutes * 60,
            max_s=settings.session_max_hours * 3600,
        )
    return codec


def words_for(request: Request, locale: str) -> Translator:
    """The staff texts in `locale`."""
    return translators(request.app.state.settings.content_dir)[locale]


def web_session_of(request: Request) -> auth.WebSession:
    """The visitor's signed session, or a fresh one; `?lang=` switches the language."""
    web_session = codec_of(request).loads(request.cookies.get(auth.SESSION_COOKIE))
    web_session = web_session or auth.WebSession.fresh()
    lang = request.query_params.get("lang")
    if lang in STAFF_LOCALES:
        web_session.locale = lang
    return web_session


def page_user(request: Request) -> StaffUser:
    """The logged-in staff member of a page request."""
    web_session = web_session_of(request)
    with session_scope(engine_of(request)) as db:
        account = auth.account_for_session(db, web_session)
        if account is None:
            raise LoginRequired()
        scope = scope_for(db, account)
    locale = web_session.locale or account.locale
    return StaffUser(account, scope, web_session, locale if locale in STAFF_LOCALES else "ja")


_bearer = HTTPBearer(auto_error=False, description="A staff API token (`tsg_…`).")


def api_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> StaffUser:
    """The staff member owning the bearer token of an API request."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise LoginRequired()
    with session_scope(engine_of(request)) as db:
        account = auth.account_for_token(db, credentials.credentials, now_of(request))
        if account is None:
            raise LoginRequired()
        scope = scope_for(db, account)
    return StaffUser(account, scope, None, account.locale)


class Access:
    """A route's required permissions; subclasses resolve the user from a cookie or a token."""

    def __init__(self, *permissions: Permission) -> None:
        self.permissions = frozenset(permissions)

    def check(self, user: StaffUser) -> StaffUser:
        """Refuse (403) a role that lacks any of the permissions."""
        for permission in self.permissions:
            user.scope.require(permission)
        return user


class PageAccess(Access):
    """For pages: session cookie, redirect to log-in when absent."""

    def __call__(self, user: Annotated[StaffUser, Depends(page_user)]) -> StaffUser:
        return self.check(user)


class ApiAccess(Access):
    """For /api/v1: bearer token, 401 when absent."""

    def __call__(self, user: Annotated[StaffUser, Depends(api_user)]) -> StaffUser:
        return self.check(user)


def csrf_checked(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> None:
    """Refuse a form post that lacks this session's CSRF token (form field or header)."""
    web_session = codec_of(request).loads(request.cookies.get(auth.SESSION_COOKIE))
    if web_session is None or not web_session.csrf_ok(csrf_token or x_csrf_token):
        raise CsrfRejected()


# The staff routes' dependencies, declared once. The session is committed when the route
# returns, before the response goes out (scope="function"): a browser following a redirect
# must find what the POST stored, and a failed commit must not follow a success page.
SessionDep = Annotated[Session, Depends(db_session, scope="function")]
NotifierDep = Annotated[Notifier, Depends(notifier_of)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
ContentDep = Annotated[Content, Depends(content_of)]
NowDep = Annotated[datetime, Depends(now_of)]
Csrf = Annotated[None, Depends(csrf_checked)]
