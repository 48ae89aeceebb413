"""Applications and memberships: apply, approve or decline once, leave, move, and who is who.

Every change of a resident's membership (apply, approve, decline, withdraw, leave; a move
is an approval ending the membership elsewhere) announces itself once, in the caller's
transaction, through `hooks.emit_membership_changed`, so other features (volunteering's
match keys) follow.

Decisions are conditional updates (`… WHERE status = 'pending'`), so an officer's double
tap, or two officers tapping at once on two replicas, decide an application exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core import hooks
from bot.core import households as register
from bot.core.models.areas import Association
from bot.core.models.membership import EndReason, Membership, MembershipStatus, Officer
from bot.core.models.residents import Resident
from bot.features.membership import tally as membership_tally

MAX_HOUSEHOLD = 20


class MembershipError(Exception):
    """An application that cannot be made; `reason` is a content key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Application:
    """What a resident fills in to join (the minimum an association needs)."""

    association_id: int
    full_name: str
    household_size: int
    contact_method: str
    room: str | None = None
    phone: str | None = None
    town_label: str | None = None
    source_code_id: int | None = None
    # The register's household, when the resident joined through its printed slip.
    household_id: int | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of approve/decline: the membership and whether this call decided it."""

    membership: Membership
    changed: bool


def apply(session: Session, resident: Resident, form: Application, now: datetime) -> Membership:
    """Create a pending application; one pending application per resident at a time."""
    assert resident.id is not None
    if pending_application(session, resident.id) is not None:
        raise MembershipError("already_pending")
    current = current_membership(session, resident.id)
    if current is not None and current.association_id == form.association_id:
        raise MembershipError("already_member")
    if not 1 <= form.household_size <= MAX_HOUSEHOLD:
        raise MembershipError("bad_household")
    row = Membership(
        resident_id=resident.id,
        association_id=form.association_id,
        source_code_id=form.source_code_id,
        town_label=form.town_label,
        full_name=form.full_name,
        room=form.room,
        phone=form.phone,
        contact_method=form.contact_method,
        household_size=form.household_size,
        household_id=form.household_id,
        applied_at=now,
    )
    session.add(row)
    session.flush()
    hooks.emit_membership_changed(session, resident.id, now)
    return row


def approve(
    session: Session,
    membership_id: int,
    now: datetime,
    *,
    officer_id: int | None = None,
    staff: str | None = None,
) -> Decision:
    """Approve a pending application once; a previous membership elsewhere ends (moved)."""
    decision = _decide(session, membership_id, MembershipStatus.APPROVED, now, officer_id, staff)
    if decision.changed:
        _end_other_memberships(session, decision.membership, now)
        # The household enters the register (or is found there) in its suggested 班.
        resident = session.get(Resident, decision.membership.resident_id)
        register.place_member(session, decision.membership, resident, now)
        _changed(session, decision.membership.resident_id, now)
    return decision


def decline(
    session: Session,
    membership_id: int,
    now: datetime,
    *,
    officer_id: int | None = None,
    staff: str | None = None,
) -> Decision:
    """Decline a pending application once; its personal fields are no longer needed."""
    decision = _decide(session, membership_id, MembershipStatus.DECLINED, now, officer_id, staff)
    if decision.changed:
        decision.membership.clear_personal_fields()
        session.add(decision.membership)
        _changed(session, decision.membership.resident_id, now)
    return decision


def reassign(
    session: Session, membership_id: int, association_id: int, now: datetime
) -> Membership | None:
    """Move a pending application to another association (ward staff found it was sent to
    the wrong one); None when it is no longer pending or already there. The tally follows
    through the flush hook (the association is a tracked column)."""
    row = session.get(Membership, membership_id)
    if row is None or row.status != MembershipStatus.PENDING:
        return None
    target = session.get(Association, association_id)
    if row.association_id == association_id or target is None or not target.active:
        return None
    row.association_id = association_id
    session.add(row)
    _changed(session, row.resident_id, now)
    return row


def _changed(session: Session, resident_id: int, now: datetime) -> None:
    session.flush()
    hooks.emit_membership_changed(session, resident_id, now)


def _decide(
    session: Session,
    membership_id: int,
    status: MembershipStatus,
    now: datetime,
    officer_id: int | None,
    staff: str | None,
) -> Decision:
    result = session.execute(
        update(Membership)
        .where(col(Membership.id) == membership_id, col(Membership.status) == "pending")
        .values(
            status=status,
            decided_at=now,
            decided_by_officer_id=officer_id,
            decided_by_staff=staff,
        )
        .execution_options(synchronize_session=False)
    )
    row = session.get(Membership, membership_id)
    if row is None:
        raise MembershipError("not_found")
    session.refresh(row)
    changed = result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result
    if changed:
        # A bulk UPDATE bypasses the flush hook that keeps the overview's tally.
        people = row.household_size or 0
        membership_tally.apply_deltas(
            session.connection(),
            [
                ((row.association_id, MembershipStatus.PENDING.value), -1, -people),
                ((row.association_id, status.value), +1, people),
            ],
        )
    return Decision(row, changed=changed)


def _end_other_memberships(session: Session, joined: Membership, now: datetime) -> None:
    others = session.exec(
        select(Membership).where(
            Membership.resident_id == joined.resident_id,
            Membership.status == MembershipStatus.APPROVED,
            Membership.id != joined.id,
        )
    ).all()
    for other in others:
        other.end(EndReason.MOVED, now)
        session.add(other)


def leave(session: Session, resident_id: int, now: datetime) -> Membership | None:
    """End the resident's membership; the association no longer needs their details."""
    current = current_membership(session, resident_id)
    if current is None:
        return None
    current.end(EndReason.LEFT, now)
    session.add(current)
    _changed(session, resident_id, now)
    return current


