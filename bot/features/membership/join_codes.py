"""Join codes: the short code a QR's pre-filled message carries, naming where it hung.

The message is typed into the resident's chat and they may edit it before sending, so the
text is untrusted: a code is recognised anywhere in it, in full or half width, upper or
lower case, with or without its `#`. Codes are drawn with `secrets` from an alphabet
without look-alikes (no 0/O, 1/I/L), so they cannot be guessed or mistyped into another.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.models.residents import Resident
from bot.features.membership.models import JoinCode, JoinCodeKind, ResidentSource

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8  # 31**8 ≈ 8.5e11 codes
MARK = "#"
# A friend who followed this long before scanning was already a friend, not a new one.
NEW_FRIEND_WINDOW = timedelta(hours=1)
_TOKEN = re.compile(rf"(?<![0-9A-Z])(#?)([0-9A-Z]{{{LENGTH}}})(?![0-9A-Z])")
_ALLOWED = frozenset(ALPHABET)


class Found(StrEnum):
    """What a message held."""

    NONE = "none"  # nothing that looks like a code
    ACTIVE = "active"
    RETIRED = "retired"
    UNKNOWN = "unknown"  # looked like a code, but no such code exists


@dataclass(frozen=True)
class Recognition:
    """The outcome of reading a message for a code."""

    found: Found
    code: JoinCode | None = None


def new_code() -> str:
    """A fresh random code (not yet checked for uniqueness)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def create(
    session: Session,
    *,
    kind: JoinCodeKind,
    now: datetime,
    counter_id: int | None = None,
    association_id: int | None = None,
    label: str = "",
) -> JoinCode:
    """Issue a code for a counter, an association or a campaign."""
    if kind == JoinCodeKind.COUNTER and counter_id is None:
        raise ValueError("a counter code needs counter_id")
    if kind == JoinCodeKind.ASSOCIATION and association_id is None:
        raise ValueError("an association code needs association_id")
    for _ in range(5):  # a collision is astronomically rare; retry rather than fail
        row = JoinCode(
            code=new_code(),
            kind=kind,
            counter_id=counter_id,
            association_id=association_id,
            label=label[:80],
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            continue
    raise RuntimeError("could not draw an unused join code")


def retire(session: Session, code: str, now: datetime) -> bool:
    """Stop a code counting as a source; its poster then gets the polite answer."""
    row = by_code(session, code)
    if row is None or row.retired_at is not None:
        return False
    row.retired_at = now
    session.add(row)
    return True


def active_for(
    session: Session,
    kind: JoinCodeKind,
    *,
    counter_id: int | None = None,
    association_id: int | None = None,
    label: str = "",
) -> JoinCode | None:
    """The newest live code of a source (a counter, an association, a named campaign)."""
    query = select(JoinCode).where(JoinCode.kind == kind, col(JoinCode.retired_at).is_(None))
    if kind == JoinCodeKind.COUNTER:
        query = query.where(JoinCode.counter_id == counter_id)
    elif kind == JoinCodeKind.ASSOCIATION:
        query = query.where(JoinCode.association_id == association_id)
    else:
        query = query.where(JoinCode.label == label[:80])
    return session.exec(query.order_by(col(JoinCode.id).desc())).first()


def by_code(session: Session, code: str) -> JoinCode | None:
    """The code row for a normalised code string."""
    return session.exec(select(JoinCode).where(JoinCode.code == code.upper())).first()


def candidates(text: str) -> list[tuple[str, bool]]:
    """Code-shaped tokens in a message, each with whether it looks deliberate.

    A token with the `#` mark or with both digits and letters is deliberate; a bare word of
    eight letters (an English word in capitals) is looked up but never called unknown.
    """
    normal = unicodedata.normalize("NFKC", text).upper()
    found = []
    for mark, token in _TOKEN.findall(normal):
        deliberate = bool(mark) or (
            any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        )
        if deliberate or set(token) <= _ALLOWED:
            found.append((token, deliberate))
    return found


def recognise(session: Session, text: str) -> Recognition:
    """Find a join code in a message: the first known one wins, active before retired."""
    tokens = candidates(text)
    rows = [row for token, _ in tokens if (row := by_code(session, token)) is not None]
    for row in rows:
        if row.retired_at is None:
            return Recognition(Found.ACTIVE, row)
    if rows:
        return Recognition(Found.RETIRED, rows[0])
    if any(deliberate for _, deliberate in tokens):
        return Recognition(Found.UNKNOWN)
    return Recognition(Found.NONE)


def record_source(
    session: Session, resident: Resident, code: JoinCode, now: datetime
) -> ResidentSource:
    """Remember that the resident came through `code` (once; the first time is kept)."""
    assert resident.id is not None and code.id is not None
    existing = session.exec(
        select(ResidentSource).where(
            ResidentSource.resident_id == resident.id, ResidentSource.join_code_id == code.id
        )
    ).first()
    if existing is not None:
        return existing
    followed = resident.followed_at
    new_friend = followed is None or followed >= now - NEW_FRIEND_WINDOW
    row = ResidentSource(
        resident_id=resident.id, join_code_id=code.id, new_friend=new_friend, first_seen_at=now
    )
    session.add(row)
    session.flush()
    return row


def latest_source(session: Session, resident_id: int) -> JoinCode | None:
    """The code the resident most recently came through, for attributing an application."""
    query = (
        select(JoinCode)
        .join(ResidentSource, col(ResidentSource.join_code_id) == col(JoinCode.id))
        .where(ResidentSource.resident_id == resident_id)
        .order_by(col(ResidentSource.first_seen_at).desc(), col(ResidentSource.id).desc())
    )
    return session.exec(query).first()


def display(code: str) -> str:
    """The code as printed and pre-filled: with its mark, so it stands out in the message."""
    return f"{MARK}{code}"
