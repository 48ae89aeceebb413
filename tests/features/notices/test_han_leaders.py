"""Naming a member 班長 from the members page: scoped, CSRF-checked, audit-logged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.models.han import HanLeader
from bot.core.models.membership import Membership
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from tests.staff.conftest import City, csrf_of, log_in


def _leaders(engine: Engine) -> list[tuple[int, int, str, bool]]:
    with session_scope(engine) as db:
        return sorted(
            (r.association_id, r.resident_id, r.han, r.revoked_at is None)
            for r in db.exec(select(HanLeader)).all()
        )


def _resident(engine: Engine, membership_id: int) -> int:
    with session_scope(engine) as db:
        row = db.get(Membership, membership_id)
        assert row is not None
        return row.resident_id


def test_officer_names_a_member_hancho_and_ends_the_role(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    page = f"/staff/associations/{city.a}/members"
    token = csrf_of(client, page)
    url = f"/staff/associations/{city.a}/han-leaders"
    member = city.members["a"]

    saved = client.post(url, data={"csrf_token": token, "membership_id": member, "han": " 1班 "})
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=set")
    resident = _resident(engine, member)
    assert _leaders(engine) == [(city.a, resident, "1班", True)]
    shown = client.get(saved.headers["location"]).text
    assert "班長に指名しました" in shown and 'data-label="班長（班）">1班</td>' in shown

    # A pending applicant, or another association's member, cannot be named: nothing stored.
    for other in (city.pending["a"], city.members["b"]):
        bad = client.post(url, data={"csrf_token": token, "membership_id": other, "han": "2班"})
        assert bad.headers["location"].endswith("done=invalid")
    assert _leaders(engine) == [(city.a, resident, "1班", True)]

    ended = client.post(url, data={"csrf_token": token, "membership_id": member, "han": ""})
    assert ended.headers["location"].endswith("done=revoked")
    assert _leaders(engine) == [(city.a, resident, "1班", False)]
    with session_scope(engine) as db:
        entries = [
            (e.action, e.target_id)
            for e in db.exec(select(AuditLog)).all()
            if e.action.startswith("han_leader")
        ]
    assert entries == [("han_leader_set", str(member)), ("han_leader_revoke", str(member))]


def test_other_associations_and_missing_csrf_are_refused(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    token = csrf_of(client, f"/staff/associations/{city.a}/members")
    other = client.post(
        f"/staff/associations/{city.b}/han-leaders",
        data={"csrf_token": token, "membership_id": city.members["b"], "han": "1班"},
    )
    assert other.status_code == 403
    forged = client.post(
        f"/staff/associations/{city.a}/han-leaders",
        data={"membership_id": city.members["a"], "han": "1班"},
    )
    assert forged.status_code == 403
    assert _leaders(engine) == []
