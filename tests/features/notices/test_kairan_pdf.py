"""The notice 回覧 as a server-rendered PDF: A4, one page for a short notice, Japanese text
extractable, the event it invites to printed with it."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.features.notices.models import Notice
from bot.features.notices.staff.kairan_pdf import STAMP_ROWS
from tests.staff.conftest import City, log_in


def _set(engine: Engine, notice_id: int, **values: object) -> None:
    with session_scope(engine) as db:
        notice = db.get(Notice, notice_id)
        assert notice is not None
        for key, value in values.items():
            setattr(notice, key, value)
        db.add(notice)


def _read(client: TestClient, notice_id: int) -> PdfReader:
    response = client.get(f"/staff/notices/{notice_id}/kairan.pdf")
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def test_a_short_notice_is_one_a4_page_with_its_event(
    client: TestClient, city: City, engine: Engine
) -> None:
    notice_id = city.notices["a"]
    _set(
        engine,
        notice_id,
        title="春の清掃活動のお知らせ",
        body="4月の清掃活動を行います。\n軍手をお持ちください。\n雨天の場合は中止です。",
        event_id=city.events["a"],
    )
    log_in(client, "officer_a")
    assert (
        f"/staff/notices/{notice_id}/kairan.pdf" in client.get(f"/staff/notices/{notice_id}").text
    )
    reader = _read(client, notice_id)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = reader.pages[0].extract_text()
    for expected in ("回 覧", "春の清掃活動のお知らせ", "軍手をお持ちください", "青葉町内会"):
        assert expected in text, expected
    assert "清掃活動a" in text and "場所" in text  # the event's box
    assert "確認印" in text and STAMP_ROWS >= 10


def test_a_long_notice_flows_onto_a_second_page(
    client: TestClient, city: City, engine: Engine
) -> None:
    _set(
        engine,
        city.notices["a"],
        body="\n".join(f"{n}. 持ち物の確認をお願いします。" for n in range(40)),
    )
    log_in(client, "officer_a")
    reader = _read(client, city.notices["a"])
    assert len(reader.pages) >= 2
    assert "39. 持ち物の確認" in "".join(p.extract_text() for p in reader.pages)


def test_another_associations_notice_pdf_is_refused(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    assert client.get(f"/staff/notices/{city.notices['b']}/kairan.pdf").status_code == 403
