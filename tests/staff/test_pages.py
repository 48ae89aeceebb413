"""Staff pages beyond membership: QR codes and posters, events, the audit log, the nav."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.models.areas import District
from bot.core.models.membership import Membership
from bot.core.models.residents import Resident
from bot.core.models.staff import AuditLog, StaffAccount
from bot.db import session_scope
from bot.features.events.models import CheckIn, Event
from bot.features.membership.models import JoinCode, ResidentSource
from bot.features.surveys.models import SurveyAnswer, SurveyWave
from bot.features.volunteers.models import Opportunity, Shift, Slot, VolunteerOffer
from tests.staff.conftest import PASSWORD, START, City, csrf_of, log_in


def test_officer_prints_own_codes_only(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    page = client.get("/staff/qr").text
    assert f'data-code="{city.codes["a"]}"' in page
    assert f'data-code="{city.codes["b"]}"' not in page
    svg = client.get(f"/staff/qr/{city.codes['a']}.svg")
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
    png = client.get(f"/staff/qr/{city.codes['a']}.png")
    assert png.content.startswith(b"\x89PNG")
    poster = client.get(f"/staff/qr/{city.codes['a']}/poster")
    assert poster.status_code == 200 and "青葉町内会" in poster.text and "<svg" in poster.text
    assert client.get(f"/staff/qr/{city.codes['b']}.svg").status_code == 403
    assert client.get(f"/staff/qr/{city.codes['b']}/poster").status_code == 403
    assert client.get("/staff/qr/999999.svg").status_code == 404


def test_ward_staff_see_codes_of_associations_in_their_ward(client: TestClient, city: City) -> None:
    log_in(client, "ward1")
    page = client.get("/staff/qr").text
    assert f'data-code="{city.codes["a"]}"' in page and f'data-code="{city.codes["b"]}"' in page
    assert f'data-code="{city.codes["c"]}"' not in page


def test_issuing_a_code_is_scoped_and_audited(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    token = csrf_of(client, "/staff/qr")
    refused = client.post("/staff/qr", data={"csrf_token": token, "association_id": city.b})
    assert refused.status_code == 403
    made = client.post("/staff/qr", data={"csrf_token": token, "association_id": city.a})
    assert made.status_code == 303
    with session_scope(engine) as db:
        codes = db.exec(select(JoinCode).where(JoinCode.association_id == city.a)).all()
        issued = db.exec(select(AuditLog).where(AuditLog.action == "qr_issued")).all()
        assert not db.exec(
            select(JoinCode).where(
                JoinCode.association_id == city.b, JoinCode.id != city.codes["b"]
            )
        ).all()
    assert len(codes) == 2 and len(issued) == 1


def test_events_list_links_to_tallies_in_scope(client: TestClient, city: City) -> None:
    log_in(client, "organiser_a")
    page = client.get("/staff/events").text
    assert f'href="/staff/events/{city.events["a"]}"' in page
    assert f'/staff/events/{city.events["b"]}"' not in page
    tally = client.get(f"/staff/events/{city.events['a']}").text
    assert "当日参加（大人）" in tally and "<svg" in tally
    assert client.get("/staff/events/999999").status_code == 404


def test_audit_page_shows_who_did_what(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    client.post(
        f"/staff/applications/{city.pending['a']}/approve",
        data={"csrf_token": csrf_of(client, "/staff/pending")},
    )
    log_in(client, "admin")
    page = client.get("/staff/audit").text
    assert "officer_a" in page and "入会申込" in page and "入会の承認" in page
    # Actions and target kinds in words, never their codes.
    assert ">approve<" not in page and ">membership<" not in page and ">login<" not in page
    assert "ログイン" in page


def _compose(client: TestClient, association_id: int) -> str:
    response = client.post(
        "/staff/notices",
        data={
            "csrf_token": csrf_of(client, "/staff/notices"),
            "association_id": association_id,
            "title": "資源回収のお知らせ",
            "body": "土曜日の朝8時までに出してください。",
            "ack_requested": "true",
        },
    )
    assert response.status_code == 303, response.text[:200]
    return response.headers["location"]


def test_compose_preview_schedule_and_send_a_notice(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    location = _compose(client, city.a)
    preview = client.get(location).text
    # A's one approved member follows the bot: one recipient, one API call.
    assert 'data-testid="recipients">1<' in preview
    token = csrf_of(client, location)
    past = client.post(f"{location}/schedule", data={"csrf_token": token, "at": "2020-01-01T09:00"})
    assert past.headers["location"].endswith("error=past")
    client.post(f"{location}/schedule", data={"csrf_token": token, "at": "2026-04-05T09:00"})
    scheduled = client.get(location).text
    assert "予約済み" in scheduled and 'data-testid="scheduled">2026-04-05 09:00<' in scheduled
    client.post(f"{location}/send", data={"csrf_token": token})
    client.post(f"{location}/send", data={"csrf_token": token})  # a second press: nothing new
    with session_scope(engine) as db:
        actions = [e.action for e in db.exec(select(AuditLog)).all()]
    assert actions.count("notice_sent") == 1 and "notice_scheduled" in actions
    listed = client.get("/staff/export/notices.csv").content.decode("utf-8-sig")
    assert "資源回収のお知らせ" in listed and "sent" in listed


def test_notices_of_other_associations_are_out_of_reach(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    assert client.get(f"/staff/notices/{city.notices['b']}").status_code == 403
    token = csrf_of(client, "/staff/notices")
    assert (
        client.post(
            f"/staff/notices/{city.notices['b']}/send", data={"csrf_token": token}
        ).status_code
        == 403
    )
    refused = client.post(
        "/staff/notices",
        data={"csrf_token": token, "association_id": city.b, "title": "x", "body": "y"},
    )
    assert refused.status_code == 403
    assert "回覧b" not in client.get("/staff/notices").text


def _survey_wave(engine: Engine) -> int:
    """A closed wave of the Morioka survey: 8 of 12 in ward 1's district said yes, 4 of 12 in
    ward 2's."""
    with session_scope(engine) as db:
        districts = {d.code: d.id for d in db.exec(select(District)).all()}
        wave = SurveyWave(
            survey_id="morioka_participation",
            wave_key="2026-04",
            opens_at=START,
            closes_at=START + timedelta(days=14),
            status="closed",
            created_at=START,
        )
        db.add(wave)
        db.flush()
        for code, yes in (("d-ward1", 8), ("d-ward2", 4)):
            for i in range(12):
                db.add(
                    SurveyAnswer(
                        wave_id=wave.id,
                        question_id="participated",  # type: ignore[arg-type]
                        option_id="has_taken_part" if i < yes else "never",
                        district_id=districts[code],
                    )
                )
        return wave.id  # type: ignore[return-value]


