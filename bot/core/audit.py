"""The audit log: one row per approval, sending, export, deletion, log-in and token change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.core.models.staff import AuditLog
from bot.core.scope import Scope


def record(
    session: Session,
    *,
    account_id: int | None,
    action: str,
    now: datetime,
    target_type: str = "",
    target_id: object = "",
    **detail: Any,
) -> AuditLog:
    """Append an entry in the caller's transaction, so it exists exactly when the action does.

    `detail` must not carry names or LINE user IDs: it holds ids, counts and table names.
    """
    entry = AuditLog(
        at=now,
        account_id=account_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail,
    )
    session.add(entry)
    return entry


def recent(session: Session, scope: Scope, limit: int = 200) -> list[AuditLog]:
    """The latest entries; the city admin reads everyone's, others only their own."""
    query = select(AuditLog).order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    if not scope.city_wide:
        query = query.where(AuditLog.account_id == scope.account_id)
    return list(session.exec(query.limit(limit)).all())
