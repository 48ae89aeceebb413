"""Pushes that wait for the end of a conversation, so they never take away its chips.

LINE draws quick-reply chips only under the newest message: a push (an approval, a
volunteer ask, a reminder) arriving while a resident is answering a question would replace
that question's chips. The Notifier asks `busy` who is in a live conversation and `hold`s
their copy here instead of queueing it; `release_for` queues it once the conversation ends
(the store calls it when a flow finishes, is cancelled or is found expired), and
`release_job` does so for conversations that simply ran out. Survey invitations already
waited this way (they re-invite at a later run); this generalises it to every push.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.conversation.models import Conversation, HeldPush
from bot.core.models.residents import Resident
from bot.platform.delivery import outbox
from bot.platform.delivery.models import OutboxMessage

log = logging.getLogger(__name__)

CHUNK = 1000
RELEASE_EVERY = timedelta(minutes=1)


def busy(session: Session, resident_ids: Sequence[int], now: datetime) -> set[int]:
    """Those of `resident_ids` in the middle of a flow (a conversation not yet expired)."""
    found: set[int] = set()
    for start in range(0, len(resident_ids), CHUNK):
        found.update(
            int(r)
            for r in session.execute(
                select(col(Resident.id))
                .join(Conversation, col(Conversation.line_user_id) == col(Resident.line_user_id))
                .where(
                    col(Resident.id).in_(resident_ids[start : start + CHUNK]),
                    col(Conversation.expires_at) > now,
                )
            ).scalars()
        )
    return found


def hold(
    session: Session,
    *,
    key: str,
    kind: str,
    resident_id: int,
    messages: list[dict[str, Any]],
    not_before: datetime | None,
    now: datetime,
) -> None:
    """Keep one resident's push until their conversation ends; the same key holds once."""
    if held_or_queued(session, key):
        return
    session.add(
        HeldPush(
            key=key,
            kind=kind,
            resident_id=resident_id,
            messages=messages,
            not_before=not_before,
            created_at=now,
        )
    )
    session.flush()


def held_or_queued(session: Session, key: str) -> bool:
    """True when a push under `key` is already held or in the outbox."""
    if session.exec(select(HeldPush.id).where(HeldPush.key == key)).first() is not None:
        return True
    queued = select(OutboxMessage.id).where(OutboxMessage.key == key)
    return session.execute(queued).first() is not None


def release_for(session: Session, resident_id: int, now: datetime) -> int:
    """Queue every push held for the resident (their conversation has ended)."""
    rows = session.exec(select(HeldPush).where(HeldPush.resident_id == resident_id)).all()
    for row in rows:
        _queue(session, row, now)
    return len(rows)


def release_for_user(session: Session, line_user_id: str, now: datetime) -> int:
    """`release_for` by LINE user ID (what the conversation store knows)."""
    resident_id = session.exec(
        select(Resident.id).where(Resident.line_user_id == line_user_id)
    ).first()
    return release_for(session, int(resident_id), now) if resident_id is not None else 0


def release_job(*, now: datetime, session: Session, deps: Any) -> int:
    """Every minute: queue pushes whose resident is no longer in a live conversation."""
    held = list(session.exec(select(HeldPush.resident_id).distinct()).all())
    still = busy(session, [int(r) for r in held], now)
    return sum(release_for(session, int(rid), now) for rid in held if rid not in still)


def forget(session: Session, resident_id: int, now: datetime) -> None:
    """Erasure: nothing held for the resident is ever sent."""
    for row in session.exec(select(HeldPush).where(HeldPush.resident_id == resident_id)).all():
        session.delete(row)
    session.flush()


def _queue(session: Session, row: HeldPush, now: datetime) -> None:
    later = row.not_before if row.not_before is not None and row.not_before > now else None
    outbox.enqueue(
        session,
        key=row.key,
        kind=row.kind,
        recipient_ids=[row.resident_id],
        messages=list(row.messages),
        not_before=later,
        now=now,
    )
    session.delete(row)
    session.flush()
    log.info("held push released", extra={"kind": row.kind})
