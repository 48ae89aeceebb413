"""Deleting a resident's data: on request (データ削除) at once, after unfollow once retention ends.

What is erased: the LINE user ID (the link to a person), every personal field of every
application and membership, the conversation in progress, officer links and live consent.
What stays: a one-way digest of the LINE user ID, so that if they write again nothing is
broadcast to them until they ask (core/residents.py); rows keyed by the resident's bare id
holding counts and times (consents given, applications made and decided, household sizes),
so tallies and the funnel still add up and nobody can be found in them.

Ending memberships this way is a change of membership like any other: it is announced
through `hooks.emit_membership_changed` once the features' erasers have run.

Other domains holding personal data register an `Eraser` with `register_eraser`; they run
in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.core import consent, hooks, residents
from bot.core.models.membership import EndReason, Membership, MembershipStatus, Officer
from bot.core.models.residents import PurgeSchedule, Resident, ResidentStatus

log = logging.getLogger(__name__)

Eraser = Callable[[Session, int, datetime], None]  # (session, resident id, now)
_erasers: list[Eraser] = []


def register_eraser(eraser: Eraser) -> None:
    """Have `eraser` run whenever a resident's data is erased (idempotent registration)."""
    if eraser not in _erasers:
        _erasers.append(eraser)


@dataclass(frozen=True)
class Erased:
    """What an erasure touched, for the log and the staff audit (no personal data)."""

    resident_id: int
    memberships: int
    officer_links: int


def erase_resident(
    session: Session, resident: Resident, now: datetime, reason: EndReason = EndReason.ERASED
) -> Erased:
    """Erase or anonymise everything personal about a resident, in the caller's transaction."""
    assert resident.id is not None
    memberships, ended = _erase_memberships(session, resident.id, now, reason)
    officer_links = _revoke_officer_links(session, resident.id, now)
    consent.withdraw_all(session, resident.id, now)
    schedule = session.get(PurgeSchedule, resident.id)
    if schedule is not None:
        session.delete(schedule)
    for eraser in _erasers:
        eraser(session, resident.id, now)
    if resident.line_user_id:
        residents.remember_erased(session, resident.line_user_id, now)
    resident.line_user_id = None
    resident.status = ResidentStatus.DELETED
    session.add(resident)
    session.flush()
    if ended:
        hooks.emit_membership_changed(session, resident.id, now)
    log.info(
        "resident data erased",
        extra={"resident_id": resident.id, "reason": str(reason), "memberships": memberships},
    )
    return Erased(resident.id, memberships, officer_links)


def _erase_memberships(
    session: Session, resident_id: int, now: datetime, reason: EndReason
) -> tuple[int, int]:
    """Anonymise every membership row; returns (rows, how many it ended)."""
    rows = session.exec(select(Membership).where(Membership.resident_id == resident_id)).all()
    ended = 0
    for row in rows:
        if row.status == MembershipStatus.PENDING:
            row.status, row.ended_at, row.end_reason = MembershipStatus.WITHDRAWN, now, reason
            ended += 1
        elif row.status == MembershipStatus.APPROVED:
            row.end(reason, now)
            ended += 1
        row.clear_personal_fields()
        row.erased_at = now
        session.add(row)
    return len(rows), ended


def _revoke_officer_links(session: Session, resident_id: int, now: datetime) -> int:
    rows = session.exec(
        select(Officer).where(Officer.resident_id == resident_id, col(Officer.revoked_at).is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return len(rows)


def schedule_purge(session: Session, resident_id: int, now: datetime, days: float) -> datetime:
    """After an unfollow: erase this resident once `days` have passed, unless they return."""
    due = now + timedelta(days=days)
    row = session.get(PurgeSchedule, resident_id) or PurgeSchedule(
        resident_id=resident_id, due_at=due
    )
    row.due_at = due
    session.add(row)
    return due


def cancel_purge(session: Session, resident_id: int) -> bool:
    """The resident followed again: keep their data."""
    row = session.get(PurgeSchedule, resident_id)
    if row is None:
        return False
    session.delete(row)
    return True


def purge_due(session: Session, now: datetime) -> int:
    """Erase every unfollowed resident whose retention period has ended (the scheduler's job).

    A resident who followed again without the follow hook having run (an older process) is
    still blocked-checked here, so nobody active is purged.
    """
    rows = session.exec(select(PurgeSchedule).where(col(PurgeSchedule.due_at) <= now)).all()
    purged = 0
    for row in rows:
        resident = session.get(Resident, row.resident_id)
        if resident is None or resident.status != ResidentStatus.BLOCKED:
            session.delete(row)
            continue
        erase_resident(session, resident, now, EndReason.PURGED)
        purged += 1
    return purged