def withdraw(session: Session, resident_id: int, now: datetime) -> Membership | None:
    """Withdraw a pending application (the resident changed their mind)."""
    pending = pending_application(session, resident_id)
    if pending is None:
        return None
    pending.status, pending.ended_at = MembershipStatus.WITHDRAWN, now
    pending.clear_personal_fields()
    session.add(pending)
    _changed(session, resident_id, now)
    return pending


def current_membership(session: Session, resident_id: int) -> Membership | None:
    """The resident's approved membership, if any."""
    return _latest(session, resident_id, MembershipStatus.APPROVED)


def pending_application(session: Session, resident_id: int) -> Membership | None:
    """The resident's application waiting for an officer, if any."""
    return _latest(session, resident_id, MembershipStatus.PENDING)


def _latest(session: Session, resident_id: int, status: MembershipStatus) -> Membership | None:
    query = (
        select(Membership)
        .where(Membership.resident_id == resident_id, Membership.status == status)
        .order_by(col(Membership.applied_at).desc())
    )
    return session.exec(query).first()


def active_officerships(session: Session, resident_id: int) -> list[Officer]:
    """The resident's live officer links (one per association)."""
    query = select(Officer).where(
        Officer.resident_id == resident_id, col(Officer.revoked_at).is_(None)
    )
    return list(session.exec(query))


def officer_for(session: Session, resident_id: int, association_id: int) -> Officer | None:
    """The resident's live officer link for this association, if they have one."""
    query = select(Officer).where(
        Officer.resident_id == resident_id,
        Officer.association_id == association_id,
        col(Officer.revoked_at).is_(None),
    )
    return session.exec(query).first()


def officer_resident_ids(session: Session, association_id: int) -> list[int]:
    """Residents to notify about an association's applications."""
    query = select(Officer.resident_id).where(
        Officer.association_id == association_id, col(Officer.revoked_at).is_(None)
    )
    return list(session.exec(query))


def associations_without_officer(session: Session, association_ids: Iterable[int]) -> set[int]:
    """Those of `association_ids` with no live LINE-linked officer: nobody there is told of
    an application, so ward staff decide them."""
    wanted = set(association_ids)
    if not wanted:
        return set()
    query = select(Officer.association_id).where(
        col(Officer.association_id).in_(sorted(wanted)), col(Officer.revoked_at).is_(None)
    )
    return wanted - {int(i) for i in session.exec(query)}


def pending_applications_older_than(
    session: Session, days: float, now: datetime
) -> list[Membership]:
    """Pending applications waiting more than `days`, oldest first (for officer reminders)."""
    cutoff = now - timedelta(days=days)
    query = (
        select(Membership)
        .where(Membership.status == MembershipStatus.PENDING, Membership.applied_at <= cutoff)
        .order_by(col(Membership.applied_at))
    )
    return list(session.exec(query))


def pending_for_association(session: Session, association_id: int) -> list[Membership]:
    """An association's applications waiting for a decision, newest first."""
    query = (
        select(Membership)
        .where(
            Membership.association_id == association_id,
            Membership.status == MembershipStatus.PENDING,
        )
        .order_by(col(Membership.applied_at).desc())
    )
    return list(session.exec(query))


def association_of(session: Session, membership: Membership) -> Association:
    """The association a membership belongs to."""
    found = session.get(Association, membership.association_id)
    if found is None:
        raise MembershipError("not_found")
    return found
