"""Helpers for the scheduler, send-policy and survey tests: settings, deps, residents, waves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content import load_content
from bot.conversation.context import FlowContext
from bot.conversation.jobs import JobDeps
from bot.conversation.notifier import Notifier
from bot.conversation.render import Renderer
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.features.surveys.catalog import SurveyCatalog, load_catalog, parse_survey
from bot.features.surveys.models import SurveyInvite, SurveyWave
from bot.platform.delivery.models import OutboxMessage, OutboxRecipient
from bot.settings import REPO_ROOT, Settings
from bot.wiring import purges

CONTENT = load_content(REPO_ROOT / "content")
RENDERER = Renderer(CONTENT)
# 10:00 on 10 July 2026 in Tokyo: a Morioka quarterly wave opens at this moment.
T0 = datetime(2026, 7, 10, 1, 0, tzinfo=UTC)


def settings_for(db_url: str = "sqlite://", **overrides: Any) -> Settings:
    """Explicit test settings, never read from a developer's .env."""
    values: dict[str, Any] = {
        "database_url": db_url,
        # Never LINE's own hosts: those would make these settings production.
        "line_api_base_url": "http://127.0.0.1:9",
        "line_data_api_base_url": "http://127.0.0.1:9",
        "environment": "test",
        "run_scheduler": False,
        "run_sender": False,
        "log_format": "text",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def deps_for(settings: Settings, catalog: SurveyCatalog | None = None) -> JobDeps:
    """Job dependencies over the shipped content (or a given survey catalog)."""
    return JobDeps(
        settings=settings,
        notifier=Notifier.over(RENDERER, settings),
        purges=tuple(purges()),
        overrides={"survey_catalog": catalog or load_catalog(CONTENT.root)},
    )


def one_survey(**changes: Any) -> SurveyCatalog:
    """A catalog with one enabled two-question survey, schedule and fields overridable."""
    raw: dict[str, Any] = {
        "enabled": True,
        "anonymous": True,
        "audience": "followers",
        "title": {"ja": "テスト", "en": "test", "ja-easy": "てすと"},
        "schedule": {
            "every": "quarter",
            "start_month": 4,
            "open_day": 10,
            "send_at": "10:00",
            "days_open": 14,
            "nudge_days_before_close": 4,
        },
        "questions": [
            {
                "id": "q1",
                "text": {"ja": "一", "en": "one", "ja-easy": "いち"},
                "options": [
                    {"id": "a", "label": {"ja": "あ", "en": "A", "ja-easy": "あ"}},
                    {"id": "b", "label": {"ja": "い", "en": "B", "ja-easy": "い"}},
                ],
            },
            {
                "id": "q2",
                "text": {"ja": "二", "en": "two", "ja-easy": "に"},
                "options": [
                    {"id": "c", "label": {"ja": "う", "en": "C", "ja-easy": "う"}},
                    {"id": "d", "label": {"ja": "え", "en": "D", "ja-easy": "え"}},
                ],
            },
        ],
        "indicators": [
            {
                "id": "ind",
                "question": "q1",
                "positive": ["a"],
                "name": {"ja": "指標", "en": "indicator", "ja-easy": "しひょう"},
                "city": "テスト市",
                "source": "test",
                "baseline": {"value": 45.2, "label": "R1"},
                "target": {"value": 56.5, "label": "R6"},
            }
        ],
    }
    raw.update(changes)
    return SurveyCatalog({"probe": parse_survey("probe", raw)})


def add_residents(engine: Engine, count: int, *, locale: str = "ja", start: int = 0) -> list[int]:
    """Residents who follow the bot; returns their ids."""
    with session_scope(engine) as session:
        rows = [
            Resident(line_user_id=f"U{start + i:032x}", locale=locale, created_at=T0)
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [int(r.id or 0) for r in rows]


def make_wave(
    engine: Engine,
    survey_id: str,
    *,
    opens: datetime = T0,
    days: int = 14,
    key: str = "w1",
    nudge: datetime | None = None,
    event_id: int | None = None,
) -> int:
    """An open wave; returns its id."""
    with session_scope(engine) as session:
        wave = SurveyWave(
            survey_id=survey_id,
            wave_key=key,
            opens_at=opens,
            closes_at=opens + timedelta(days=days),
            nudge_at=nudge,
            event_id=event_id,
            created_at=opens,
        )
        session.add(wave)
        session.flush()
        return int(wave.id or 0)


def invite(
    engine: Engine, wave_id: int, resident_ids: list[int], districts: dict[int, int] | None = None
) -> None:
    """Record invitations as the dispatch job would."""
    with session_scope(engine) as session:
        for rid in resident_ids:
            session.add(
                SurveyInvite(
                    wave_id=wave_id,
                    resident_id=rid,
                    invited_at=T0,
                    district_id=(districts or {}).get(rid),
                )
            )


def flow_ctx(session: Session, resident_id: int, now: datetime, settings: Settings) -> FlowContext:
    """A flow context for one resident, as the processor builds it."""
    resident = session.get(Resident, resident_id)
    assert resident is not None
    return FlowContext(session, resident, CONTENT, settings, now)


def outbox_messages(engine: Engine, kind: str | None = None) -> list[OutboxMessage]:
    """Outbox messages, oldest first."""
    with session_scope(engine) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        if kind:
            query = query.where(OutboxMessage.kind == kind)  # type: ignore[arg-type]
        return list(session.execute(query).scalars())


def recipients_of(engine: Engine, kind: str) -> list[int]:
    """Resident ids an outbox kind was queued to (with repeats, if any)."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(OutboxRecipient.resident_id)
            .join(OutboxMessage, OutboxMessage.id == OutboxRecipient.message_id)  # type: ignore[arg-type]
            .where(OutboxMessage.kind == kind)  # type: ignore[arg-type]
            .order_by(OutboxRecipient.resident_id)
        ).scalars()
        return [int(r) for r in rows]


def count_rows(engine: Engine, model: Any) -> int:
    """Rows in a table."""
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())
