"""Enqueueing from scheduler jobs under the send policy: quota holds, quiet hours, budgets.

One outbox message per locale, keyed so that a job running twice enqueues nothing new.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot.conversation.engine import Say
from bot.core.models.residents import Resident
from bot.platform.delivery import outbox, send_policy
from bot.platform.delivery.models import OutboxMessage
from bot.platform.delivery.send_policy import DeferUntil, Hold, Push

if TYPE_CHECKING:
    from bot.conversation.jobs import JobDeps

log = logging.getLogger(__name__)


def push(
    session: Session,
    deps: JobDeps,
    now: datetime,
    *,
    key: str,
    kind: str,
    resident_ids: list[int],
    says_for: Callable[[str], list[Say]],
    use_budget: bool = True,
    key_by_recipients: bool = False,
    send_by: datetime | None = None,
) -> list[int]:
    """Enqueue `says_for(locale)` to residents, one outbox message per locale, under the send
    policy: held while the quota is past its hold share, deferred past quiet hours, and (with
    `use_budget`) only to residents with room in their weekly budget. Returns who got it.

    The outbox key is `<key>:<locale>`: a key already used sends nothing new. With
    `key_by_recipients` it also names the recipient set, for callers that record who was
    reached themselves (survey invitations) and call again for newcomers only. A push that
    quiet hours would delay past `send_by` (an event's start) is dropped as pointless.
    """
    if not resident_ids:
        return []
    quota = send_policy.current_quota(session, now, deps.tz)
    allowed = (
        send_policy.within_budget(session, resident_ids, now, deps.policy)
        if use_budget
        else resident_ids
    )
    by_locale: dict[str, list[int]] = defaultdict(list)
    for rid, locale in _locales(session, allowed).items():
        by_locale[locale].append(rid)
    sent: list[int] = []
    for locale, ids in sorted(by_locale.items()):
        message_key = f"{key}:{locale}:{_digest(ids)}" if key_by_recipients else f"{key}:{locale}"
        if _already_queued(session, message_key):
            continue
        decision = send_policy.decide(
            Push(False, message_key, len(ids)), None, now, deps.tz, quota, deps.policy
        )
        if isinstance(decision, Hold):
            log.warning("push held by the quota policy", extra={"kind": kind, "key": key})
            continue
        if isinstance(decision, DeferUntil) and send_by is not None and decision.at >= send_by:
            log.debug(
                "push dropped: quiet hours last past its moment", extra={"kind": kind, "key": key}
            )
            continue
        outbox.enqueue(
            session,
            key=message_key,
            kind=kind,
            recipient_ids=ids,
            messages=deps.renderer.messages(says_for(locale), locale),
            not_before=decision.at if isinstance(decision, DeferUntil) else None,
            now=now,
        )
        sent.extend(ids)
    return sent


def _already_queued(session: Session, key: str) -> bool:
    return (
        session.execute(select(OutboxMessage.id).where(OutboxMessage.key == key)).first()
        is not None
    )


def _locales(session: Session, resident_ids: list[int]) -> dict[int, str]:
    """Resident id → locale, for residents LINE can reach (those with a LINE user id)."""
    found: dict[int, str] = {}
    for start in range(0, len(resident_ids), 1000):
        rows = session.execute(
            select(Resident.id, Resident.locale).where(
                col(Resident.id).in_(resident_ids[start : start + 1000]),
                col(Resident.line_user_id).is_not(None),
            )
        ).all()
        found.update({int(rid): str(locale) for rid, locale in rows})
    return found


def _digest(ids: list[int]) -> str:
    """A short stable name for a recipient set, so the same run twice reuses one outbox key."""
    joined = ",".join(str(i) for i in sorted(ids))
    return hashlib.blake2b(joined.encode(), digest_size=8).hexdigest()
