"""Every route refuses anonymous callers, and every role gets exactly what its permissions say.

Generated from the app's own route list: a new route without an access declaration fails
here, and so does a route whose path parameters this file does not know how to fill.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.routing import Mount

from bot.core.models.staff import StaffAccount, StaffRole
from bot.core.scope import ROLE_PERMISSIONS
from bot.db import session_scope
from bot.staff import auth
from bot.staff.deps import Access, ApiAccess, PageAccess
from tests.staff.conftest import ROLES, City, csrf_of, log_in

# Routes anyone may call, each with the reason. Keep this list short and explicit.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/staff/login"): "the log-in form",
    ("POST", "/staff/login"): "log-in itself (CSRF-checked, throttled)",
    ("POST", "/staff/logout"): "ends the caller's own session; CSRF-checked, reveals nothing",
    ("POST", "/callback"): "LINE's webhook, authenticated by X-Line-Signature",
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/readyz"): "readiness probe",
    ("GET", "/metrics"): "Prometheus scrape (counts only, no personal data)",
    ("GET", "/openapi.json"): "the API's documentation",
    ("GET", "/docs"): "the API's documentation",
    ("GET", "/docs/oauth2-redirect"): "the API's documentation",
    ("GET", "/redoc"): "the API's documentation",
    ("GET", "/notices/{notice_id}/print"): "large-print notice, only with a signed link",
    ("GET", "/households/{association_id}/slips.pdf"): "a 班's join slips for its 班長, only "
    "with a signed link that expires",
}
# Path prefixes served by mounts or routers that are public by design.
PUBLIC_PREFIXES: dict[str, str] = {
    "/staff/static": "CSS for the log-in page",
    "/simulator": "the LINE simulator, mounted only when TSUNAGARI_SIMULATOR is on",
    "/line-standin": "the LINE stand-in, mounted only with the simulator",
}
# Public pages other parts of the app may add (calendar files, printable pages).
PUBLIC_PATTERNS = [re.compile(r"\.ics$"), re.compile(r"^/print/")]
# Routes a role's permissions open but a rule on the row narrows further: a 403 there is the
# rule, tested where it lives. Keep this list short and explicit.
ROW_LEVEL: dict[tuple[str, str], str] = {
    ("GET", "/staff/events/{event_id}/roster"): "names and needs: the association's officers and "
    "this event's organiser only (tests/features/events/test_event_ops.py)",
    ("GET", "/staff/events/{event_id}/reception.pdf"): "the roster on paper, same rule",
    ("POST", "/staff/events/{event_id}/roster/{rsvp_id}/attend"): "checking in from the roster, "
    "same rule",
}


@dataclass(frozen=True)
class Endpoint:
    """One method on one path, with the access its route declares (None: none declared)."""

    method: str
    path: str
    access: Access | None


def _routes(app: FastAPI) -> Iterator[Any]:
    # FastAPI ≥ 0.12x keeps included routers lazily; iter_route_contexts flattens them.
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def _access_of(route: APIRoute) -> Access | None:
    found = [d.call for d in route.dependant.dependencies if isinstance(d.call, Access)]
    assert len(found) <= 1, f"{route.path} declares {len(found)} access dependencies"
    return found[0] if found else None


def _is_public(method: str, path: str) -> bool:
    return (
        (method, path) in PUBLIC
        or any(path == p or path.startswith(p + "/") for p in PUBLIC_PREFIXES)
        or any(p.search(path) for p in PUBLIC_PATTERNS)
    )


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) of the app, mounts reported with method '*'."""
    out: list[Endpoint] = []
    for route in _routes(app):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute):
            for method in sorted(route.methods or ()):
                out.append(Endpoint(method, route.path, _access_of(original)))
        elif isinstance(original, Mount) or getattr(route, "methods", None) is None:
            out.append(Endpoint("*", route.path, None))
        else:
            for method in sorted(set(route.methods) - {"HEAD"}):
                out.append(Endpoint(method, route.path, None))
    return out


