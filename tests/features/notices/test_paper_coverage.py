"""Paper rounds in the staff web: households ticked per 班 count with LINE in read coverage."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.notices.models import PaperDelivery
from tests.harness import deliver
from tests.staff.conftest import START, City, csrf_of, log_in


def _ticks(engine: Engine, notice_id: int) -> list[tuple[int, str, str, int | None]]:
    with session_scope(engine) as db:
        return sorted(
            (r.association_id, r.han, r.household, r.ticked_by_staff_id)
            for r in db.exec(
                select(PaperDelivery).where(PaperDelivery.notice_id == notice_id)
            ).all()
        )


def _coverage(client: TestClient, notice_id: int) -> dict[tuple[str, str], dict[str, str]]:
    text = client.get(f"/staff/notices/{notice_id}/coverage.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    return {(r["町内会"], r["班"]): r for r in rows}


def test_ticks_per_han_feed_coverage_with_line(
    line_client: TestClient, city: City, engine: Engine, standin: Any
) -> None:
    client, notice = line_client, city.notices["a"]
    log_in(client, "officer_a")
    page = f"/staff/notices/{notice}/paper"
    token = csrf_of(client, page)
    client.post(f"/staff/notices/{notice}/send", data={"csrf_token": token})
    deliver(engine, standin, client.app.state.settings, START)  # type: ignore[attr-defined]

    ticked = client.post(
        page,
        data={
            "csrf_token": token,
            "association_id": city.a,
            "han": "1班",
            "households": "1-12\n1-14\n 1-12 ",
        },
    )
    assert ticked.status_code == 303, ticked.text[:300]
    client.post(
        page, data={"csrf_token": token, "association_id": city.a, "han": "", "households": "2-3"}
    )
    client.post(
        page,
        data={"csrf_token": token, "association_id": city.a, "han": "1班", "households": "1-14"},
    )  # ticked twice: counted once
    client.post(
        f"{page}/households",
        data={"csrf_token": token, "association_id": city.a, "han": "1班", "count": 5},
    )
    officer = city.logins["officer_a"]
    assert _ticks(engine, notice) == [
        (city.a, "", "2-3", officer),
        (city.a, "1班", "1-12", officer),
        (city.a, "1班", "1-14", officer),
    ]

    rows = _coverage(client, notice)
    whole = rows[("青葉町内会", "（全班）")]
    # 1班: 5 households, 2 on paper. Unassigned: the LINE member's household and 2-3 on paper.
    assert (
        whole["世帯数"],
        whole["LINEで届いた世帯"],
        whole["紙で届けた世帯"],
        whole["届いた世帯"],
    ) == ("7", "1", "3", "4")
    assert whole["届いた割合（%）"] == "57.1"
    assert rows[("青葉町内会", "1班")]["届いた世帯"] == "2"
    assert rows[("青葉町内会", "班未設定")]["届いた世帯"] == "2"
    html = client.get(page).text
    assert "1-14" in html and "57.1" in html

    with session_scope(engine) as db:
        tick_id = db.exec(select(PaperDelivery.id).where(PaperDelivery.household == "1-14")).one()
    client.post(f"{page}/untick", data={"csrf_token": token, "tick_id": tick_id})
    assert _coverage(client, notice)[("青葉町内会", "1班")]["紙で届けた世帯"] == "1"
    with session_scope(engine) as db:
        actions = [e.action for e in db.exec(select(AuditLog)).all()]
    assert actions.count("paper_ticked") == 3 and "paper_unticked" in actions
    assert "han_households_set" in actions


def test_bad_ticks_are_refused_in_the_page_and_store_nothing(
    client: TestClient, city: City, engine: Engine
) -> None:
    notice = city.notices["a"]
    log_in(client, "organiser_a")
    page = f"/staff/notices/{notice}/paper"
    token = csrf_of(client, page)
    empty = client.post(
        page,
        data={"csrf_token": token, "association_id": city.a, "han": "2班", "households": " \n "},
    )
    assert empty.status_code == 400 and 'data-testid="error"' in empty.text
    too_long = client.post(
        page,
        data={"csrf_token": token, "association_id": city.a, "han": "2班", "households": "x" * 61},
    )
    assert too_long.status_code == 400
    assert _ticks(engine, notice) == []


def test_officer_cannot_tick_another_associations_notice(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    other = city.notices["b"]
    assert client.get(f"/staff/notices/{other}/paper").status_code == 403
    token = csrf_of(client, f"/staff/notices/{city.notices['a']}/paper")
    refused = client.post(
        f"/staff/notices/{other}/paper",
        data={"csrf_token": token, "association_id": city.b, "han": "", "households": "9-9"},
    )
    assert refused.status_code == 403
    into_b = client.post(
        f"/staff/notices/{city.notices['a']}/paper",
        data={"csrf_token": token, "association_id": city.b, "han": "", "households": "9-9"},
    )
    assert into_b.status_code == 403
    assert _ticks(engine, other) == [] and _ticks(engine, city.notices["a"]) == []
