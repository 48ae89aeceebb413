"""Residents as LINE users: found or created per event, followed, unfollowed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.core.models.residents import ErasedLineUser, QuietResident, Resident, ResidentStatus

# Built once: every event looks its resident up.
_BY_LINE_ID = select(Resident).where(col(Resident.line_user_id) == bindparam("line_user_id"))


def get_or_create(session: Session, line_user_id: str, now: datetime, locale: str) -> Resident:
    """The resident behind a LINE user ID, created on first contact."""
    found = session.execute(_BY_LINE_ID, {"line_user_id": line_user_id})
    resident = found.scalars().first()
    if resident is None:
        resident = Resident(line_user_id=line_user_id, locale=locale, created_at=now)
        session.add(resident)
        session.flush()
        if session.get(ErasedLineUser, line_digest(line_user_id)) is not None:
            # They erased their data before: nothing is broadcast to them until they ask.
            session.add(QuietResident(resident_id=int(resident.id or 0), since=now))
            session.flush()
    return resident


def line_digest(line_user_id: str) -> str:
    """A one-way digest of a LINE user ID, kept after erasure in place of the ID itself."""
    return hashlib.sha256(f"tsunagari-erased:{line_user_id}".encode()).hexdigest()


def remember_erased(session: Session, line_user_id: str, now: datetime) -> None:
    """Erasure: remember (by digest) that this LINE user asked to be forgotten."""
    digest = line_digest(line_user_id)
    row = session.get(ErasedLineUser, digest) or ErasedLineUser(digest=digest, erased_at=now)
    row.erased_at = now
    session.add(row)


def quiet_among(session: Session, resident_ids: Sequence[int]) -> set[int]:
    """Those of `resident_ids` back after erasing their data who have not asked again."""
    found: set[int] = set()
    for start in range(0, len(resident_ids), _CHUNK):
        chunk = list(resident_ids[start : start + _CHUNK])
        query = select(QuietResident.resident_id).where(col(QuietResident.resident_id).in_(chunk))
        found.update(int(r) for r in session.exec(query).all())
    return found


def end_quiet(session: Session, resident_id: int) -> None:
    """The resident asked again (agreed to join): broadcasts reach them like anyone."""
    row = session.get(QuietResident, resident_id)
    if row is not None:
        session.delete(row)
        session.flush()


def mark_followed(session: Session, resident: Resident, now: datetime) -> None:
    """The resident added or unblocked the bot: reachable again."""
    resident.status = ResidentStatus.ACTIVE
    resident.followed_at = now
    resident.unfollowed_at = None
    session.add(resident)


def mark_unfollowed(session: Session, resident: Resident, now: datetime) -> None:
    """The resident blocked the bot: LINE will drop pushes, so stop counting them reachable."""
    resident.status = ResidentStatus.BLOCKED
    resident.unfollowed_at = now
    session.add(resident)


_CHUNK = 1000  # ids per IN (...) read


def reachable_locales(
    session: Session, resident_ids: Sequence[int], active_only: bool = False
) -> dict[int, str]:
    """Resident id → the language they chose, for residents LINE can reach (with a LINE user
    ID; with `active_only`, not blocking the bot either), in the order given."""
    ids = list(dict.fromkeys(resident_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(Resident.id, Resident.locale).where(
            col(Resident.id).in_(chunk), col(Resident.line_user_id).is_not(None)
        )
        if active_only:
            query = query.where(Resident.status == ResidentStatus.ACTIVE)
        locales = {int(rid): str(locale) for rid, locale in session.exec(query).all() if rid}
        found.update((rid, locales[rid]) for rid in chunk if rid in locales)
    return found
