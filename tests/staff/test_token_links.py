"""Links and tokens that open data without a log-in: calendar links carry an unguessable
token; API tokens expire, and the staff web shows when and when they were last used."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.clock import FixedClock
from bot.core.models.staff import ApiToken
from bot.db import session_scope
from bot.features.events.models import Event
from tests.staff.conftest import START, City, csrf_of, log_in


def test_calendar_files_need_the_links_token(
    client: TestClient, city: City, engine: Engine
) -> None:
    # The finding: /events/{id}.ics was anonymous with sequential ids, members-only or not.
    with session_scope(engine) as db:
        event = db.get(Event, city.events["b"])
        assert event is not None
        token = event.calendar_token
    path = f"/events/{city.events['b']}.ics"
    assert client.get(path).status_code == 404
    assert client.get(path, params={"t": "A" * len(token)}).status_code == 404
    assert client.get(f"/events/{city.events['a']}.ics", params={"t": token}).status_code == 404
    calendar = client.get(path, params={"t": token})
    assert calendar.status_code == 200 and "BEGIN:VEVENT" in calendar.text
    assert f"?t={token}" in calendar.text.replace("\r\n ", "")  # the file links to itself
    assert len(token) >= 20


def _issue(client: TestClient, days: str) -> tuple[int, str]:
    answer = client.post(
        "/staff/tokens",
        data={"name": "集計ツール", "days": days, "csrf_token": csrf_of(client, "/staff/tokens")},
    )
    found = re.search(r'data-testid="new-token">([^<]+)<', answer.text)
    return answer.status_code, found.group(1) if found else ""


def test_api_tokens_expire_and_show_expiry_and_last_use(
    client: TestClient, city: City, engine: Engine, clock: FixedClock
) -> None:
    log_in(client, "ward1")
    status, token = _issue(client, "30")
    assert status == 200 and token.startswith("tsg_")
    page = client.get("/staff/tokens").text
    assert "2026-05-01 10:00" in page  # expires 30 days after 2026-04-01 10:00 Tokyo
    assert "まだ使われていません" in page
    clock.advance(timedelta(hours=1))
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["login"] == "ward1"
    page = client.get("/staff/tokens").text
    assert "2026-04-01 11:00" in page and "まだ使われていません" not in page  # last used
    clock.advance(timedelta(days=30))
    expired = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    assert "期限切れ" in client.get("/staff/tokens").text
    with session_scope(engine) as db:
        row = db.exec(select(ApiToken)).one()
        assert row.expires_at == START + timedelta(days=30)


def test_a_token_lifetime_outside_the_list_is_refused(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "ward1")
    status, token = _issue(client, "3650")
    assert status == 400 and token == ""
    assert (
        "有効期間は一覧から選んでください。"
        in client.post(
            "/staff/tokens",
            data={"name": "x", "days": "7", "csrf_token": csrf_of(client, "/staff/tokens")},
        ).text
    )
    with session_scope(engine) as db:
        assert db.exec(select(ApiToken)).all() == []
