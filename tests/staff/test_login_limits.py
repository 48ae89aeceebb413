"""Log-in limits: a per-account back-off that no address can turn into a lock-out, and a
per-address cap on failures across logins, counted on the real client behind the proxy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.db import session_scope
from bot.staff import auth
from tests.staff.conftest import PASSWORD, START, City, csrf_of


def _try(engine: Engine, login: str, password: str, ip: str, at: Any) -> Any:
    with session_scope(engine) as db:
        account = auth.authenticate(db, login=login, password=password, client_ip=ip, now=at)
        return account.login if account else None


def test_guesses_from_many_addresses_slow_the_account_but_never_lock_the_owner_out(
    engine: Engine, city: City
) -> None:
    # The finding: five wrong passwords locked the real admin out for 15 minutes.
    at = START
    for n in range(12):  # a guesser on twelve addresses, waiting out each back-off
        at += timedelta(seconds=61)
        assert _try(engine, "admin", f"guess-{n}-wrong", f"198.51.100.{n}", at) is None
    with pytest.raises(auth.TooManyAttempts) as paused:  # straight after the last guess
        _try(engine, "admin", "guess-again-wrong", "198.51.100.99", at)
    assert 1 <= paused.value.retry_after <= auth.ACCOUNT_MAX_DELAY.total_seconds() + 1
    # The owner, at their desk, waits at most a minute and is in.
    owner_at = at + auth.ACCOUNT_MAX_DELAY + timedelta(seconds=1)
    assert _try(engine, "admin", PASSWORD, "192.0.2.10", owner_at) == "admin"


def test_the_back_off_starts_after_a_few_failures_and_grows(engine: Engine, city: City) -> None:
    for n in range(auth.ACCOUNT_FREE_FAILURES):
        assert _try(engine, "ward1", "wrong-password", f"203.0.113.{n}", START) is None
    # The sixth try, from yet another address, must wait a second after the fifth failure.
    with pytest.raises(auth.TooManyAttempts):
        _try(engine, "ward1", PASSWORD, "203.0.113.50", START)
    assert _try(engine, "ward1", PASSWORD, "203.0.113.50", START + timedelta(seconds=2)) == "ward1"


def test_one_address_cannot_spray_a_password_across_every_account(
    engine: Engine, city: City
) -> None:
    logins = ["admin", "ward1", "officer_a", "officer_b", "organiser_a"]
    at = START  # four tries per account: under every account's back-off
    for n in range(auth.ADDRESS_MAX_FAILURES):
        assert _try(engine, logins[n % len(logins)], "Spring2026!!", "198.51.100.7", at) is None
    with pytest.raises(auth.TooManyAttempts):
        _try(engine, "officer_b", PASSWORD, "198.51.100.7", at)
    # Everyone else, elsewhere, still logs in.
    assert _try(engine, "officer_b", PASSWORD, "192.0.2.20", at) == "officer_b"


def _behind_proxy(client: TestClient) -> TestClient:
    """The app as `tsunagari serve` runs it behind the Compose load balancer: uvicorn's proxy
    headers middleware, trusting only the balancer (here the test client's address)."""
    app = ProxyHeadersMiddleware(client.app, trusted_hosts="testclient")  # type: ignore[arg-type]
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def _post_login(http: TestClient, login: str, password: str, forwarded_for: str) -> Any:
    token = csrf_of(http)
    return http.post(
        "/staff/login",
        data={"login": login, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_limits_count_the_real_client_behind_the_proxy(client: TestClient, city: City) -> None:
    http = _behind_proxy(client)
    logins = ["admin", "ward1", "officer_a", "officer_b", "organiser_a"]
    for n in range(auth.ADDRESS_MAX_FAILURES):
        answer = _post_login(http, logins[n % len(logins)], "wrong-password", "198.51.100.7")
        assert answer.status_code == 401
    blocked = _post_login(http, "officer_a", PASSWORD, "198.51.100.7")
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    # Another resident of the same proxy (everyone was the proxy before) logs in.
    assert _post_login(http, "officer_a", PASSWORD, "192.0.2.30").status_code == 303
