"""Each bad input the review found answered with a 500 and a traceback now gets a short 4xx
and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.features.events.models import Event
from bot.features.membership.models import JoinCode
from bot.features.notices.models import Notice
from bot.platform.inbox_models import WebhookEvent
from bot.platform.line.signature import sign
from tests.conftest import SECRET
from tests.staff.conftest import City, csrf_of, log_in

HUGE = "99999999999999999999"


def _nested(depth: int) -> bytes:
    return b'{"events": ' + b"[" * depth + b"]" * depth + b"}"


def _webhook_bad_signature(http: TestClient, city: City) -> Any:
    raw = b'{"events": []}'
    return http.post("/callback", content=raw, headers={"X-Line-Signature": "ñ署名".encode()})


def _webhook_deep_json(http: TestClient, city: City) -> Any:
    raw = _nested(100_000)  # signed: the parser, not the signature, must refuse it
    return http.post("/callback", content=raw, headers={"X-Line-Signature": sign(raw, SECRET)})


def _login_non_ascii_csrf(http: TestClient, city: City) -> Any:
    csrf_of(http)
    form = {"login": "admin", "password": "x", "csrf_token": "ü" * 10}
    return http.post("/staff/login", data=form)


def _form_post(path: str, **fields: str) -> Callable[[TestClient, City], Any]:
    def post(http: TestClient, city: City) -> Any:
        log_in(http, "officer_a")
        return http.post(path, data={"csrf_token": csrf_of(http, "/staff/"), **fields})

    return post


def _malformed_length(http: TestClient, city: City) -> Any:
    return http.post("/callback", content=b"{}", headers={"Content-Length": "12abc"})


CASES: list[tuple[str, Callable[[TestClient, City], Any], int, str]] = [
    ("non-ASCII X-Line-Signature", _webhook_bad_signature, 400, "invalid signature"),
    ("deeply nested JSON, validly signed", _webhook_deep_json, 400, "malformed webhook body"),
    ("non-ASCII csrf_token on log-in", _login_non_ascii_csrf, 403, ""),
    (
        "huge association_id on /staff/notices",
        _form_post("/staff/notices", association_id=HUGE, title="t", body="b"),
        422,
        "association_id",
    ),
    ("huge association_id on /staff/qr", _form_post("/staff/qr", association_id=HUGE), 422, ""),
    (
        "huge association_id on /staff/events/new",
        _form_post(
            "/staff/events/new",
            association_id=HUGE,
            title="t",
            starts_at="2027-01-01T10:00",
            ends_at="2027-01-01T12:00",
        ),
        400,
        "",
    ),
    ("malformed Content-Length", _malformed_length, 400, "Content-Length"),
]


def _counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            int(session.exec(select(func.count()).select_from(model)).one())
            for model in (Notice, JoinCode, Event, WebhookEvent)
        )


@pytest.mark.parametrize(
    ("attack", "expected", "says"), [(c[1], c[2], c[3]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_gets_a_short_4xx_and_changes_nothing(
    client: TestClient,
    city: City,
    engine: Engine,
    attack: Callable[[TestClient, City], Any],
    expected: int,
    says: str,
) -> None:
    before = _counts(engine)
    answer = attack(client, city)
    assert answer.status_code == expected, answer.text[:300]
    assert says in answer.text
    assert "Traceback" not in answer.text and len(answer.content) < 20_000
    assert _counts(engine) == before
