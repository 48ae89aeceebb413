"""Membership as staff see it: counts per association, member lists, pending applications.

Every function takes the caller's `Scope`; lists with names are for officers of the
association (their scope), counts are for everyone whose scope covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel import Session, col, select

from bot.core import han as hancho
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.scope import Scope
from bot.features.membership import memberships as membership_service
from bot.features.membership.models import MembershipTally
from bot.staff.tables import Column, Table


class NotFound(Exception):
    """No such application (the web answers 404)."""


@dataclass(frozen=True)
class Counts:
    """Members (approved, not ended), their households, and pending applications."""

    members: int = 0
    households: int = 0
    pending: int = 0


def counts_by_association(session: Session, scope: Scope) -> dict[int, Counts]:
    """Read from the pre-aggregated tally (a few rows per association), filtered by scope.

    Counting `membership` itself would scan the city's memberships on every page view; the
    tally is kept in step with it on every write (bot/features/membership/tally.py).
    """
    query = select(
        MembershipTally.association_id,
        MembershipTally.status,
        MembershipTally.memberships,
        MembershipTally.people,
    ).where(
        col(MembershipTally.status).in_([MembershipStatus.APPROVED, MembershipStatus.PENDING]),
        scope.association_filter(MembershipTally.association_id),
    )
    out: dict[int, Counts] = {}
    for association_id, status, count, households in session.exec(query).all():
        old = out.get(association_id, Counts())
        if status == MembershipStatus.APPROVED:
            out[association_id] = Counts(int(count), int(households), old.pending)
        else:
            out[association_id] = Counts(old.members, old.households, int(count))
    return out


MEMBER_COLUMNS = [
    Column("name", "col.name"),
    Column("town", "col.address"),
    Column("room", "col.room"),
    Column("household", "col.household", numeric=True),
    Column("contact", "col.contact", labels="contact."),
    Column("since", "col.since"),
    Column("han_leader", "col.han_leader"),  # the 班 this member leads as 班長, if any
]


def members_table(session: Session, scope: Scope, association_id: int, tz: tzinfo) -> Table:
    """Approved members of one association in scope (ScopeDenied for any other)."""
    scope.require_association(session, association_id)
    rows = session.exec(
        select(Membership)
        .where(
            Membership.association_id == association_id,
            Membership.status == MembershipStatus.APPROVED,
            scope.association_filter(Membership.association_id),
        )
        .order_by(col(Membership.decided_at), col(Membership.id))
    ).all()
    leaders = hancho.leaders_by_resident(session, association_id=association_id)
    out = [{**_member_row(m, tz), "han_leader": leaders.get(m.resident_id, "")} for m in rows]
    return Table(f"members-{association_id}", MEMBER_COLUMNS, out)


def _local(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def _member_row(m: Membership, tz: tzinfo) -> dict[str, object]:
    return {
        "id": m.id,
        "association_id": m.association_id,
        "name": m.full_name or "",
        "town": m.town_label or "",
        "room": m.room or "",
        "household": m.household_size or 0,
        "contact": m.contact_method or "",
        "since": _local(m.decided_at, tz),
        "applied_at": _local(m.applied_at, tz),
    }


PENDING_COLUMNS = [
    Column("association", "col.association"),
    Column("name", "col.name"),
    Column("town", "col.address"),
    Column("room", "col.room"),
    Column("household", "col.household", numeric=True),
    Column("contact", "col.contact", labels="contact."),
    Column("applied_at", "col.applied_at"),
]
# What ward staff see of an application nobody in its association is told of: enough to
# decide or send it on (where, how many), never who (the consent text says so).
UNATTENDED_COLUMNS = [
    Column("association", "col.association"),
    Column("town", "col.address"),
    Column("room", "col.room"),
    Column("household", "col.household", numeric=True),
    Column("applied_at", "col.applied_at"),
]


class Attended(Exception):
    """The application's association has a linked officer now: they decide it (409)."""


def pending_table(session: Session, scope: Scope, names: dict[int, str], tz: tzinfo) -> Table:
    """Pending applications to associations in scope, oldest first."""
    rows = session.exec(
        select(Membership)
        .where(
            Membership.status == MembershipStatus.PENDING,
            scope.association_filter(Membership.association_id),
        )
        .order_by(col(Membership.applied_at), col(Membership.id))
    ).all()
    out = []
    for m in rows:
        row = _member_row(m, tz)
        row["association"] = names.get(m.association_id, "")
        out.append(row)
    return Table("pending", PENDING_COLUMNS, out)


def unattended_table(session: Session, scope: Scope, names: dict[int, str], tz: tzinfo) -> Table:
    """Pending applications to associations in scope that have no linked officer."""
    rows = session.exec(
        select(Membership)
        .where(
            Membership.status == MembershipStatus.PENDING,
            scope.association_filter(Membership.association_id),
        )
        .order_by(col(Membership.applied_at), col(Membership.id))
    ).all()
    orphaned = membership_service.associations_without_officer(
        session, {m.association_id for m in rows}
    )
    out = []
    for m in rows:
        if m.association_id in orphaned:
            row = _member_row(m, tz)
            row["association"] = names.get(m.association_id, "")
            out.append({k: row[k] for k in ("id", "association_id", *_keys(UNATTENDED_COLUMNS))})
    return Table("unattended", UNATTENDED_COLUMNS, out)


def _keys(columns: list[Column]) -> list[str]:
    return [c.key for c in columns]


def _unattended(session: Session, scope: Scope, membership_id: int) -> Membership:
    """The application, if it is in scope and its association has no linked officer."""
    row = session.get(Membership, membership_id)
    if row is None:
        raise NotFound(membership_id)
    scope.require_association(session, row.association_id)
    if not membership_service.associations_without_officer(session, [row.association_id]):
        raise Attended(membership_id)
    return row


def decide_unattended(
    session: Session, scope: Scope, membership_id: int, *, approve: bool, staff: str, now: datetime
) -> membership_service.Decision:
    """Ward staff approve or decline an application no officer is told of, once."""
    _unattended(session, scope, membership_id)
    action = membership_service.approve if approve else membership_service.decline
    return action(session, membership_id, now, staff=staff)


def reassign_unattended(
    session: Session, scope: Scope, membership_id: int, association_id: int, now: datetime
) -> Membership | None:
    """Send an unattended application on to another association in scope; None when
    nothing changed (decided meanwhile, or already there)."""
    _unattended(session, scope, membership_id)
    scope.require_association(session, association_id)
    return membership_service.reassign(session, membership_id, association_id, now)


def decide(
    session: Session, scope: Scope, membership_id: int, *, approve: bool, staff: str, now: datetime
) -> membership_service.Decision:
    """Approve or decline an application to an association in scope, once."""
    row = session.get(Membership, membership_id)
    if row is None:
        raise NotFound(membership_id)
    scope.require_association(session, row.association_id)
    action = membership_service.approve if approve else membership_service.decline
    return action(session, membership_id, now, staff=staff)


def set_han_leader(
    session: Session,
    scope: Scope,
    association_id: int,
    membership_id: int,
    *,
    han: str,
    staff: str,
    now: datetime,
) -> bool:
    """Name a member 班長 of `han` (han blank: end their role); False when nothing changed.

    Raises ScopeDenied outside the caller's associations, HanchoError for a bad 班 or member.
    """
    scope.require_association(session, association_id)
    if not han.strip():
        return hancho.revoke(
            session, association_id=association_id, membership_id=membership_id, now=now
        )
    hancho.designate(
        session,
        association_id=association_id,
        membership_id=membership_id,
        han=han,
        now=now,
        staff=staff,
    )
    return True
