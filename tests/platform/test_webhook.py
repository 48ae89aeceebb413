"""The spine through real HTTP: signed webhooks in, the LINE stand-in out."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.app import Overrides
from bot.core.models.residents import Resident
from bot.platform.inbox_models import InboxStatus, WebhookEvent
from tests.conftest import SECRET, BotHarness
from tests.factories import (
    body,
    follow_event,
    postback_event,
    signed_headers,
    sticker_event,
    text_event,
    unfollow_event,
)

ALICE = "U" + "a" * 32
BOB = "U" + "b" * 32


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _engine(bot: BotHarness) -> Engine:
    return bot.app.state.engine  # type: ignore[no-any-return]


def test_wrong_signature_is_refused_and_stores_nothing(bot: BotHarness) -> None:
    raw = body(follow_event(ALICE))
    wrong = signed_headers(raw, "not-the-secret")
    assert bot.post_raw(raw, wrong).status_code == 400
    assert bot.post_raw(raw, {"content-type": "application/json"}).status_code == 400
    assert _count(_engine(bot), WebhookEvent) == 0
    assert _count(_engine(bot), Resident) == 0
    assert bot.standin.requests == []


def test_malformed_signed_body_is_refused_cleanly(bot: BotHarness) -> None:
    for raw in (b"not json", b'{"events": "nope"}', b'{"events": [{"type": "follow"}]}'):
        response = bot.post_raw(raw, signed_headers(raw, SECRET))
        assert response.status_code == 400
        assert "message" in response.json()
    assert _count(_engine(bot), WebhookEvent) == 0


def test_follow_gets_greeting_and_menu_by_reply(bot: BotHarness) -> None:
    assert bot.post(follow_event(ALICE)).status_code == 200
    bot.drain()
    texts = bot.texts_to(ALICE)
    assert texts[0].startswith("はじめまして")
    menu = bot.standin.messages_to(ALICE)[1]
    labels = [item["action"]["label"] for item in menu["quickReply"]["items"]]
    assert "言語 Language" in labels
    # A first follow reads the LINE profile (its language) once, then replies.
    paths = [r.path for r in bot.standin.requests]
    assert paths == [f"/v2/bot/profile/{ALICE}", "/v2/bot/message/reply"]


def test_redelivered_event_has_one_effect(bot: BotHarness) -> None:
    event = text_event(ALICE, "メニュー")
    assert bot.post(event).status_code == 200
    bot.drain()
    again = json.loads(json.dumps(event))
    again["deliveryContext"]["isRedelivery"] = True
    assert bot.post(again).status_code == 200
    bot.drain()
    assert len(bot.standin.messages_to(ALICE)) == 1
    assert _count(_engine(bot), WebhookEvent) == 1


def test_unknown_event_type_is_acknowledged_and_skipped(bot: BotHarness) -> None:
    event = follow_event(ALICE)
    event["type"] = "somethingNew"
    assert bot.post(event).status_code == 200
    bot.drain()
    with Session(_engine(bot)) as session:
        row = session.exec(select(WebhookEvent)).one()
    assert row.status == InboxStatus.SKIPPED and row.payload is None
    assert bot.standin.requests == []


def test_event_stored_before_a_crash_is_processed_after_restart(bot_factory: Any) -> None:
    ingest_only = bot_factory(Overrides(process_events=False))
    assert ingest_only.post(follow_event(ALICE)).status_code == 200
    with Session(_engine(ingest_only)) as session:
        assert session.exec(select(WebhookEvent)).one().status == InboxStatus.PENDING
    assert ingest_only.standin.requests == []
    restarted = bot_factory(event_lease_seconds=0)
    restarted.drain()
    assert restarted.texts_to(ALICE)[0].startswith("はじめまして")
    with Session(_engine(restarted)) as session:
        row = session.exec(select(WebhookEvent)).one()
    assert row.status == InboxStatus.DONE and row.payload is None


def test_two_residents_interleave_without_mixing(bot: BotHarness) -> None:
    bot.post(text_event(ALICE, "言語"), text_event(BOB, "language"))
    bot.drain()
    bot.post(
        postback_event(BOB, "f=language&s=locale&v=ja-easy"),
        postback_event(ALICE, "f=language&s=locale&v=en"),
    )
    bot.drain()
    with Session(_engine(bot)) as session:
        locales = {r.line_user_id: r.locale for r in session.exec(select(Resident)).all()}
    assert locales == {ALICE: "en", BOB: "ja-easy"}
    assert bot.texts_to(ALICE)[-2] == "Language changed."
    assert bot.texts_to(BOB)[-2] == "ことばを かえました。"


def test_sticker_in_a_flow_reasks_politely(bot: BotHarness) -> None:
    bot.post(text_event(ALICE, "言語"))
    bot.drain()
    bot.post(sticker_event(ALICE))
    bot.drain()
    texts = bot.texts_to(ALICE)
    assert texts[-2].startswith("すみません、ここでは文字かボタン")
    assert texts[-1] == texts[0]  # the same question again
    with Session(_engine(bot)) as session:
        assert session.exec(select(Resident)).one().locale == "ja"


def test_unfollow_marks_resident_blocked_and_refollow_welcomes_back(bot: BotHarness) -> None:
    bot.post(follow_event(ALICE))
    bot.drain()
    bot.post(unfollow_event(ALICE))
    bot.drain()
    with Session(_engine(bot)) as session:
        assert session.exec(select(Resident)).one().status == "blocked"
    bot.post(follow_event(ALICE, unblocked=True))
    bot.drain()
    assert bot.texts_to(ALICE)[-2].startswith("おかえりなさい")
    with Session(_engine(bot)) as session:
        assert session.exec(select(Resident)).one().status == "active"


def test_429_then_200_delivers_once_with_one_retry_key(bot: BotHarness) -> None:
    event = text_event(ALICE, "メニュー")
    raw = body(event)  # its reply token was never issued: LINE refuses it, the bot pushes
    bot.standin.fail_next(429, endpoint="push")
    assert bot.post_raw(raw, signed_headers(raw, SECRET)).status_code == 200
    bot.drain()
    pushes = [r for r in bot.standin.requests if r.path == "/v2/bot/message/push"]
    assert [r.status for r in pushes] == [429, 200]
    keys = {r.retry_key for r in pushes}
    assert len(keys) == 1 and None not in keys
    assert len(bot.standin.messages_to(ALICE)) == 1


def test_health_readiness_and_openapi(bot: BotHarness) -> None:
    assert bot.http.get("/healthz").json() == {"status": "ok"}
    assert bot.http.get("/readyz").json() == {"database": "ok"}
    schema = bot.http.get("/openapi.json").json()
    assert "/callback" in schema["paths"]


def test_an_ingest_only_replica_leaves_events_to_a_processing_one(bot_factory: Any) -> None:
    processing = bot_factory(event_lease_seconds=2)  # looks for others' events every second
    ingest_only = bot_factory(process_events=False)
    assert ingest_only.post(follow_event(ALICE)).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not processing.standin.messages_to(ALICE):
        time.sleep(0.05)
    assert processing.texts_to(ALICE)[0].startswith("はじめまして")
    with Session(_engine(processing)) as session:
        assert session.exec(select(WebhookEvent)).one().status == InboxStatus.DONE
