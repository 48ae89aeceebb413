"""Issue 16: ward staff and the city admin onboard officers (a staff-web account and a LINE
link code, each shown once and audited), and decide or reassign the applications of
associations where no officer is told of them."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.models.membership import Membership, Officer
from bot.core.models.residents import Resident
from bot.core.models.staff import AuditLog, StaffAccount, StaffScope
from bot.db import session_scope
from bot.features.membership import officers
from bot.features.membership.models import MembershipTally, OfficerLinkCode
from bot.platform.delivery.models import OutboxMessage, OutboxRecipient
from tests.staff.conftest import START, City, csrf_of, log_in


def _shown(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]+)<', page)
    assert found, f"nothing shown as {testid}"
    return found.group(1)


def test_ward_staff_create_an_officer_account_that_logs_in(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "ward1")
    token = csrf_of(client, "/staff/officers")
    made = client.post(
        "/staff/officers/accounts",
        data={
            "csrf_token": token,
            "association_id": city.a,
            "login": "aoba.kaicho",
            "display_name": "青葉 会長",
        },
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    password = _shown(made.text, "new-password")
    assert _shown(made.text, "new-login") == "aoba.kaicho" and len(password) >= 12
    with session_scope(engine) as db:
        account = db.exec(select(StaffAccount).where(StaffAccount.login == "aoba.kaicho")).one()
        assert account.role == "association_officer" and password not in account.password_hash
        scopes = db.exec(select(StaffScope).where(StaffScope.account_id == account.id)).all()
        assert [(s.association_id, s.ward_id) for s in scopes] == [(city.a, None)]
        entry = db.exec(select(AuditLog).where(AuditLog.action == "officer_account_created")).one()
        assert entry.account_id == city.logins["ward1"] and entry.target_id == str(city.a)
        assert password not in str(entry.detail)
    # The page lists it and never shows the password again.
    again = client.get("/staff/officers").text
    assert password not in again
    log_in(client, "aoba.kaicho", password)
    assert "承認待ち" in client.get("/staff/pending").text


def test_bad_or_out_of_scope_account_forms_create_nothing(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "ward1")
    token = csrf_of(client, "/staff/officers")
    form = {"csrf_token": token, "association_id": city.a, "display_name": "名前"}
    bad = client.post("/staff/officers/accounts", data={**form, "login": "A B"})
    assert bad.status_code == 200 and "半角英小文字" in bad.text and "new-password" not in bad.text
    taken = client.post("/staff/officers/accounts", data={**form, "login": "officer_b"})
    assert "すでに使われています" in taken.text
    nameless = client.post(
        "/staff/officers/accounts", data={**form, "display_name": " ", "login": "x.y.z"}
    )
    assert "氏名を入力" in nameless.text
    other_ward = client.post(
        "/staff/officers/accounts", data={**form, "association_id": city.c, "login": "chitose"}
    )
    assert other_ward.status_code == 403
    with session_scope(engine) as db:
        logins = set(db.exec(select(StaffAccount.login)).all())
        assert not logins & {"a b", "x.y.z", "chitose"}
        assert not db.exec(
            select(AuditLog).where(AuditLog.action == "officer_account_created")
        ).all()


def test_a_link_code_is_shown_once_short_lived_single_use_and_audited(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "admin")
    token = csrf_of(client, "/staff/officers")
    issued = client.post(
        "/staff/officers/link-code", data={"csrf_token": token, "association_id": city.b}
    )
    code = _shown(issued.text, "link-code-value")
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    assert f"役員登録 {code}" in issued.text and "文化町内会" in issued.text
    assert code not in client.get("/staff/officers").text
    with session_scope(engine) as db:
        row = db.exec(select(OfficerLinkCode)).one()
        assert row.association_id == city.b and row.created_by == "admin"
        assert code.replace("-", "") not in row.code_hash
        assert row.expires_at - row.created_at == timedelta(hours=72)
        entry = db.exec(select(AuditLog).where(AuditLog.action == "officer_link_code")).one()
        assert entry.detail["via"] == "web" and code not in str(entry.detail)
        # The code works once, in LINE's terms (the chat path is tested in the journey).
        member = db.get(Membership, city.members["a"])
        assert member is not None
        someone = db.get(Resident, member.resident_id)
        assert someone is not None
        plain = code.replace("-", "")
        assert officers.redeem(db, someone, plain, START)[0] == officers.LinkResult.LINKED
        late = START + timedelta(hours=73)
        assert officers.redeem(db, someone, plain, late)[0] == officers.LinkResult.INVALID


def test_ward_staff_cannot_issue_codes_outside_their_ward(client: TestClient, city: City) -> None:
    log_in(client, "ward1")
    token = csrf_of(client, "/staff/officers")
    refused = client.post(
        "/staff/officers/link-code", data={"csrf_token": token, "association_id": city.c}
    )
    assert refused.status_code == 403
    page = client.get("/staff/officers").text
    assert "青葉町内会" in page and "千歳町内会" not in page


# --- applications nobody is told of --------------------------------------------------------


def _link_officer(engine: Engine, city: City, letter: str) -> None:
    with session_scope(engine) as db:
        member = db.get(Membership, city.members[letter])
        assert member is not None
        db.add(
            Officer(
                resident_id=member.resident_id,
                association_id=getattr(city, letter),
                linked_at=START,
            )
        )


def test_ward_staff_see_unattended_applications_without_names(
    client: TestClient, city: City, engine: Engine
) -> None:
    _link_officer(engine, city, "b")  # B's officer is told in LINE; A has nobody
    with session_scope(engine) as db:
        pending = db.get(Membership, city.pending["a"])
        assert pending is not None
        pending.room = "203"
        db.add(pending)
    log_in(client, "ward1")
    page = client.get("/staff/pending").text
    assert f'data-membership="{city.pending["a"]}"' in page
    assert f'data-membership="{city.pending["b"]}"' not in page  # B's officer decides it
    assert f'data-membership="{city.pending["c"]}"' not in page  # ward 2
    assert "203" in page and "青葉一丁目" in page
    assert "試験 太郎" not in page  # never a name
    assert "役員が対応中の申込が1件" in page
    csv = client.get("/staff/export/pending.csv").content.decode("utf-8-sig")
    assert "203" in csv and "試験 太郎" not in csv
    overview = client.get("/staff/").text
    assert 'data-testid="no-officer"' in overview and "未登録（区が対応）" in overview


def test_ward_staff_approve_an_unattended_application_and_the_resident_is_told(
    line_client: TestClient, city: City, engine: Engine
) -> None:
    log_in(line_client, "ward1")
    token = csrf_of(line_client, "/staff/pending")
    done = line_client.post(
        f"/staff/unattended/{city.pending['a']}/decide",
        data={"csrf_token": token, "decision": "approve"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/staff/pending?done=approved"
    with session_scope(engine) as db:
        row = db.get(Membership, city.pending["a"])
        assert row is not None and row.status == "approved" and row.decided_by_staff == "ward1"
        told = db.exec(
            select(OutboxRecipient.resident_id)
            .join(OutboxMessage, OutboxMessage.id == OutboxRecipient.message_id)  # type: ignore[arg-type]
            .where(OutboxMessage.kind == "membership_decision")
        ).all()
        assert told == [row.resident_id]
        entry = db.exec(select(AuditLog).where(AuditLog.action == "approve")).one()
        assert entry.detail["via"] == "ward"
    again = line_client.post(
        f"/staff/unattended/{city.pending['a']}/decide",
        data={"csrf_token": token, "decision": "decline"},
    )
    assert again.headers["location"] == "/staff/pending?done=already"


def test_an_application_whose_association_gained_an_officer_is_left_to_them(
    client: TestClient, city: City, engine: Engine
) -> None:
    _link_officer(engine, city, "a")
    log_in(client, "ward1")
    token = csrf_of(client, "/staff/pending")
    refused = client.post(
        f"/staff/unattended/{city.pending['a']}/decide",
        data={"csrf_token": token, "decision": "approve"},
    )
    assert refused.headers["location"] == "/staff/pending?done=attended"
    bogus = client.post(
        f"/staff/unattended/{city.pending['b']}/decide",
        data={"csrf_token": token, "decision": "maybe"},
    )
    assert bogus.status_code == 422
    with session_scope(engine) as db:
        statuses = {db.get(Membership, city.pending[x]).status for x in "ab"}  # type: ignore[union-attr]
        assert statuses == {"pending"}


def test_ward_staff_reassign_an_application_to_the_right_association(
    line_client: TestClient, city: City, engine: Engine
) -> None:
    _link_officer(engine, city, "b")
    log_in(line_client, "ward1")
    token = csrf_of(line_client, "/staff/pending")
    out_of_ward = line_client.post(
        f"/staff/unattended/{city.pending['a']}/reassign",
        data={"csrf_token": token, "association_id": city.c},
    )
    assert out_of_ward.status_code == 403
    moved = line_client.post(
        f"/staff/unattended/{city.pending['a']}/reassign",
        data={"csrf_token": token, "association_id": city.b},
    )
    assert moved.headers["location"] == "/staff/pending?done=reassigned"
    with session_scope(engine) as db:
        row = db.get(Membership, city.pending["a"])
        assert row is not None and row.association_id == city.b and row.status == "pending"
        tallies = {
            t.association_id: t.memberships
            for t in db.exec(select(MembershipTally).where(MembershipTally.status == "pending"))
        }
        assert tallies[city.a] == 0 and tallies[city.b] == 2
        kinds = sorted(db.exec(select(OutboxMessage.kind)).all())
        assert kinds == ["membership_application", "membership_decision"]
        officer = db.get(Membership, city.members["b"])
        assert officer is not None
        to_officer = db.exec(
            select(OutboxRecipient.resident_id)
            .join(OutboxMessage, OutboxMessage.id == OutboxRecipient.message_id)  # type: ignore[arg-type]
            .where(OutboxMessage.kind == "membership_application")
        ).all()
        assert to_officer == [officer.resident_id]
        assert db.exec(select(AuditLog).where(AuditLog.action == "reassign")).one()
    # B has an officer now in charge: ward staff no longer see it.
    page = line_client.get("/staff/pending?done=reassigned").text
    assert f'data-membership="{city.pending["a"]}"' not in page
    assert "別の町内会へ回しました" in page


# --- the join funnel -------------------------------------------------------------------------


def _funnel_rows(page: str) -> list[list[str]]:
    body = page.split('data-table="funnel"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td.*?</td>", r, re.S)]
        for r in rows
    ]


def test_the_funnel_lists_counters_first_and_a_row_for_joins_without_a_qr(
    client: TestClient, city: City, engine: Engine
) -> None:
    from bot.core.models.areas import MovingInCounter
    from bot.features.membership.models import JoinCode

    with session_scope(engine) as db:
        counter = MovingInCounter(code="desk", ward_id=city.ward1, name="北地域 転入窓口")
        db.add(counter)
        db.flush()
        db.add(JoinCode(code="DESK2345", kind="counter", counter_id=counter.id, created_at=START))
    log_in(client, "ward1")
    rows = _funnel_rows(client.get("/staff/funnel").text)
    kinds = [r[0] for r in rows]
    assert kinds == ["転入窓口", "町内会のポスター", "町内会のポスター", "QRなし（検索・紹介など）"]
    # No resident of the test city came through a QR: A's and B's four applications, two
    # approved, all count as joins without a QR (follows belong to no ward: 0 here).
    assert rows[-1][2:6] == ["0", "0", "4", "2"]
    log_in(client, "admin")
    city_wide = _funnel_rows(client.get("/staff/funnel").text)[-1]
    assert city_wide[2:6] == ["6", "0", "6", "3"]
    csv = client.get("/staff/export/funnel.csv").content.decode("utf-8-sig")
    assert "QRなし" in csv and ",counter," not in csv and "association" not in csv
