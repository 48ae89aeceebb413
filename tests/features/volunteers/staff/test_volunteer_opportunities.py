"""Organisers' volunteer opportunities over HTTP: create with a first slot, add a slot, refuse
a bad form without storing anything, call a slot off (residents told through the outbox),
confirm who came, and stay inside their own association (403 elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.models.membership import Membership
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import Opportunity, Shift, Slot, VolunteerOffer
from bot.platform.delivery.models import OutboxMessage, OutboxRecipient
from tests.staff.conftest import START, City, csrf_of, log_in

FORM = {
    "role": "防災訓練の受付",
    "description": "受付と案内をお願いします",
    "interests": ["bousai", "mimamori"],
    "skills": ["first_aid"],
    "day": "2026-04-11",
    "start": "09:00",
    "end": "11:00",
    "place": "第一公民館",
    "needed": "3",
}


def _post(client: TestClient, path: str, data: dict[str, Any], page: str) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)})


def _rows(engine: Engine, model: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(model).order_by(col(model.id))).all())


def _actions(engine: Engine) -> list[str]:
    return [a.action for a in _rows(engine, AuditLog)]


def test_organiser_creates_an_opportunity_and_adds_a_slot(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    form = {**FORM, "association_id": str(city.a), "event_id": str(city.events["a"])}
    created = _post(client, "/staff/volunteers/opportunities", form, "/staff/volunteers")
    assert created.status_code == 303, created.text[:500]
    (opportunity,) = _rows(engine, Opportunity)
    assert created.headers["location"] == (
        f"/staff/volunteers/opportunities/{opportunity.id}?done=created"
    )
    assert (opportunity.role, opportunity.description) == (FORM["role"], FORM["description"])
    assert (opportunity.interests, opportunity.needed_skills) == (
        ["bousai", "mimamori"],
        ["first_aid"],
    )
    assert (opportunity.association_id, opportunity.event_id) == (city.a, city.events["a"])
    assert opportunity.organiser_staff_id == city.logins["organiser_a"]
    (slot,) = _rows(engine, Slot)
    # 09:00-11:00 on Saturday 11 April in Tokyo is 00:00-02:00 UTC.
    assert (slot.starts_at, slot.ends_at) == (
        datetime(2026, 4, 11, 0, 0, tzinfo=UTC),
        datetime(2026, 4, 11, 2, 0, tzinfo=UTC),
    )
    assert (slot.place, slot.needed, slot.filled, slot.status) == ("第一公民館", 3, 0, "open")
    assert (slot.bucket, slot.month) == ("weekend_morning", 202604)

    detail = f"/staff/volunteers/opportunities/{opportunity.id}"
    added = _post(
        client,
        f"{detail}/slots",
        {"day": "2026-04-12", "start": "18:00", "end": "20:30", "place": "", "needed": "2"},
        detail,
    )
    assert added.status_code == 303
    slots = _rows(engine, Slot)
    assert [(s.needed, s.bucket) for s in slots] == [(3, "weekend_morning"), (2, "weekend_evening")]
    assert _actions(engine)[-2:] == ["opportunity_created", "slot_added"]
    page = client.get(detail + "?done=slot_added").text
    assert "2026-04-11 09:00" in page and "2026-04-12 18:00" in page and "防災" in page
    listed = client.get("/staff/volunteers").text
    assert FORM["role"] in listed
    csv_text = client.get("/staff/export/volunteer-opportunities.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("作成日時,役割,町内会")
    assert "防災訓練の受付" in csv_text and ",2,0,5" in csv_text


def test_a_bad_form_is_shown_again_and_nothing_is_stored(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    bad = {
        **FORM,
        "association_id": str(city.a),
        "role": " ",
        "interests": [],
        "end": "08:00",
        "needed": "0",
        "description": "下書きの説明",
    }
    refused = _post(client, "/staff/volunteers/opportunities", bad, "/staff/volunteers")
    assert refused.status_code == 400
    for message in ("役割を1〜80文字", "分野を1つ以上", "人数は1〜50人", "何も保存していません"):
        assert message in refused.text
    assert "下書きの説明" in refused.text  # what was typed comes back
    past = {**FORM, "association_id": str(city.a), "day": "2026-03-01"}
    assert (
        "過去の日時"
        in _post(client, "/staff/volunteers/opportunities", past, "/staff/volunteers").text
    )
    assert _rows(engine, Opportunity) == [] and _rows(engine, Slot) == []
    assert "opportunity_created" not in _actions(engine)


def _opportunity(
    engine: Engine, association_id: int, ward_id: int, *, starts_at: datetime
) -> tuple[int, int]:
    with session_scope(engine) as session:
        opportunity = volunteers.create_opportunity(
            session, role="公園清掃", interests=["seisou"], association_id=association_id, now=START
        )
        slot = volunteers.add_slot(
            session,
            opportunity_id=int(opportunity.id or 0),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            needed=2,
            place="中央公園",
            tz=ZoneInfo("Asia/Tokyo"),
        )
        return int(opportunity.id or 0), int(slot.id or 0)


def _accept(engine: Engine, slot_id: int, resident_ids: list[int]) -> None:
    with session_scope(engine) as session:
        slot = session.get(Slot, slot_id)
        assert slot is not None
        for resident_id in resident_ids:
            session.add(
                VolunteerOffer(
                    slot_id=slot_id,
                    resident_id=resident_id,
                    month=slot.month,
                    status="accepted",
                    offered_at=START,
                    answered_at=START,
                    expires_at=slot.starts_at,
                )
            )
        slot.filled = len(resident_ids)
        session.add(slot)


def _resident(engine: Engine, membership_id: int) -> int:
    with Session(engine) as session:
        member = session.get(Membership, membership_id)
        assert member is not None
        return member.resident_id


def test_another_associations_organiser_is_refused(
    client: TestClient, city: City, engine: Engine
) -> None:
    opportunity_id, slot_id = _opportunity(
        engine, city.b, city.ward1, starts_at=START + timedelta(days=3)
    )
    log_in(client, "organiser_a")
    detail = f"/staff/volunteers/opportunities/{opportunity_id}"
    assert client.get(detail).status_code == 403
    assert client.get(f"{detail}/slots.csv").status_code == 403
    token = csrf_of(client, "/staff/volunteers")
    slot = {
        "day": "2026-04-20",
        "start": "10:00",
        "end": "11:00",
        "needed": "1",
        "csrf_token": token,
    }
    assert client.post(f"{detail}/slots", data=slot).status_code == 403
    assert (
        client.post(
            f"/staff/volunteers/slots/{slot_id}/cancel", data={"csrf_token": token}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/staff/volunteers/slots/{slot_id}/attendance", data={"csrf_token": token}
        ).status_code
        == 403
    )
    other = {**FORM, "association_id": str(city.b), "csrf_token": token}
    assert client.post("/staff/volunteers/opportunities", data=other).status_code == 403
    assert [o.id for o in _rows(engine, Opportunity)] == [opportunity_id]
    assert [(s.id, s.status) for s in _rows(engine, Slot)] == [(slot_id, "open")]
    assert "公園清掃" not in client.get("/staff/volunteers").text
    # Ward staff read volunteering but do not manage it.
    log_in(client, "ward1")
    assert client.get(detail).status_code == 200
    assert (
        client.post(
            f"/staff/volunteers/slots/{slot_id}/cancel",
            data={"csrf_token": csrf_of(client, detail)},
        ).status_code
        == 403
    )


def test_calling_a_slot_off_tells_who_had_accepted(
    client: TestClient, city: City, engine: Engine
) -> None:
    opportunity_id, slot_id = _opportunity(
        engine, city.a, city.ward1, starts_at=START + timedelta(days=3)
    )
    volunteer = _resident(engine, city.members["a"])
    _accept(engine, slot_id, [volunteer])
    log_in(client, "organiser_a")
    detail = f"/staff/volunteers/opportunities/{opportunity_id}"
    cancelled = client.post(
        f"/staff/volunteers/slots/{slot_id}/cancel", data={"csrf_token": csrf_of(client, detail)}
    )
    assert cancelled.headers["location"] == f"{detail}?done=slot_cancelled"
    (slot,) = _rows(engine, Slot)
    assert slot.status == "cancelled"
    assert [o.status for o in _rows(engine, VolunteerOffer)] == ["withdrawn"]
    with Session(engine) as session:
        told = session.exec(
            select(OutboxRecipient.resident_id)
            .join(OutboxMessage, col(OutboxMessage.id) == OutboxRecipient.message_id)
            .where(OutboxMessage.kind == "volunteer_slot_cancelled")
        ).all()
    assert told == [volunteer]
    assert _actions(engine)[-1] == "slot_cancelled"


def test_organiser_confirms_who_came_after_the_shift(
    client: TestClient, city: City, engine: Engine
) -> None:
    opportunity_id, slot_id = _opportunity(
        engine, city.a, city.ward1, starts_at=START - timedelta(hours=3)
    )
    came, absent = _resident(engine, city.members["a"]), _resident(engine, city.pending["a"])
    _accept(engine, slot_id, [came, absent])
    detail = f"/staff/volunteers/opportunities/{opportunity_id}"
    log_in(client, "admin")  # the city reads counts, not names
    page = client.get(detail).text
    assert "ボランティア1" in page and "試験 太郎" not in page
    log_in(client, "organiser_a")
    page = client.get(detail).text
    assert f"試験 太郎{city.a}-2" in page and 'name="came"' in page
    confirmed = client.post(
        f"/staff/volunteers/slots/{slot_id}/attendance",
        data={"csrf_token": csrf_of(client, detail), "came": [str(came)]},
    )
    assert confirmed.headers["location"] == f"{detail}?done=attendance"
    shifts = {s.resident_id: s for s in _rows(engine, Shift)}
    assert (shifts[came].attended, shifts[came].hours, shifts[came].points) == (True, 2.0, 20)
    assert (shifts[absent].attended, shifts[absent].points) == (False, 0)
    assert shifts[came].confirmed_by_staff_id == city.logins["organiser_a"]
    (slot,) = _rows(engine, Slot)
    assert slot.status == "done"
    assert _actions(engine)[-1] == "attendance_confirmed"
    again = client.post(
        f"/staff/volunteers/slots/{slot_id}/attendance",
        data={"csrf_token": csrf_of(client, detail), "came": [str(absent)]},
    )
    assert again.headers["location"] == f"{detail}?done=not_live"
    assert len(_rows(engine, Shift)) == 2
