"""The notice compose form: its title field says what it is, and a resubmit drafts once."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.db import session_scope
from bot.features.notices.models import Notice
from tests.staff.conftest import City, csrf_of, log_in


def _drafts(engine: Engine, title: str) -> list[Notice]:
    with session_scope(engine) as db:
        return list(db.exec(select(Notice).where(Notice.title == title)).all())


def test_compose_form_labels_the_title_and_a_resubmit_drafts_one_notice(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    page = client.get("/staff/notices").text
    assert "件名（お知らせのタイトル）" in page and "行事名<input" not in page
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found
    data = {
        "csrf_token": csrf_of(client, "/staff/notices"),
        "association_id": str(city.a),
        "title": "ごみ集積所の清掃当番",
        "body": "今月は3班です。",
        "form_token": found.group(1),
    }
    first = client.post("/staff/notices", data=data)
    second = client.post("/staff/notices", data=data)  # double submit / back and resubmit
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    [draft] = _drafts(engine, "ごみ集積所の清掃当番")
    assert first.headers["location"] == f"/staff/notices/{draft.id}"
    # A fresh form (a new token) drafts a new notice; a post without a token still works.
    fresh = re.search(r'name="form_token" value="([^"]+)"', client.get("/staff/notices").text)
    assert fresh and fresh.group(1) != found.group(1)
    client.post("/staff/notices", data={**data, "form_token": fresh.group(1)})
    client.post("/staff/notices", data={**data, "form_token": ""})
    assert len(_drafts(engine, "ごみ集積所の清掃当番")) == 3


def test_another_associations_token_does_not_reveal_its_notice(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_b")
    found = re.search(r'name="form_token" value="([^"]+)"', client.get("/staff/notices").text)
    assert found
    data = {
        "csrf_token": csrf_of(client, "/staff/notices"),
        "association_id": str(city.b),
        "title": "文化町内会の回覧",
        "body": "本文",
        "form_token": found.group(1),
    }
    assert client.post("/staff/notices", data=data).status_code == 303
    client.cookies.clear()
    log_in(client, "officer_a")
    replay = client.post(
        "/staff/notices",
        data={**data, "csrf_token": csrf_of(client, "/staff/notices"), "association_id": city.a},
    )
    assert replay.status_code in (403, 404)
    assert len(_drafts(engine, "文化町内会の回覧")) == 1
