"""The household register's rules every feature shares: keys, 班 suggestions, LINE members.

The register itself (bot/core/models/households.py) is filled by the officer's roster import
(bot/features/households/) and by approvals: an approved member's household is found by its
address, or added, and placed in the 班 its neighbours are in. A household whose last LINE
member leaves goes back to paper (or, if it came from LINE alone, leaves the register), and
`remove` takes a household out of every list, telling the features through
`hooks.emit_household_removed`.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core import hooks
from bot.core.models.han import HanAssignment
from bot.core.models.households import Household, HouseholdSource, Reach
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as join codes: no look-alikes
CODE_LENGTH = 8
_ON_LINE = {Reach.LINE, Reach.BOTH}


def clean(text: object) -> str:
    """NFKC (full-width digits and letters become half-width), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", str(text or "")).split())


def key_of(address: str, contact_name: str = "") -> str:
    """What a re-import matches a household on: its address, else its contact's name."""
    base = clean(address) or ("name:" + clean(contact_name))
    return base.replace(" ", "").replace("ー", "-").replace("−", "-").lower()[:120]


def on_line(household: Household) -> bool:
    """Whether notices reach the household on LINE."""
    return household.reach in _ON_LINE


def suggest_han(session: Session, *, association_id: int, address: str | None) -> str:
    """The 班 of the registered household whose address shares the longest start with this
    one (the same block, the same building): blank when none shares at least two characters."""
    wanted = key_of(address or "")
    if not wanted or wanted.startswith("name:"):
        return ""
    best, best_len = "", 1
    for other, han in session.exec(
        select(Household.key, Household.han).where(
            Household.association_id == association_id, Household.han != ""
        )
    ):
        shared = _common_prefix(wanted, other)
        if shared > best_len:
            best, best_len = han, shared
    return best


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def place_member(
    session: Session, membership: Membership, resident: Resident | None, now: datetime
) -> Household:
    """On approval: the member's household in the register (found by address, or added in the
    suggested 班), now reached on LINE; the member's 班 follows the household's."""
    household = session.get(Household, membership.household_id) if membership.household_id else None
    address = clean(" ".join(p for p in (membership.town_label, membership.room) if p))
    if household is None or household.association_id != membership.association_id:
        household = session.exec(
            select(Household).where(
                Household.association_id == membership.association_id,
                Household.key == key_of(address, membership.full_name or ""),
            )
        ).first()
    if household is None:
        household = Household(
            association_id=membership.association_id,
            han=suggest_han(session, association_id=membership.association_id, address=address),
            address=address[:100],
            contact_name=(membership.full_name or "")[:60],
            people=membership.household_size,
            reach=Reach.LINE,
            language=resident.locale if resident else "ja",
            key=key_of(address, membership.full_name or ""),
            source=HouseholdSource.LINE,
            created_at=now,
            updated_at=now,
        )
    household.reach = Reach.BOTH if household.reach == Reach.PAPER else Reach.LINE
    household.updated_at = now
    session.add(household)
    session.flush()
    membership.household_id = household.id
    session.add(membership)
    sync_han(session, household)
    return household


def sync_han(session: Session, household: Household) -> None:
    """The household's 班 becomes its LINE members' 班 (notices count them by it)."""
    for resident_id in live_member_ids(session, household.id or 0):
        row = session.exec(
            select(HanAssignment).where(
                HanAssignment.association_id == household.association_id,
                HanAssignment.resident_id == resident_id,
            )
        ).first() or HanAssignment(association_id=household.association_id, resident_id=resident_id)
        row.han = household.han
        session.add(row)


def live_member_ids(session: Session, household_id: int) -> list[int]:
    """Residents with an approved membership in the household."""
    return list(
        session.exec(
            select(Membership.resident_id).where(
                Membership.household_id == household_id,
                Membership.status == MembershipStatus.APPROVED,
            )
        )
    )


def on_membership_changed(session: Session, resident_id: int, now: datetime) -> None:
    """A member left, moved or erased their data: a household with no LINE member left goes
    back to paper, or leaves the register when it only ever came from LINE."""
    linked = session.exec(
        select(Membership.household_id).where(
            Membership.resident_id == resident_id,
            col(Membership.household_id).is_not(None),
            Membership.status != MembershipStatus.APPROVED,
            Membership.status != MembershipStatus.PENDING,
        )
    ).all()
    for household_id in {int(h) for h in linked if h is not None}:
        household = session.get(Household, household_id)
        if household is None or live_member_ids(session, household_id):
            continue
        if household.source == HouseholdSource.LINE:
            remove(session, household, now)
            continue
        household.reach = Reach.PAPER if household.reach == Reach.BOTH else Reach.NONE
        household.updated_at = now
        session.add(household)


def remove(session: Session, household: Household, now: datetime) -> None:
    """Take a household out of the register and of every list (features drop their rows for it
    through `hooks.emit_household_removed`, in this transaction)."""
    assert household.id is not None
    hooks.emit_household_removed(session, household.id, now)
    session.execute(
        update(Membership)
        .where(col(Membership.household_id) == household.id)
        .values(household_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(household)
    session.flush()


def ensure_join_code(session: Session, household: Household) -> str:
    """The household's slip code, drawn the first time it is printed."""
    if household.join_code:
        return household.join_code
    for _ in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Household.id).where(Household.join_code == code)).first() is None:
            household.join_code = code
            session.add(household)
            return code
    raise RuntimeError("could not draw an unused slip code")


def by_join_code(session: Session, tokens: Iterable[str]) -> Household | None:
    """The household whose slip carries one of these code-shaped tokens."""
    wanted = [t.upper() for t in tokens]
    if not wanted:
        return None
    return session.exec(select(Household).where(col(Household.join_code).in_(wanted))).first()


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key reading digit runs as numbers: 本町1-2 before 本町1-10."""
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def in_han(session: Session, *, association_id: int, han: str | None = None) -> list[Household]:
    """The association's households (of one 班 when given), by 班 and address."""
    query = select(Household).where(Household.association_id == association_id)
    if han is not None:
        query = query.where(Household.han == han)
    found = list(session.exec(query))
    return sorted(found, key=lambda h: (natural_key(h.han), natural_key(h.key)))
