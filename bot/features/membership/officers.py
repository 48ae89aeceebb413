"""Officers: linked to an association by a one-time code that staff issue and the officer sends.

Only a hash of each code is stored. A code works once, until it expires; sending it again
(a double tap) finds the officer already linked and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.core.models.areas import Association
from bot.core.models.membership import Officer
from bot.core.models.residents import Resident
from bot.features.membership.join_codes import ALPHABET
from bot.features.membership.memberships import officer_for
from bot.features.membership.models import OfficerLinkCode

LINK_CODE_LENGTH = 10
DEFAULT_TTL = timedelta(days=7)
_HALF = LINK_CODE_LENGTH // 2
_EDGE_L, _EDGE_R = r"(?<![0-9A-Z])", r"(?![0-9A-Z])"
_PART = rf"[0-9A-Z]{{{_HALF}}}"
_TOKEN = re.compile(rf"{_EDGE_L}({_PART})[\s\-‐]?({_PART}){_EDGE_R}")
_DASHED = re.compile(rf"{_EDGE_L}{_PART}[\-‐]{_PART}{_EDGE_R}")


class LinkResult(StrEnum):
    """What sending a link code did."""

    LINKED = "linked"
    ALREADY = "already"  # this resident was already an officer of that association
    INVALID = "invalid"  # unknown, used by someone else, or expired


def issue_link_code(
    session: Session,
    association_id: int,
    now: datetime,
    *,
    ttl: timedelta = DEFAULT_TTL,
    created_by: str | None = None,
) -> str:
    """A new one-time code for the staff web to show once (formatted `XXXXX-XXXXX`)."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(LINK_CODE_LENGTH))
    session.add(
        OfficerLinkCode(
            code_hash=_hash(code),
            association_id=association_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return f"{code[:_HALF]}-{code[_HALF:]}"


def find_link_code(text: str) -> str | None:
    """A link-code-shaped token in typed text (dashes, spaces and width ignored)."""
    match = _TOKEN.search(unicodedata.normalize("NFKC", text).upper())
    return match.group(1) + match.group(2) if match else None


def looks_like_link_message(text: str) -> bool:
    """True for a message holding a code in its printed form (`XXXXX-XXXXX`)."""
    return _DASHED.search(unicodedata.normalize("NFKC", text).upper()) is not None


def redeem(
    session: Session, resident: Resident, code: str, now: datetime
) -> tuple[LinkResult, Association | None]:
    """Link the resident as an officer of the code's association."""
    assert resident.id is not None
    row = session.exec(
        select(OfficerLinkCode).where(OfficerLinkCode.code_hash == _hash(code))
    ).first()
    if row is None or row.expires_at <= now:
        return LinkResult.INVALID, None
    association = session.get(Association, row.association_id)
    if row.used_at is not None:
        used_by = session.get(Officer, row.used_by_officer_id) if row.used_by_officer_id else None
        if used_by is not None and used_by.resident_id == resident.id:
            return LinkResult.ALREADY, association
        return LinkResult.INVALID, None
    officer = officer_for(session, resident.id, row.association_id)
    result = LinkResult.ALREADY if officer is not None else LinkResult.LINKED
    officer = officer or _link(session, resident.id, row.association_id, now)
    row.used_at, row.used_by_officer_id = now, officer.id
    session.add(row)
    return result, association


def _link(session: Session, resident_id: int, association_id: int, now: datetime) -> Officer:
    revoked = session.exec(
        select(Officer).where(
            Officer.resident_id == resident_id, Officer.association_id == association_id
        )
    ).first()
    officer = revoked or Officer(
        resident_id=resident_id, association_id=association_id, linked_at=now
    )
    officer.linked_at, officer.revoked_at = now, None
    session.add(officer)
    session.flush()
    return officer


def revoke(session: Session, officer_id: int, now: datetime) -> bool:
    """End an officer's link (the April hand-over); their past decisions keep pointing here."""
    officer = session.get(Officer, officer_id)
    if officer is None or officer.revoked_at is not None:
        return False
    officer.revoked_at = now
    session.add(officer)
    return True


def associations_of(session: Session, resident_id: int) -> list[Association]:
    """The associations a resident is a live officer of."""
    query = (
        select(Association)
        .join(Officer, col(Officer.association_id) == col(Association.id))
        .where(Officer.resident_id == resident_id, col(Officer.revoked_at).is_(None))
        .order_by(col(Association.code))
    )
    return list(session.exec(query))


def _hash(code: str) -> str:
    return hashlib.sha256(code.upper().encode()).hexdigest()