def test_indicator_share_interval_and_target(
    client: TestClient, city: City, engine: Engine
) -> None:
    wave_id = _survey_wave(engine)
    log_in(client, "admin")
    rows = list(
        csv.reader(
            io.StringIO(client.get("/staff/export/indicators.csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[0][:4] == ["指標", "回", "回答数", "割合（%）"]
    indicator, wave, answers, share, interval, target, baseline = rows[1]
    assert (wave, answers, share, target, baseline) == ("2026-04", "24", "50.0", "56.5", "45.2")
    low, high = (float(x) for x in interval.split("–"))
    assert low < 50.0 < high and high - low < 45  # a Wilson interval around the share
    page = client.get("/staff/surveys").text
    assert "<svg" in page and f'href="/staff/surveys/{wave_id}"' in page


def test_ward_staff_see_the_city_row_and_their_districts_only(
    client: TestClient, city: City, engine: Engine
) -> None:
    wave_id = _survey_wave(engine)
    log_in(client, "ward1")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/staff/surveys/{wave_id}/results.csv").content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0][:5] == ["設問", "選択肢", "単位", "地域", "回答数"]
    assert {r[0] for r in rows[1:]} == {
        "町内会などを中心に行われている地域の活動（コミュニティ活動）に参加したことがありますか？"
    }
    assert [r[3] for r in rows[1:]] == ["全体", "北地域", "北地域地区"]
    assert rows[1][4:6] == ["24", "50.0"]
    assert rows[3][1:6] == ["「ある」と答えた割合", "地区", "北地域地区", "12", "66.7"]


def test_april_handover_moves_associations_in_one_step(
    client: TestClient, city: City, engine: Engine
) -> None:
    with session_scope(engine) as db:
        outgoing = db.get(StaffAccount, city.logins["officer_b"])
        db.add(
            StaffAccount(
                login="officer_b2",
                display_name="新役員",
                role="association_officer",
                password_hash=outgoing.password_hash,
            )
        )  # type: ignore[union-attr]
    log_in(client, "officer_b2")
    assert "文化町内会" not in client.get("/staff/export/pending.csv").content.decode("utf-8-sig")
    log_in(client, "admin")
    done = client.post(
        "/staff/accounts/handover",
        data={
            "csrf_token": csrf_of(client, "/staff/accounts"),
            "outgoing": "officer_b",
            "incoming": "officer_b2",
        },
    )
    assert done.headers["location"] == "/staff/accounts?moved=1"
    wrong = client.post(
        "/staff/accounts/handover",
        data={
            "csrf_token": csrf_of(client, "/staff/accounts"),
            "outgoing": "officer_a",
            "incoming": "ward1",
        },
    )
    assert wrong.headers["location"].endswith("error=handover")
    log_in(client, "officer_b2")
    assert "文化町内会" in client.get("/staff/export/pending.csv").content.decode("utf-8-sig")
    token = csrf_of(client)
    refused = client.post(
        "/staff/login", data={"login": "officer_b", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 401
    with session_scope(engine) as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "handover")).one()
        assert entry.detail["scopes"] == [city.b] and entry.account_id == city.logins["admin"]


def test_ids_beyond_the_database_integer_are_refused_cleanly(
    client: TestClient, city: City
) -> None:
    log_in(client, "officer_a")
    huge = 2**31
    assert client.get(f"/staff/associations/{huge}/members").status_code == 422
    assert client.get(f"/staff/events/{huge}").status_code == 422


def test_diversity_counts_first_timers_newcomers_and_concentration(
    client: TestClient, city: City, engine: Engine
) -> None:
    with session_scope(engine) as db:
        member = db.get(Membership, city.members["a"])
        assert member is not None
        regular = member.resident_id
        # A later event of A: the regular comes again; a newcomer (counter QR a year ago) too.
        later = Event(
            association_id=city.a,
            title="夏祭り",
            starts_at=START + timedelta(days=60),
            ends_at=START + timedelta(days=60, hours=3),
            status="published",
            checkin_code="code-later",
        )
        newcomer = Resident(line_user_id="U" + "9" * 32, created_at=START)
        counter_code = JoinCode(code="CNTR2345", kind="counter", created_at=START)
        db.add_all([later, newcomer, counter_code])
        db.flush()
        db.add(
            ResidentSource(
                resident_id=newcomer.id,
                join_code_id=counter_code.id,  # type: ignore[arg-type]
                first_seen_at=START - timedelta(days=365),
            )
        )
        for resident_id in (regular, newcomer.id):
            db.add(CheckIn(event_id=later.id, resident_id=resident_id, at=later.starts_at))  # type: ignore[arg-type]
    log_in(client, "organiser_a")
    rows = list(
        csv.reader(
            io.StringIO(client.get("/staff/export/diversity.csv").content.decode("utf-8-sig"))
        )
    )
    # The last column: people counted at the door (the city's event A has 3 adults, 1 child).
    assert [r[1:] for r in rows[1:]] == [
        ["夏祭り", "2", "1", "1", "0"],
        ["清掃活動a", "1", "1", "0", "4"],
    ]
    page = client.get("/staff/diversity").text
    # Two people, three attendances: the busiest 10% (one person) made two of them.
    assert ">67%<" in page


def _volunteering(engine: Engine, city: City) -> None:
    """A's opportunity: one slot of 3 places, 2 filled, 2 attended shifts; B's: one of 1."""
    with session_scope(engine) as db:
        for letter, needed, filled in (("a", 3, 2), ("b", 1, 1)):
            association_id = getattr(city, letter)
            member = db.get(Membership, city.members[letter])
            assert member is not None
            opportunity = Opportunity(
                role=f"受付{letter}", association_id=association_id, ward_id=city.ward1
            )
            db.add(opportunity)
            db.flush()
            slot = Slot(
                opportunity_id=opportunity.id,
                starts_at=START,  # type: ignore[arg-type]
                ends_at=START + timedelta(hours=2),
                needed=needed,
                filled=filled,
                bucket="weekend_morning",
                month=202604,
            )
            db.add(slot)
            db.flush()
            applicant = db.get(Membership, city.pending[letter])
            assert applicant is not None
            for resident_id in [member.resident_id, applicant.resident_id][:filled]:
                offer = VolunteerOffer(
                    slot_id=slot.id,
                    resident_id=resident_id,  # type: ignore[arg-type]
                    month=202604,
                    status="accepted",
                    offered_at=START,
                    expires_at=START + timedelta(days=1),
                )
                db.add(offer)
                db.flush()
                db.add(
                    Shift(
                        offer_id=offer.id,
                        slot_id=slot.id,
                        resident_id=resident_id,  # type: ignore[arg-type]
                        hours=1.5,
                        points=2,
                        month=202604,
                        recorded_at=START,
                    )
                )


def test_volunteering_figures_are_scoped(client: TestClient, city: City, engine: Engine) -> None:
    _volunteering(engine, city)
    log_in(client, "organiser_a")
    rows = list(
        csv.reader(
            io.StringIO(client.get("/staff/export/volunteer-hours.csv").content.decode("utf-8-sig"))
        )
    )
    assert rows == [["町内会", "活動回数", "時間", "ポイント"], ["青葉町内会", "2", "3.0", "4"]]
    page = client.get("/staff/volunteers").text
    assert ">2 / 3<" in page  # places filled against needed, A only
    log_in(client, "admin")
    rows = list(
        csv.reader(
            io.StringIO(client.get("/staff/export/volunteer-hours.csv").content.decode("utf-8-sig"))
        )
    )
    assert [r[0] for r in rows[1:]] == ["青葉町内会", "文化町内会"]