def _fill(path: str, values: dict[str, int | str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        assert name in values, f"add a value for path parameter {name!r} ({path})"
        return str(values[name])

    return re.sub(r"{([^}]+)}", value, path)


def _anonymous_values(city: City) -> dict[str, int | str]:
    return {
        "association_id": city.a,
        "membership_id": city.pending["a"],
        "token_id": 1,
        "event_id": city.events["a"],
        "notice_id": city.notices["a"],
        "wave_id": 1,
        "indicator_id": "morioka_community_activity",
        "code_id": city.codes["a"],
        "opportunity_id": 1,
        "slot_id": 1,
        "rsvp_id": 1,
        "check_id": 1,
        "household_id": 1,
        "watch_id": 1,
    }


def test_every_route_declares_access_or_is_public(client: TestClient) -> None:
    undeclared = [
        (e.method, e.path)
        for e in endpoints(client.app)  # type: ignore[arg-type]
        if e.access is None and not _is_public(e.method, e.path)
    ]
    assert not undeclared, f"routes with no access declaration: {undeclared}"
    for e in endpoints(client.app):  # type: ignore[arg-type]
        if e.path.startswith("/api/v1"):
            assert isinstance(e.access, ApiAccess), f"{e.path} must use ApiAccess (bearer tokens)"
        elif e.access is not None:
            assert isinstance(e.access, PageAccess), f"{e.path} must use PageAccess"


def test_signed_print_page_refuses_an_unsigned_link(client: TestClient) -> None:
    paths = {e.path for e in endpoints(client.app)}  # type: ignore[arg-type]
    if "/notices/{notice_id}/print" not in paths:
        pytest.skip("the notices print page is not mounted")
    assert client.get("/notices/1/print").status_code == 404
    assert client.get("/notices/1/print?t=forged").status_code == 404


def test_anonymous_callers_are_refused_everywhere_but_public_routes(
    client: TestClient, city: City
) -> None:
    protected = [e for e in endpoints(client.app) if e.access is not None]  # type: ignore[arg-type]
    assert len(protected) >= 10
    for e in protected:
        response = client.request(e.method, _fill(e.path, _anonymous_values(city)))
        if e.path.startswith("/api/"):
            assert response.status_code == 401, (e, response.status_code)
            assert response.headers.get("www-authenticate") == "Bearer"
        else:
            assert response.status_code == 303, (e, response.status_code)
            assert response.headers["location"].startswith("/staff/login"), e


def _values_for(login: str, city: City) -> dict[str, int | str]:
    # Objects inside each role's own scope, so only the role's permissions decide.
    letter = {"officer_b": "b"}.get(login, "a")
    return {
        "association_id": getattr(city, letter),
        "membership_id": city.pending[letter],
        "token_id": 999_999,
        "event_id": city.events[letter],
        "notice_id": city.notices[letter],
        "wave_id": 999_999,
        "indicator_id": "morioka_community_activity",
        "code_id": city.codes[letter],
        "opportunity_id": 999_999,
        "slot_id": 999_999,
        "rsvp_id": 999_999,
        "check_id": 999_999,
        "household_id": 999_999,
        "watch_id": 999_999,
    }


def _token_for(engine: Engine, account_id: int) -> str:
    with session_scope(engine) as db:
        account = db.get(StaffAccount, account_id)
        assert account is not None
        return auth.issue_api_token(db, account, "matrix", account.created_at)


@pytest.mark.parametrize("login", sorted(ROLES))
def test_role_route_matrix(client: TestClient, city: City, engine: Engine, login: str) -> None:
    role: StaffRole = ROLES[login][0]
    granted = ROLE_PERMISSIONS[role]
    log_in(client, login)
    token = _token_for(engine, city.logins[login])
    checked = 0
    for e in endpoints(client.app):  # type: ignore[arg-type]
        if e.access is None:
            continue
        allowed = e.access.permissions <= granted
        path = _fill(e.path, _values_for(login, city))
        headers = {"Authorization": f"Bearer {token}"} if isinstance(e.access, ApiAccess) else {}
        data = {"csrf_token": csrf_of(client, "/staff/tokens")} if e.method == "POST" else None
        response = client.request(e.method, path, headers=headers, data=data)
        where = (login, e.method, path, response.status_code)
        if allowed and response.status_code == 403 and (e.method, e.path) in ROW_LEVEL:
            checked += 1
            continue
        if allowed:
            assert response.status_code not in (401, 403), where
            assert not response.headers.get("location", "").startswith("/staff/login"), where
            assert response.status_code < 500, where
        else:
            assert response.status_code == 403, where
        checked += 1
    assert checked >= 10


def test_officer_of_a_cannot_read_b_by_page_api_or_export(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    token = _token_for(engine, city.logins["officer_a"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/staff/associations/{city.a}/members").status_code == 200
    assert client.get(f"/staff/associations/{city.b}/members").status_code == 403
    assert client.get(f"/staff/associations/{city.b}/members.csv").status_code == 403
    assert client.get(f"/api/v1/associations/{city.b}/members", headers=bearer).status_code == 403
    assert client.get(f"/staff/events/{city.events['b']}").status_code == 403
    assert client.get(f"/api/v1/events/{city.events['b']}/tally", headers=bearer).status_code == 403
    events = client.get("/api/v1/events", headers=bearer).json()
    assert [e["event_id"] for e in events] == [city.events["a"]]
    csrf = csrf_of(client, "/staff/pending")
    refused = client.post(
        f"/staff/applications/{city.pending['b']}/approve", data={"csrf_token": csrf}
    )
    assert refused.status_code == 403
    # Lists that span associations show A's rows only.
    pending = client.get("/api/v1/applications/pending", headers=bearer).json()
    assert [row["association_id"] for row in pending] == [city.a]
    tallies = client.get("/api/v1/tallies", headers=bearer).json()
    assert [row["association_id"] for row in tallies] == [city.a]
    assert "文化町内会" not in client.get("/staff/export/overview.csv").content.decode("utf-8-sig")


def test_ward_staff_see_their_ward_and_no_names(client: TestClient, city: City) -> None:
    log_in(client, "ward1")
    overview = client.get("/staff/export/overview.csv").content.decode("utf-8-sig")
    assert "青葉町内会" in overview and "文化町内会" in overview
    assert "千歳町内会" not in overview  # ward 2
    assert "試験 太郎" not in client.get("/staff/").text
    assert client.get(f"/staff/associations/{city.a}/members").status_code == 403
