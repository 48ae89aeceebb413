"""Running an event from the staff web: announce once with its cost, the roster for the right
people only (audited), the reception sheet and venue QR as PDFs, walk-ins counted once."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot.core.models.membership import Membership
from bot.core.models.residents import Resident
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.events import checkin
from bot.features.events.models import Event, Rsvp, WalkIn
from bot.features.events.staff.paper import BLANK_ROWS
from bot.features.notices.models import Notice
from tests.features.events.test_event_authoring import FORM
from tests.harness import deliver
from tests.staff.conftest import START, City, csrf_of, log_in


def _create(client: TestClient, city: City, **extra: str) -> int:
    token = csrf_of(client, "/staff/events/new")
    form_token = re.search(
        r'name="form_token" value="([^"]+)"', client.get("/staff/events/new").text
    )
    assert form_token
    created = client.post(
        "/staff/events/new",
        data={
            **FORM,
            "csrf_token": token,
            "association_id": city.a,
            "publish": "true",
            "form_token": form_token.group(1),
            **extra,
        },
    )
    assert created.status_code == 303, created.text[:300]
    found = re.search(r"/staff/events/(\d+)/edit", created.headers["location"])
    assert found
    return int(found.group(1))


def _audits(engine: Engine, action: str) -> list[AuditLog]:
    with session_scope(engine) as db:
        return list(db.exec(select(AuditLog).where(AuditLog.action == action)).all())


def _member(engine: Engine, membership_id: int) -> tuple[int, str, str]:
    with session_scope(engine) as db:
        membership = db.get(Membership, membership_id)
        assert membership is not None
        resident = db.get(Resident, membership.resident_id)
        assert resident is not None
        return int(resident.id or 0), str(resident.line_user_id), membership.full_name


def test_announce_shows_recipients_and_cost_then_sends_once(
    line_client: TestClient, city: City, engine: Engine, standin: Any
) -> None:
    client = line_client
    log_in(client, "organiser_a")
    event_id = _create(client, city)
    event_page = client.get(f"/staff/events/{event_id}").text
    assert f'href="/staff/events/{event_id}/announce"' in event_page
    preview = client.get(f"/staff/events/{event_id}/announce").text
    # Association A has one approved member reachable by LINE; text + card = 2 messages.
    assert re.search(r'data-testid="recipients">1<', preview)
    assert re.search(r'data-testid="quota">2<', preview)
    assert "この内容で告知を送る" in preview
    token = csrf_of(client, f"/staff/events/{event_id}/announce")
    for _ in range(2):  # a double click
        sent = client.post(f"/staff/events/{event_id}/announce", data={"csrf_token": token})
        assert sent.status_code == 303
    deliver(engine, standin, client.app.state.settings, START)  # type: ignore[attr-defined]
    _rid, line_user, _name = _member(engine, city.members["a"])
    cards = [
        m
        for m in standin.messages_to(line_user)
        if m.get("type") == "flex" and FORM["title"] in (m.get("altText") or "")
    ]
    assert len(cards) == 1
    with session_scope(engine) as db:
        announcements = db.exec(
            select(func.count())
            .select_from(Notice)
            .where(Notice.event_id == event_id, Notice.kind == "event_announcement")
        ).one()
    assert announcements == 1
    assert len(_audits(engine, "event_announced")) == 1
    after = client.get(f"/staff/events/{event_id}/announce").text
    assert "告知済みです（1人に送りました）" in after and "この内容で告知を送る" not in after


def test_a_draft_cannot_be_announced(client: TestClient, city: City, engine: Engine) -> None:
    log_in(client, "organiser_a")
    token = csrf_of(client, "/staff/events/new")
    client.post("/staff/events/new", data={**FORM, "csrf_token": token, "association_id": city.a})
    with session_scope(engine) as db:
        draft = db.exec(select(Event).where(Event.title == FORM["title"])).one()
    page = client.get(f"/staff/events/{draft.id}/announce").text
    assert 'data-testid="not-published"' in page
    client.post(f"/staff/events/{draft.id}/announce", data={"csrf_token": token})
    assert _audits(engine, "event_announced") == []


def _note_needs(engine: Engine, event_id: int, needs: str) -> None:
    with session_scope(engine) as db:
        answer = db.exec(select(Rsvp).where(Rsvp.event_id == event_id)).one()
        answer.needs = needs
        db.add(answer)


def test_roster_is_for_the_officers_and_this_events_organiser_only(
    client: TestClient, city: City, engine: Engine
) -> None:
    event_a = city.events["a"]
    _note_needs(engine, event_a, "車いす")
    _rid, _line, name = _member(engine, city.members["a"])
    log_in(client, "officer_a")
    page = client.get(f"/staff/events/{event_a}/roster")
    assert page.status_code == 200
    assert name in page.text and "車いす" in page.text and "大人2人・子ども0人" in page.text
    assert 'data-testid="needs-count">1<' in page.text
    viewed = _audits(engine, "event_roster_viewed")
    assert [(a.account_id, a.target_id) for a in viewed] == [
        (city.logins["officer_a"], str(event_a))
    ]
    # The organiser role of the same association, but not this event's organiser; the city
    # and the ward (counts only); an officer of another association: none see names.
    for login in ("organiser_a", "admin", "ward1", "officer_b"):
        client.cookies.clear()
        log_in(client, login)
        refused = client.get(f"/staff/events/{event_a}/roster")
        assert refused.status_code == 403, login
        assert name not in refused.text
        assert client.get(f"/staff/events/{event_a}/reception.pdf").status_code == 403
        tally = client.get(f"/staff/events/{event_a}")
        assert f"/staff/events/{event_a}/roster" not in tally.text
    assert len(_audits(engine, "event_roster_viewed")) == 1  # refusals view nothing
    # The organiser of this event sees it.
    client.cookies.clear()
    log_in(client, "organiser_a")
    with session_scope(engine) as db:
        event = db.get(Event, event_a)
        assert event is not None
        event.organiser_staff_id = city.logins["organiser_a"]
        db.add(event)
    assert f"/staff/events/{event_a}/roster" in client.get(f"/staff/events/{event_a}").text
    assert name in client.get(f"/staff/events/{event_a}/roster").text
    assert len(_audits(engine, "event_roster_viewed")) == 2


def _pdf_text(raw: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(raw))
    return len(reader.pages), "".join(page.extract_text() for page in reader.pages)


def test_reception_sheet_pdf_has_a_row_per_attendee_and_blank_rows(
    client: TestClient, city: City, engine: Engine
) -> None:
    event_a = city.events["a"]
    _note_needs(engine, event_a, "手話通訳")
    _rid, _line, name = _member(engine, city.members["a"])
    log_in(client, "officer_a")
    response = client.get(f"/staff/events/{event_a}/reception.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pages, text = _pdf_text(response.content)
    assert pages == 1
    assert "受付名簿" in text and "清掃活動a" in text
    assert name in text and "手話通訳" in text
    assert "参加の回答 1件・2人" in text
    # One attendee row, then BLANK_ROWS numbered rows for walk-ins (the last number is printed).
    assert str(1 + BLANK_ROWS) in text.split() and str(2 + BLANK_ROWS) not in text.split()
    assert len(_audits(engine, "event_roster_printed")) == 1


def test_venue_checkin_poster_is_one_large_a4_page(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    response = client.get(f"/staff/events/{city.events['a']}/checkin-poster.pdf")
    assert response.status_code == 200
    pages, text = _pdf_text(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    box = reader.pages[0].mediabox
    assert pages == 1 and (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert "受付はこちら" in text and "清掃活動a" in text
    with session_scope(engine) as db:
        event = db.get(Event, city.events["a"])
        assert event is not None
        link = checkin.checkin_link(event, client.app.state.content, "@tsunagari")  # type: ignore[attr-defined]
    # The QR's link opens the bot's chat with a message holding this event's check-in code.
    assert link.startswith("https://line.me/R/oaMessage/@tsunagari/?")
    assert f"CHK-{event.checkin_code}" in unquote(link)


def test_walk_ins_count_once_per_tap_and_reach_the_tally(
    client: TestClient, city: City, engine: Engine
) -> None:
    event_a = city.events["a"]
    log_in(client, "organiser_a")
    door = client.get(f"/staff/events/{event_a}/door").text
    tokens = re.findall(r'name="form_token" value="([^"]+)"', door)
    assert len(tokens) == 2  # 大人 ＋1 and 子ども ＋1
    csrf = csrf_of(client, f"/staff/events/{event_a}/door")
    adult = {"csrf_token": csrf, "adults": "1", "form_token": tokens[0]}
    for _ in range(2):  # a double tap
        assert client.post(f"/staff/events/{event_a}/walk-ins", data=adult).status_code == 303
    child = {"csrf_token": csrf, "children": "1", "form_token": tokens[1]}
    assert client.post(f"/staff/events/{event_a}/walk-ins", data=child).status_code == 303
    # Bad input: nothing counted.
    client.post(f"/staff/events/{event_a}/walk-ins", data={"csrf_token": csrf})
    bad = client.post(
        f"/staff/events/{event_a}/walk-ins", data={"csrf_token": csrf, "adults": "-3"}
    )
    assert bad.status_code == 422
    with session_scope(engine) as db:
        rows = db.exec(select(WalkIn).where(WalkIn.event_id == event_a)).all()
    # The city's one earlier row (3 adults, 1 child) plus one adult and one child.
    assert sorted((w.adults, w.children) for w in rows) == [(0, 1), (1, 0), (3, 1)]
    after = client.get(f"/staff/events/{event_a}/door").text
    assert 'data-testid="walk-in-adults">4<' in after
    assert 'data-testid="walk-in-children">2<' in after
    tally = client.get(f"/staff/events/{event_a}").text
    assert 'data-testid="note-attended">7<' in tally  # 1 checked in + 4 adults + 2 children
    assert len(_audits(engine, "event_walk_in")) == 2


def test_ward_staff_cannot_count_walk_ins_for_another_ward(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "ward1")
    assert client.get(f"/staff/events/{city.events['c']}/door").status_code == 403
    csrf = csrf_of(client, "/staff/tokens")
    refused = client.post(
        f"/staff/events/{city.events['c']}/walk-ins", data={"csrf_token": csrf, "adults": "1"}
    )
    assert refused.status_code == 403
    with session_scope(engine) as db:
        rows = db.exec(select(WalkIn).where(WalkIn.event_id == city.events["c"])).all()
    assert len(rows) == 1


def test_event_form_resubmitted_creates_one_event(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    token = csrf_of(client, "/staff/events/new")
    found = re.search(r'name="form_token" value="([^"]+)"', client.get("/staff/events/new").text)
    assert found
    data = {**FORM, "csrf_token": token, "association_id": city.a, "form_token": found.group(1)}
    first = client.post("/staff/events/new", data=data)
    second = client.post("/staff/events/new", data=data)  # back, then submit again
    assert first.headers["location"] == second.headers["location"]
    with session_scope(engine) as db:
        assert len(db.exec(select(Event).where(Event.title == FORM["title"])).all()) == 1
    assert len(_audits(engine, "event_created")) == 1
    # A new filling-in of the form (a fresh token) is a new event.
    again = re.search(r'name="form_token" value="([^"]+)"', client.get("/staff/events/new").text)
    assert again and again.group(1) != found.group(1)
    client.post("/staff/events/new", data={**data, "form_token": again.group(1)})
    with session_scope(engine) as db:
        assert len(db.exec(select(Event).where(Event.title == FORM["title"])).all()) == 2


def test_an_event_with_only_walk_ins_shows_in_participation_breadth(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    event_id = _create(client, city, title="防災訓練")
    door = client.get(f"/staff/events/{event_id}/door").text
    token = re.findall(r'name="form_token" value="([^"]+)"', door)[0]
    csrf = csrf_of(client, f"/staff/events/{event_id}/door")
    client.post(
        f"/staff/events/{event_id}/walk-ins",
        data={"csrf_token": csrf, "adults": "1", "form_token": token},
    )
    rows = client.get("/staff/export/diversity.csv").content.decode("utf-8-sig").splitlines()
    assert any(r.endswith(",防災訓練,0,0,0,1") for r in rows), rows


def test_an_officer_checks_in_from_the_roster_once(
    client: TestClient, city: City, engine: Engine
) -> None:
    from bot.features.events.models import CheckIn

    event_b = city.events["b"]
    with session_scope(engine) as db:
        answer = db.exec(select(Rsvp).where(Rsvp.event_id == event_b)).one()
        for row in db.exec(select(CheckIn).where(CheckIn.event_id == event_b)).all():
            db.delete(row)
        rsvp_id = int(answer.id or 0)
    log_in(client, "officer_b")
    page = client.get(f"/staff/events/{event_b}/roster").text
    assert f'data-testid="attend-{rsvp_id}"' in page
    csrf = csrf_of(client, f"/staff/events/{event_b}/roster")
    for _ in range(2):  # a double tap
        done = client.post(
            f"/staff/events/{event_b}/roster/{rsvp_id}/attend", data={"csrf_token": csrf}
        )
        assert done.status_code == 303
    with session_scope(engine) as db:
        rows = db.exec(select(CheckIn).where(CheckIn.event_id == event_b)).all()
    assert [(r.method, r.marked_by_staff_id) for r in rows] == [("staff", city.logins["officer_b"])]
    assert len(_audits(engine, "event_checked_in_by_staff")) == 1
    assert (
        f'data-testid="attend-{rsvp_id}"' not in client.get(f"/staff/events/{event_b}/roster").text
    )
    # Another event's answer through this event's address: not found, nothing marked.
    wrong = client.post(
        f"/staff/events/{event_b}/roster/{rsvp_id + 1000}/attend", data={"csrf_token": csrf}
    )
    assert wrong.status_code == 404


KANA = re.compile(r"[\u3040-\u30ff]+")


def test_event_pages_in_english_have_no_japanese_words(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    client.get("/staff/?lang=en")
    event_a = city.events["a"]
    expected = {
        "": "Roster (names and needs)",
        "/announce": "Send the announcement",
        "/roster": "Print the reception sheet",
        "/door": "Adult +1",
    }
    for path, words in expected.items():
        page = client.get(f"/staff/events/{event_a}{path}")
        assert page.status_code == 200, path
        assert words in page.text, path
        visible = re.sub(r"<[^>]+>", " ", page.text)
        assert not KANA.findall(visible), (path, KANA.findall(visible)[:5])
