"""The register's staff pages: an import writes nothing until confirmed, exports read back in
unchanged, slips print, a removed household leaves every list, and every view is audited."""

from __future__ import annotations

import html
import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.models.households import Household, RosterMapping
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.notices import paper_rounds
from bot.features.notices.models import PaperDelivery
from tests.features.households.rosters import csv_roster, forty_households, xlsx_roster
from tests.staff.conftest import START, City, csrf_of, log_in


def _households(engine: Engine, association_id: int) -> list[Household]:
    with Session(engine) as db:
        return list(
            db.exec(select(Household).where(Household.association_id == association_id)).all()
        )


def _upload(client: TestClient, association_id: int, name: str, data: bytes) -> str:
    page = f"/staff/associations/{association_id}/households"
    token = csrf_of(client, page)
    response = client.post(
        f"{page}/import", data={"csrf_token": token}, files={"roster_file": (name, data)}
    )
    assert response.status_code == 200, response.text[:300]
    return response.text


def _confirm(client: TestClient, association_id: int, preview: str) -> None:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview))
    data = {k: html.unescape(v) for k, v in fields.items()}
    for name, block in re.findall(r'<select name="map_(\w+)">(.*?)</select>', preview, re.S):
        chosen = re.search(r'<option value="(\d+)" selected', block)
        if chosen:
            data[f"map_{name}"] = chosen.group(1)
    data["step"] = "confirm"
    response = client.post(
        f"/staff/associations/{association_id}/households/import/confirm", data=data
    )
    assert response.status_code == 303, response.text[:300]


def _count(preview: str, what: str) -> int:
    found = re.search(rf'data-testid="{what}">(\d+)<', preview)
    assert found, what
    return int(found.group(1))


def test_import_preview_writes_nothing_until_confirmed(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    preview = _upload(client, city.a, "名簿.xlsx", xlsx_roster(forty_households()))
    assert (_count(preview, "added"), _count(preview, "errors")) == (40, 0)
    assert "本町1-1 / 住民101" in preview
    assert _households(engine, city.a) == []

    _confirm(client, city.a, preview)
    assert len(_households(engine, city.a)) == 40
    page = client.get(f"/staff/associations/{city.a}/households?done=imported").text
    assert "名簿を取り込みました" in page and "本町4-10" in page

    again = _upload(client, city.a, "名簿.xlsx", xlsx_roster(forty_households()))
    assert (_count(again, "added"), _count(again, "unchanged")) == (0, 40)
    assert "変わる世帯はありません" in again

    with Session(engine) as db:
        actions = list(db.exec(select(AuditLog.action)).all())
        assert "households_imported" in actions and "households_viewed" in actions
        assert db.get(RosterMapping, city.a) is not None


def test_a_bad_file_and_a_bad_row_are_answered_plainly(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    page = f"/staff/associations/{city.a}/households"
    token = csrf_of(client, page)
    bad = client.post(
        f"{page}/import", data={"csrf_token": token}, files={"roster_file": ("r.xlsx", b"PK..")}
    )
    assert bad.status_code == 400 and "ファイルを読めませんでした" in bad.text
    preview = _upload(client, city.a, "r.csv", csv_roster([["1班", "緑町1", "森", "多い", ""]]))
    assert "人数は1〜20の数字で書いてください" in preview and _count(preview, "errors") == 1
    assert 'data-testid="confirm"' not in preview
    assert _households(engine, city.a) == []


def test_exports_read_back_unchanged(client: TestClient, city: City, engine: Engine) -> None:
    log_in(client, "officer_a")
    _confirm(client, city.a, _upload(client, city.a, "r.csv", csv_roster(
        [["1班", "緑町1-1", "山田", "3", "英語"], ["2班", "緑町2-2", "森", "", ""]])))  # fmt: skip
    csv_bytes = client.get(f"/staff/associations/{city.a}/households.csv").content
    assert "住所・部屋" in csv_bytes.decode("utf-8-sig")
    again = _upload(client, city.a, "export.csv", csv_bytes)
    assert (_count(again, "added"), _count(again, "changed"), _count(again, "unchanged")) == (
        0, 0, 2)  # fmt: skip
    book = client.get(f"/staff/associations/{city.a}/households.xlsx")
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["班", "住所・部屋", "連絡先氏名"]
    assert sheet.max_row == 3
    back = _upload(client, city.a, "export.xlsx", book.content)
    assert _count(back, "unchanged") == 2
    with Session(engine) as db:
        exports = db.exec(select(AuditLog).where(AuditLog.action == "export")).all()
        assert len(exports) == 2


def test_slips_print_and_a_removed_household_leaves_every_list(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    _confirm(client, city.a, _upload(client, city.a, "r.csv", csv_roster(
        [["1班", "緑町1-1", "山田", "3", ""], ["1班", "緑町1-2", "森", "", ""]])))  # fmt: skip
    pdf = client.get(f"/staff/associations/{city.a}/households/slips.pdf")
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) == 1 and "緑町1-1" in text and "山田" in text
    gone = next(h for h in _households(engine, city.a) if h.address == "緑町1-1")
    assert gone.join_code
    with session_scope(engine) as db:
        paper_rounds.tick_households(db, notice_id=city.notices["a"], association_id=city.a,
                                     han="1班", households=["緑町1-1"], now=START)  # fmt: skip
    with Session(engine) as db:
        assert db.exec(select(PaperDelivery.household_id)).all() == [gone.id]

    token = csrf_of(client, f"/staff/associations/{city.a}/households")
    done = client.post(
        f"/staff/associations/{city.a}/households/{gone.id}/remove", data={"csrf_token": token}
    )
    assert done.status_code == 303
    assert [h.address for h in _households(engine, city.a)] == ["緑町1-2"]
    with Session(engine) as db:
        assert db.exec(select(PaperDelivery)).all() == []


def test_only_the_associations_officers_see_the_register(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_b")
    assert client.get(f"/staff/associations/{city.a}/households").status_code == 403
    assert client.get(f"/staff/associations/{city.a}/households.csv").status_code == 403
    client.cookies.clear()
    log_in(client, "organiser_a")
    assert client.get(f"/staff/associations/{city.a}/households").status_code == 403
    client.cookies.clear()
    log_in(client, "admin")  # the city sees counts, never names
    assert client.get(f"/staff/associations/{city.a}/households").status_code == 403


def test_the_coverage_page_shows_the_han_reached_least_first() -> None:
    from bot.features.notices.staff.paper_routes import PAGE_HANS, _lagging_first

    rows = [{"han": "（全班）", "rate": 50.0}] + [
        {"han": f"{n}班", "rate": float(n % 50)} for n in range(1, 401)
    ]
    shown = _lagging_first(rows, "（全班）")
    assert len(shown) == PAGE_HANS and shown[0]["han"] == "（全班）"
    assert [r["rate"] for r in shown[1:4]] == [0.0, 0.0, 0.0]
    assert max(r["rate"] for r in shown[1:]) <= 4.0
    assert _lagging_first(rows[:5], "（全班）") == rows[:5]
