"""Safety check pages: an area outside one's scope is refused and nothing is drafted; a ward
sees its wards' checks as counts only (no printout); another association's officer sees
nothing; the English page has no Japanese words of ours; sending twice sends once."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.core.models.households import Household
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.safety import jobs
from bot.features.safety.models import SafetyCheck
from bot.platform.delivery.models import OutboxMessage, QuotaSnapshot
from tests.staff.conftest import START, City, csrf_of, log_in


def _start(client: TestClient, area: str, template: str = "earthquake") -> str:
    token = csrf_of(client, "/staff/safety")
    response = client.post(
        "/staff/safety",
        data={"csrf_token": token, "area": area, "template": template, "visit_after": "30"},
    )
    assert response.status_code == 303
    return str(response.headers["location"])


def _checks(engine: Engine) -> list[SafetyCheck]:
    with Session(engine) as db:
        return list(db.exec(select(SafetyCheck)).all())


def test_officer_cannot_start_a_check_outside_their_association(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    page = client.get("/staff/safety").text
    assert f'value="association:{city.a}"' in page
    assert f'value="association:{city.b}"' not in page and 'value="city:0"' not in page
    assert _start(client, f"association:{city.b}") == "/staff/safety?error=area"
    assert _start(client, "city:0") == "/staff/safety?error=area"
    assert _start(client, f"association:{city.a}", template="unknown") == "/staff/safety?error=area"
    assert _checks(engine) == []
    refused = client.get("/staff/safety?error=area").text
    assert "その地域では始められません" in refused


def test_ward_staff_see_counts_not_names_and_others_see_nothing(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "ward1")
    assert 'value="city:0"' not in client.get("/staff/safety").text
    location = _start(client, f"ward:{city.ward1}")
    check_id = int(location.rsplit("/", 1)[1])
    preview = client.get(location).text
    assert "静かな時間" in preview and 'data-testid="recipients"' in preview
    token = csrf_of(client, location)
    assert client.post(f"{location}/send", data={"csrf_token": token}).status_code == 303
    assert client.post(f"{location}/send", data={"csrf_token": token}).status_code == 303
    with Session(engine) as db:
        keys = db.exec(select(OutboxMessage.key).where(OutboxMessage.kind == "safety")).all()
        assert keys == [f"safety:{check_id}:ja"]  # sent once, for both presses
        actions = db.exec(select(AuditLog.action).where(AuditLog.target_type == "safety_check"))
        assert sorted(actions.all()) == ["safety_drafted", "safety_sent"]
    live = client.get(location).text
    assert 'data-testid="count-none"' in live and 'data-testid="print"' not in live
    assert client.get(f"{location}/visits.pdf").status_code == 403  # names are the officers'

    other = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    log_in(other, "officer_a")  # association A is in ward 1: A's part of the check
    assert client.get(location).status_code == 200
    mine = other.get(location).text
    assert re.search(r'data-testid="count-households">\d+<', mine)
    log_in(other, "officer_b")
    assert other.get(location).status_code == 200  # B is in ward 1 too
    with Session(engine) as db:
        check = db.get(SafetyCheck, check_id)
        assert check is not None and check.area_kind == "ward"


def test_english_pages_have_no_japanese_words_of_ours(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    location = _start(client, f"association:{city.a}")
    page = client.get(f"{location}?lang=en").text
    body = page.split("<main>", 1)[1]
    ours = re.sub(r"(青葉|文化|千歳)町内会|[^<>]*（試験）", "", body)  # the test data's names
    words = re.sub(r"<[^>]+>", " ", ours)
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", words.replace("班", "")), words[:500]
    assert "quiet hours" in page


def test_the_live_pages_han_counts_name_the_han_as_data_in_english(
    client: TestClient, city: City, engine: Engine
) -> None:
    """In English a 班 from the register reads 「1班」, a name, as everywhere else; the row of
    members with no 班 keeps its English label."""
    with session_scope(engine) as db:
        db.add(Household(association_id=city.a, han="1班", address="本町1-1", key="k1"))
    log_in(client, "officer_a")
    location = _start(client, f"association:{city.a}")
    client.post(f"{location}/send", data={"csrf_token": csrf_of(client, location)})

    table = client.get(f"{location}?lang=en").text.split('data-table="safety_hans"', 1)[1]
    cells = re.findall(r"<tr><td[^>]*>([^<]*)</td>", table.split("</table>", 1)[0])  # the 班
    assert sorted(cells) == ["no team", "「1班」"], cells
    japanese = client.get(f"{location}?lang=ja").text.split('data-table="safety_hans"', 1)[1]
    assert ">1班</td>" in japanese.split("</table>", 1)[0]


def test_unanswered_go_to_the_ward_after_three_times_the_set_time(
    client: TestClient, city: City, engine: Engine, clock: FixedClock
) -> None:
    """Ward staff see the plan's times before sending, then each stage on the live page as
    the scheduler passes it: nothing at 89 minutes, the ward's alert at 91."""
    log_in(client, "ward1")
    location = _start(client, f"ward:{city.ward1}")
    check_id = int(location.rsplit("/", 1)[1])
    assert "30分後に未回答の家を班長へ、60分後に未回答の班を役員へ、90分後に区へ" in (
        client.get(location).text
    )
    client.post(f"{location}/send", data={"csrf_token": csrf_of(client, location)})
    live = client.get(location).text
    assert "10:30 班長へ訪問リスト：これから" in _plain(live)
    assert "11:30 区へ引き継ぎ：これから" in _plain(live)

    def run(minutes: int) -> int:
        now = START + timedelta(minutes=minutes)
        clock.set(now)
        deps = JobDeps(settings=client.app.state.settings, notifier=client.app.state.notifier)  # type: ignore[attr-defined]
        with session_scope(engine) as db:
            return jobs.escalate(now=now, session=db, deps=deps)

    assert run(31) == 1 and run(61) == 1  # 班長, then officers (the members never answered)
    assert run(89) == 0
    page = _plain(client.get(location).text)
    assert "11:00 役員へ未回答の班：済み" in page and "11:30 区へ引き継ぎ：これから" in page
    assert "区職員は町内会の役員と連絡を取ってください" not in page
    assert run(91) == 1 and run(92) == 0
    page = _plain(client.get(location).text)
    assert "11:30 区へ引き継ぎ：済み" in page
    assert "区職員は町内会の役員と連絡を取ってください" in page
    listing = _plain(client.get("/staff/safety").text)
    assert "区へ引き継ぎ" in listing
    with Session(engine) as db:
        check = db.get(SafetyCheck, check_id)
        assert check is not None
        assert check.ward_told_at == START + timedelta(minutes=91)
        assert check.officers_told_at == START + timedelta(minutes=61)
        assert check.hancho_told_at == START + timedelta(minutes=31)


def _plain(html: str) -> str:
    """The page's words without tags or line breaks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_city_admin_sees_the_cost_against_the_quota_before_sending(
    client: TestClient, city: City, engine: Engine
) -> None:
    """A city-wide check: the preview counts every association's members and warns, before
    anything is sent, when they would take the month past LINE's limit."""
    with session_scope(engine) as db:
        db.add(QuotaSnapshot(month="2026-04", limit=200, used=199, taken_at=START))
    log_in(client, "admin")
    assert 'value="city:0"' in client.get("/staff/safety").text
    location = _start(client, "city:0")
    preview = _plain(client.get(location).text)
    cost = int(re.search(r'data-testid="cost">(\d+)<', client.get(location).text)[1])  # type: ignore[index]
    assert cost >= 2  # one approved member in each association of the test city
    assert f"今月の送信数 199 / 上限 200（送信後 {199 + cost}）" in preview
    assert "今月の上限を超えます" in preview and "静かな時間" in preview
    with Session(engine) as db:
        assert db.exec(select(OutboxMessage)).all() == []  # nothing sent by looking
        check = db.exec(select(SafetyCheck)).one()
        assert (check.area_kind, check.area_id, check.sent_at) == ("city", None, None)
