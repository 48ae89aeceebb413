"""Schemathesis against the served OpenAPI: no input makes the app answer with a server error.

Bounded: a few dozen generated requests per operation, authenticated with a staff API
token; the LINE webhook is left out (its requests are signed, and tests/test_webhook.py
covers it).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy.engine import Engine

from bot.core.models.staff import StaffAccount
from bot.db import session_scope
from bot.staff import auth
from tests.staff.conftest import City

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = 30


@pytest.fixture
def officer_token(engine: Engine, city: City) -> str:
    """A token of association A's officer, whose scope holds members and pending applications."""
    with session_scope(engine) as db:
        account = db.get(StaffAccount, city.logins["officer_a"])
        assert account is not None
        return auth.issue_api_token(db, account, "schemathesis", account.created_at)


def _checks(path: str) -> list[object]:
    if path.startswith("/api/v1"):
        # The staff API also answers as documented: declared codes and response shapes.
        return [not_a_server_error, response_schema_conformance, status_code_conformance]
    return [not_a_server_error]


def test_no_server_errors(client: TestClient, city: City, officer_token: str) -> None:
    # Driven by hand rather than by schemathesis' pytest plugin, which needs pytest < 9.
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app).exclude(path="/callback")
    headers = {"Authorization": f"Bearer {officer_token}"}
    tested: list[str] = []
    calls: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=_checks(case.path))
            calls.append(response.status_code)

        run()
        tested.append(operation.path)
    assert any(path.startswith("/api/v1/associations") for path in tested), tested
    assert "/callback" not in tested
    assert len(calls) >= 3 * len(tested)  # generation really ran, not one request each
    assert 200 in calls and 403 in calls  # in-scope and out-of-scope ids both came up
