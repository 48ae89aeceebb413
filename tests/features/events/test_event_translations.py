"""Organisers give events and notices English and easy-Japanese versions in the staff web;
residents read their language, or the Japanese original marked, never half a translation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.content import load_content
from bot.db import session_scope
from bot.features.events import messages as event_messages
from bot.features.events.models import Event
from bot.features.notices import messages as notice_messages
from bot.features.notices.models import Notice
from bot.settings import REPO_ROOT
from tests.features.events.test_event_authoring import FORM
from tests.staff.conftest import City, csrf_of, log_in

CONTENT = load_content(REPO_ROOT / "content")


def test_event_form_stores_translations_and_shows_a_readability_hint(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    long_text = "本年度の自主防災組織による総合防災訓練を町内会館前広場にて実施いたします。" * 2
    data = {
        **FORM,
        "description": long_text,
        "title_en": "Spring clean-up",
        "description_en": "Please bring gloves.",
        "title_easy": "はるの そうじ",
        "csrf_token": csrf_of(client, "/staff/events/new"),
        "association_id": city.a,
    }
    created = client.post("/staff/events/new", data=data)
    assert created.status_code == 303, created.text[:300]
    with session_scope(engine) as db:
        event = db.exec(select(Event).where(Event.title == FORM["title"])).one()
        assert event.translations == {
            "en": {"title": "Spring clean-up", "description": "Please bring gloves."},
            "ja-easy": {"title": "はるの そうじ"},
        }
        info = event_messages.card_params(event, CONTENT, "en", "https://example.org")
        easy = event_messages.describe(event, CONTENT, "ja-easy")
    assert info["title"] == "Spring clean-up"
    assert info["description"] == "Please bring gloves."
    assert info["place"] == "「青葉公園」"  # a name: marked, not translated
    assert easy["title"] == "はるの そうじ"
    assert easy["place"] == "青葉公園(あおばこうえん)"
    page = client.get(created.headers["location"]).text
    assert 'value="Spring clean-up"' in page
    assert 'data-testid="readability"' in page and "文が長く漢字が多め" in page


def test_too_long_translation_is_refused_and_nothing_stored(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "organiser_a")
    data = {
        **FORM,
        "title_en": "x" * 121,
        "csrf_token": csrf_of(client, "/staff/events/new"),
        "association_id": city.a,
    }
    refused = client.post("/staff/events/new", data=data)
    assert refused.status_code == 400
    with session_scope(engine) as db:
        assert db.exec(select(Event).where(Event.title == FORM["title"])).all() == []


def test_notice_with_only_an_english_title_marks_its_japanese_body(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    response = client.post(
        "/staff/notices",
        data={
            "csrf_token": csrf_of(client, "/staff/notices"),
            "association_id": city.a,
            "title": "資源回収のお知らせ",
            "body": "土曜日の朝8時までに出してください。",
            "title_en": "Recycling collection",
        },
    )
    assert response.status_code == 303, response.text[:200]
    with session_scope(engine) as db:
        notice = db.exec(select(Notice).where(Notice.title == "資源回収のお知らせ")).one()
        assert notice.translations == {"en": {"title": "Recycling collection"}}
        title, body = notice_messages.shown(notice, CONTENT, "en")
        easy_title, _ = notice_messages.shown(notice, CONTENT, "ja-easy")
    assert title == "Recycling collection"
    assert body == "「土曜日の朝8時までに出してください。」 (in Japanese)"
    assert easy_title.startswith("資源回収(しげんかいしゅう)")
