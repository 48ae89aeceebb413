"""Organisers create, edit and cancel events in the staff web; answerers hear through LINE."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.models.membership import Membership
from bot.core.models.residents import Resident
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.events import rsvp
from bot.features.events.models import Event
from tests.harness import deliver
from tests.staff.conftest import START, City, csrf_of, log_in

FORM = {
    "title": "春の清掃活動",
    "category": "cleanup",
    "description": "軍手をお持ちください。",
    "place": "青葉公園",
    "latitude": "35.6581",
    "longitude": "139.7017",
    "starts_at": "2026-04-12T09:00",
    "ends_at": "2026-04-12T11:00",
    "capacity": "20",
    "headcount_allowed": "true",
    "rsvp_deadline": "2026-04-10T18:00",
    "audience": "association",
    "image_url": "https://example.org/clean.png",
}


def _member_a(engine: Engine, city: City) -> tuple[int, str]:
    with session_scope(engine) as db:
        membership = db.get(Membership, city.members["a"])
        resident = db.get(Resident, membership.resident_id)  # type: ignore[union-attr]
        return int(resident.id), str(resident.line_user_id)  # type: ignore[union-attr]


def _events_titled(engine: Engine, title: str) -> list[Event]:
    with session_scope(engine) as db:
        return list(db.exec(select(Event).where(Event.title == title)).all())


def _texts_to(standin: Any, user_id: str) -> list[str]:
    return [m.get("text") or m.get("altText") or "" for m in standin.messages_to(user_id)]


def test_invalid_event_form_shows_errors_and_stores_nothing(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    token = csrf_of(client, "/staff/events/new")
    bad = {
        **FORM,
        "csrf_token": token,
        "association_id": city.a,
        "title": "",
        "ends_at": "2026-04-12T08:00",
        "image_url": "http://example.org/x.png",
        "latitude": "135",
        "capacity": "0",
    }
    response = client.post("/staff/events/new", data=bad)
    assert response.status_code == 400
    page = response.text
    assert 'data-testid="errors"' in page
    for field in ("title", "ends_at", "image_url", "latitude", "capacity"):
        assert f'data-field="{field}"' in page, field
    assert "終了日時が開始日時より前になっています。" in page
    assert 'value="青葉公園"' in page  # what was typed is kept
    past = client.post(
        "/staff/events/new",
        data={
            **FORM,
            "csrf_token": token,
            "association_id": city.a,
            "starts_at": "2026-03-01T09:00",
            "ends_at": "2026-03-01T10:00",
        },
    )
    assert past.status_code == 400 and 'data-field="starts_at"' in past.text
    assert _events_titled(engine, FORM["title"]) == []
    with session_scope(engine) as db:
        assert not db.exec(select(AuditLog).where(AuditLog.action == "event_created")).all()


def test_organiser_creates_edits_and_cancels_an_event_and_answerers_are_told(
    line_client: TestClient, city: City, engine: Engine, standin: Any
) -> None:
    client = line_client
    log_in(client, "organiser_a")
    token = csrf_of(client, "/staff/events/new")
    created = client.post(
        "/staff/events/new",
        data={**FORM, "csrf_token": token, "association_id": city.a, "publish": "true"},
    )
    assert created.status_code == 303, created.text[:300]
    [event] = _events_titled(engine, FORM["title"])
    assert created.headers["location"] == f"/staff/events/{event.id}/edit?done=created"
    assert event.association_id == city.a and event.status == "published"
    assert event.starts_at == datetime(2026, 4, 12, 0, 0, tzinfo=UTC)  # 09:00 Tokyo
    assert event.ends_at == datetime(2026, 4, 12, 2, 0, tzinfo=UTC)
    assert event.rsvp_deadline == datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
    assert (event.capacity, event.headcount_allowed, event.category) == (20, True, "cleanup")
    assert (event.latitude, event.longitude) == (35.6581, 139.7017)
    assert event.audience["scope"] == "association" and event.audience["ids"] == [city.a]
    assert event.image_url == FORM["image_url"]
    assert event.organiser_staff_id == city.logins["organiser_a"]

    resident_id, line_user = _member_a(engine, city)
    with session_scope(engine) as db:
        saved = rsvp.answer(
            db,
            event_id=int(event.id or 0),
            resident_id=resident_id,
            choice="going",
            now=START,
        )
    assert saved.status == "saved"

    edit_url = f"/staff/events/{event.id}/edit"
    form_page = client.get(edit_url).text
    assert 'value="2026-04-12T09:00"' in form_page and 'value="青葉公園"' in form_page
    token = csrf_of(client, edit_url)
    edited = client.post(
        edit_url,
        data={
            **FORM,
            "csrf_token": token,
            "place": "青葉小学校体育館",
            "starts_at": "2026-04-19T09:00",
            "ends_at": "2026-04-19T11:00",
            "rsvp_deadline": "2026-04-17T18:00",
        },
    )
    assert edited.status_code == 303, edited.text[:300]
    [event] = _events_titled(engine, FORM["title"])
    assert event.place == "青葉小学校体育館" and event.revision == 1
    assert event.starts_at == datetime(2026, 4, 19, 0, 0, tzinfo=UTC)
    deliver(engine, standin, client.app.state.settings, START)  # type: ignore[attr-defined]
    told = [t for t in _texts_to(standin, line_user) if "変更のお知らせ" in t]
    assert len(told) == 1 and "青葉小学校体育館" in told[0] and "4月19日" in told[0]

    cancelled = client.post(f"/staff/events/{event.id}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303
    client.post(f"/staff/events/{event.id}/cancel", data={"csrf_token": token})  # twice: once
    deliver(engine, standin, client.app.state.settings, START)  # type: ignore[attr-defined]
    [event] = _events_titled(engine, FORM["title"])
    assert event.status == "cancelled"
    assert len([t for t in _texts_to(standin, line_user) if "中止のお知らせ" in t]) == 1
    refused = client.post(edit_url, data={**FORM, "csrf_token": token, "title": "再開"})
    assert refused.status_code == 400 and _events_titled(engine, "再開") == []
    with session_scope(engine) as db:
        log = [
            (e.action, e.detail)
            for e in db.exec(
                select(AuditLog).where(AuditLog.target_type == "event").order_by(AuditLog.id)
            ).all()
        ]  # type: ignore[arg-type]
    assert [a for a, _ in log] == ["event_created", "event_updated", "event_cancelled"]
    assert log[1][1]["told"] is True and "place" in log[1][1]["fields"]


def test_officer_cannot_edit_or_cancel_another_associations_event(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    other = city.events["b"]
    assert client.get(f"/staff/events/{other}/edit").status_code == 403
    token = csrf_of(client, "/staff/events/new")
    refused = client.post(
        f"/staff/events/{other}/edit", data={**FORM, "csrf_token": token, "title": "乗っ取り"}
    )
    assert refused.status_code == 403
    assert (
        client.post(f"/staff/events/{other}/cancel", data={"csrf_token": token}).status_code == 403
    )
    create_for_b = client.post(
        "/staff/events/new", data={**FORM, "csrf_token": token, "association_id": city.b}
    )
    assert create_for_b.status_code == 403
    with session_scope(engine) as db:
        event_b = db.get(Event, other)
        assert event_b is not None and event_b.title == "清掃活動b"
        assert event_b.status == "published"
    assert _events_titled(engine, FORM["title"]) == [] and _events_titled(engine, "乗っ取り") == []
    # Their own association's event is theirs to edit.
    assert client.get(f"/staff/events/{city.events['a']}/edit").status_code == 200
    assert 'href="/staff/events/new"' in client.get("/staff/events").text


def test_ward_staff_edit_only_within_their_ward(client: TestClient, city: City) -> None:
    log_in(client, "ward1")
    assert client.get(f"/staff/events/{city.events['b']}/edit").status_code == 200
    assert client.get(f"/staff/events/{city.events['c']}/edit").status_code == 403


def test_editing_keeps_an_audience_the_form_cannot_express(
    client: TestClient, city: City, engine: Engine
) -> None:
    district = {"scope": "district", "ids": [1], "interest": "防災", "never_participated": False}
    with session_scope(engine) as db:
        event = db.get(Event, city.events["a"])
        assert event is not None
        event.audience = district
        db.add(event)
    log_in(client, "organiser_a")
    url = f"/staff/events/{city.events['a']}/edit"
    assert '<option value="current" selected>' in client.get(url).text
    saved = client.post(
        url,
        data={
            **FORM,
            "csrf_token": csrf_of(client, url),
            "audience": "current",
            "title": "地区の防災訓練",
        },
    )
    assert saved.status_code == 303
    [event] = _events_titled(engine, "地区の防災訓練")
    assert event.audience == district
