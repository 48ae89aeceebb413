"""Who may invite everyone in the city: city and ward staff only. Officers and organisers
publish within their associations, whatever they post."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.db import session_scope
from bot.features.events.models import Event
from tests.staff.conftest import City, csrf_of, log_in

FORM = {
    "title": "市民清掃デー",
    "category": "cleanup",
    "place": "中央公園",
    "starts_at": "2026-04-12T09:00",
    "ends_at": "2026-04-12T11:00",
    "audience": "everyone",
}


def _create(client: TestClient, city: City, engine: Engine, login: str) -> tuple[int, list[Event]]:
    log_in(client, login)
    token = csrf_of(client, "/staff/events/new")
    answer = client.post(
        "/staff/events/new",
        data={**FORM, "csrf_token": token, "association_id": city.a, "publish": "true"},
    )
    return answer.status_code, _stored(engine)


def _stored(engine: Engine) -> list[Event]:
    with session_scope(engine) as db:
        return list(db.exec(select(Event).where(Event.title == FORM["title"])).all())


@pytest.mark.parametrize("login", ["officer_a", "organiser_a"])
def test_officers_and_organisers_cannot_invite_the_whole_city(
    client: TestClient, city: City, engine: Engine, login: str
) -> None:
    log_in(client, login)
    offered = client.get("/staff/events/new").text
    assert 'value="everyone"' not in offered  # not even offered
    status, stored = _create(client, city, engine, login)
    assert status == 400 and stored == []  # and refused when posted anyway


@pytest.mark.parametrize("login", ["admin", "ward1"])
def test_city_and_ward_staff_may_invite_everyone(
    client: TestClient, city: City, engine: Engine, login: str
) -> None:
    log_in(client, login)
    assert 'value="everyone"' in client.get("/staff/events/new").text
    status, stored = _create(client, city, engine, login)
    assert status == 303
    assert [e.audience.get("scope") for e in stored] == ["everyone"]


def test_an_officer_editing_a_city_wide_event_keeps_its_audience_unchanged(
    client: TestClient, city: City, engine: Engine
) -> None:
    _create(client, city, engine, "ward1")
    [event] = _stored(engine)
    log_in(client, "officer_a")
    page = client.get(f"/staff/events/{event.id}/edit").text
    assert 'value="current" selected' in page and 'value="everyone"' not in page
    token = csrf_of(client, f"/staff/events/{event.id}/edit")
    fields = {**FORM, "title": FORM["title"], "place": "第二公園", "audience": "current"}
    saved = client.post(f"/staff/events/{event.id}/edit", data={**fields, "csrf_token": token})
    assert saved.status_code == 303
    [after] = _stored(engine)
    assert after.place == "第二公園" and after.audience.get("scope") == "everyone"
    widened = client.post(
        f"/staff/events/{event.id}/edit",
        data={**fields, "audience": "everyone", "csrf_token": token},
    )
    assert widened.status_code == 400
