"""Helpers shared by the delivery tests: residents in bulk, a notice, a sender on the stand-in."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.platform.delivery import outbox
from bot.platform.delivery.models import OutboxBatch, OutboxMessage
from bot.platform.delivery.ratelimit import EndpointLimits
from bot.platform.delivery.sender import Sender
from bot.platform.line.gateway import SdkLineGateway
from bot.settings import Settings
from bot.simulator.standin import LineStandin

T0 = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)  # in the past, so real clocks see it due
NOTICE = [{"type": "text", "text": "回覧板: 防災訓練は日曜 9 時から"}]
UNLIMITED = EndpointLimits({})


def user_id(n: int) -> str:
    """A LINE-shaped user ID for resident number `n`."""
    return f"U{n:032x}"


def add_residents(
    engine: Engine, count: int, *, start: int = 0, status: str = "active"
) -> list[int]:
    """Insert `count` residents (bulk, fast) and return their ids in order."""
    rows = [
        {"line_user_id": user_id(start + i), "locale": "ja", "status": status, "created_at": T0}
        for i in range(count)
    ]
    with session_scope(engine) as session:
        for offset in range(0, count, 5000):
            session.execute(insert(Resident), rows[offset : offset + 5000])
        ids = (
            session.execute(
                select(Resident.id)
                .where(
                    Resident.line_user_id.in_(  # type: ignore[union-attr]
                        [r["line_user_id"] for r in rows]
                    )
                )
                .order_by(Resident.id)  # type: ignore[arg-type]
            )
            .scalars()
            .all()
        )
    return [int(i) for i in ids]


def enqueue_notice(engine: Engine, ids: list[int], *, key: str = "notice:1", **kw: Any) -> int:
    """Enqueue NOTICE to `ids` in its own committed transaction; returns the message id."""
    kw.setdefault("kind", "notice")
    kw.setdefault("messages", NOTICE)
    kw.setdefault("now", T0)
    with session_scope(engine) as session:
        message = outbox.enqueue(session, key=key, recipient_ids=ids, **kw)
        return int(message.id or 0)


_open: list[SdkLineGateway] = []


def gateway_for(standin: LineStandin, settings: Settings) -> SdkLineGateway:
    """The real SDK gateway pointed at the stand-in (closed by `close_gateways`)."""
    gateway = SdkLineGateway(
        host=standin.url,  # type: ignore[attr-defined]
        access_token=settings.line_channel_access_token.get_secret_value(),
        timeout_s=settings.line_timeout_s,
        max_attempts=settings.line_max_attempts,
        backoff_base_s=settings.line_backoff_base_s,
        backoff_max_s=0.05,
    )
    _open.append(gateway)
    return gateway


async def close_gateways() -> None:
    """Close the gateways the test opened (their aiohttp sessions)."""
    while _open:
        await _open.pop().close()


def sender_for(engine: Engine, standin: LineStandin, settings: Settings, **kw: Any) -> Sender:
    """A sender on the stand-in, without rate limits unless given."""
    kw.setdefault("limits", UNLIMITED)
    return Sender(engine=engine, gateway=gateway_for(standin, settings), settings=settings, **kw)


def delivery_counts(standin: LineStandin) -> Counter[str]:
    """How many messages each user received."""
    return Counter(d.user_id for d in standin.deliveries)


def message_calls(standin: LineStandin) -> list[Any]:
    """Recorded push and multicast requests, in order."""
    return [r for r in standin.requests if r.path.endswith(("/push", "/multicast"))]


def batch_rows(engine: Engine, message_id: int) -> list[OutboxBatch]:
    """The message's batches in id order."""
    with session_scope(engine) as session:
        return list(
            session.execute(
                select(OutboxBatch)
                .where(OutboxBatch.message_id == message_id)  # type: ignore[arg-type]
                .order_by(OutboxBatch.id)  # type: ignore[arg-type]
            ).scalars()
        )


def message_count(engine: Engine) -> int:
    """Outbox messages stored."""
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one())
