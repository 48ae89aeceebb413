"""The one place that turns a staff account into query filters.

Every query the staff web, the API and the exports make goes through a `Scope`: a city
admin sees the whole city, ward staff their wards, an officer or organiser their
associations. Pages hide what a role may not see, but the filtering happens here, in the
service layer, so an officer of association A cannot read B's members by page, API or export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import false, true
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.models.areas import Association, District, Ward
from bot.core.models.staff import StaffAccount, StaffRole, StaffScope


class Permission(StrEnum):
    """What a route needs; roles grant sets of these (see ROLE_PERMISSIONS)."""

    VIEW_TALLIES = "view_tallies"  # overview, participation numbers
    VIEW_MEMBERS = "view_members"  # member lists with names and contacts (officers only)
    APPROVE_MEMBERS = "approve_members"
    # The pending page: officers decide their own; city and ward staff those no officer is
    # told of (DECIDE_UNATTENDED), and see how many wait elsewhere.
    VIEW_APPLICATIONS = "view_applications"
    VIEW_EVENTS = "view_events"
    MANAGE_VOLUNTEERS = "manage_volunteers"  # create opportunities and slots, confirm shifts
    MANAGE_EVENTS = "manage_events"  # create, edit, publish and cancel events in scope
    SEND_NOTICES = "send_notices"
    EXPORT = "export"
    PRINT_QR = "print_qr"
    USE_API = "use_api"  # own API tokens
    MANAGE_STAFF = "manage_staff"
    VIEW_AUDIT = "view_audit"
    # Officer accounts and LINE link codes for associations in scope (city and ward staff).
    MANAGE_OFFICERS = "manage_officers"
    # Decide applications to associations in scope that have no LINE-linked officer, so no
    # application waits for nobody; they see town, room and household size, never names.
    DECIDE_UNATTENDED = "decide_unattended"
    RUN_SAFETY_CHECKS = "run_safety_checks"  # start a 安否確認 and follow its counts


# Residents consent to the city seeing counts only (content/consent): names and contacts
# are for their association's officers, so no city or ward role reads member lists.
_PERSONAL = frozenset({Permission.VIEW_MEMBERS, Permission.APPROVE_MEMBERS})

ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.CITY_ADMIN: frozenset(Permission) - _PERSONAL,
    StaffRole.WARD_STAFF: frozenset(
        {
            Permission.VIEW_TALLIES,
            Permission.VIEW_EVENTS,
            Permission.MANAGE_EVENTS,
            Permission.EXPORT,
            Permission.PRINT_QR,
            Permission.USE_API,
            Permission.MANAGE_OFFICERS,
            Permission.DECIDE_UNATTENDED,
            Permission.VIEW_APPLICATIONS,
            Permission.RUN_SAFETY_CHECKS,
        }
    ),
    StaffRole.ASSOCIATION_OFFICER: frozenset(
        {
            Permission.VIEW_TALLIES,
            Permission.VIEW_MEMBERS,
            Permission.APPROVE_MEMBERS,
            Permission.VIEW_APPLICATIONS,
            Permission.VIEW_EVENTS,
            Permission.MANAGE_VOLUNTEERS,
            Permission.MANAGE_EVENTS,
            Permission.SEND_NOTICES,
            Permission.EXPORT,
            Permission.PRINT_QR,
            Permission.USE_API,
            Permission.RUN_SAFETY_CHECKS,
        }
    ),
    # Organisers run events for their associations; member lists stay with the officers.
    StaffRole.ORGANISER: frozenset(
        {
            Permission.VIEW_TALLIES,
            Permission.VIEW_EVENTS,
            Permission.MANAGE_VOLUNTEERS,
            Permission.MANAGE_EVENTS,
            Permission.SEND_NOTICES,
            Permission.EXPORT,
            Permission.USE_API,
        }
    ),
}


class ScopeDenied(Exception):
    """The account may not see or touch this object (the web answers 403)."""


@dataclass(frozen=True)
class Scope:
    """What one staff account may see: a role, its permissions and the wards/associations."""

    role: StaffRole
    account_id: int | None = None
    ward_ids: frozenset[int] = field(default_factory=frozenset)
    association_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def city_wide(self) -> bool:
        """True for the city admin, who is filtered by nothing."""
        return self.role is StaffRole.CITY_ADMIN

    @property
    def may_address_everyone(self) -> bool:
        """True for city and ward staff, who may invite everyone following the bot; officers
        and organisers speak for their associations only."""
        return self.role in (StaffRole.CITY_ADMIN, StaffRole.WARD_STAFF)

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this role may do."""
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        """True when the role grants `permission`."""
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise ScopeDenied unless the role grants `permission`."""
        if not self.can(permission):
            raise ScopeDenied(permission.value)

    def association_filter(self, association_id: object) -> ColumnElement[bool]:
        """A WHERE clause keeping rows whose association column is within scope."""
        column = col(association_id)
        if self.city_wide:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if self.association_ids:
            clauses.append(column.in_(sorted(self.association_ids)))
        if self.ward_ids:
            clauses.append(column.in_(_associations_in_wards(self.ward_ids)))
        if not clauses:
            return false()
        return clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1]

    def ward_filter(self, ward_id: object) -> ColumnElement[bool]:
        """A WHERE clause keeping rows whose ward column is a ward this account covers.

        Officers and organisers cover the wards of their associations, for ward-level tallies.
        """
        column = col(ward_id)
        if self.city_wide:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if self.ward_ids:
            clauses.append(column.in_(sorted(self.ward_ids)))
        if self.association_ids:
            clauses.append(column.in_(_wards_of_associations(self.association_ids)))
        if not clauses:
            return false()
        return clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1]

    def district_filter(self, district_id: object) -> ColumnElement[bool]:
        """A WHERE clause keeping districts of the caller's wards or of their associations."""
        column = col(district_id)
        if self.city_wide:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if self.ward_ids:
            clauses.append(
                column.in_(
                    select(District.id).where(col(District.ward_id).in_(sorted(self.ward_ids)))
                )
            )
        if self.association_ids:
            clauses.append(
                column.in_(
                    select(Association.district_id).where(
                        col(Association.id).in_(sorted(self.association_ids))
                    )
                )
            )
        if not clauses:
            return false()
        return clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1]

    def covers(self, *, ward_id: int | None, association_id: int | None = None) -> bool:
        """For rows a service already grouped (e.g. the funnel): is this ward/association ours?

        Officers and organisers are covered only by their associations, never by a whole ward.
        """
        if self.city_wide:
            return True
        if association_id is not None and association_id in self.association_ids:
            return True
        return ward_id is not None and ward_id in self.ward_ids

    def allows_association(self, session: Session, association_id: int) -> bool:
        """True when the association is within scope (checked in the database, not guessed)."""
        if self.city_wide:
            return session.get(Association, association_id) is not None
        query = select(Association.id).where(
            Association.id == association_id, self.association_filter(Association.id)
        )
        return session.exec(query).first() is not None

    def require_association(self, session: Session, association_id: int) -> None:
        """Raise ScopeDenied unless the association exists and is within scope."""
        if not self.allows_association(session, association_id):
            raise ScopeDenied(f"association {association_id}")

    def require_owned(self, session: Session, association_id: int | None, what: str) -> None:
        """Raise ScopeDenied unless a row owned by `association_id` is visible (an unowned row
        is visible city-wide only)."""
        if self.city_wide:
            return
        if association_id is None or not self.allows_association(session, association_id):
            raise ScopeDenied(what)


def _associations_in_wards(ward_ids: Iterable[int]) -> SelectOfScalar[int | None]:
    return (
        select(col(Association.id))
        .join(District, col(District.id) == col(Association.district_id))
        .where(col(District.ward_id).in_(sorted(ward_ids)))
    )


def _wards_of_associations(association_ids: Iterable[int]) -> SelectOfScalar[int]:
    return (
        select(District.ward_id)
        .join(Association, col(Association.district_id) == col(District.id))
        .where(col(Association.id).in_(sorted(association_ids)))
    )


def scope_for(session: Session, account: StaffAccount) -> Scope:
    """The scope of an account, read from its scope rows."""
    rows = session.exec(select(StaffScope).where(StaffScope.account_id == account.id)).all()
    return Scope(
        role=StaffRole(account.role),
        account_id=account.id,
        ward_ids=frozenset(r.ward_id for r in rows if r.ward_id is not None),
        association_ids=frozenset(r.association_id for r in rows if r.association_id is not None),
    )


def visible_associations(
    session: Session, scope: Scope
) -> list[tuple[Association, District, Ward]]:
    """The associations in scope with their district and ward, ordered for display."""
    query = (
        select(Association, District, Ward)
        .join(District, col(District.id) == col(Association.district_id))
        .join(Ward, col(Ward.id) == col(District.ward_id))
        .where(scope.association_filter(Association.id), col(Association.active).is_(True))
        .order_by(col(Ward.code), col(District.code), col(Association.code))
    )
    return [(a, d, w) for a, d, w in session.exec(query).all()]


def visible_wards(session: Session, scope: Scope) -> list[Ward]:
    """The wards in scope, ordered by code."""
    query = select(Ward).where(scope.ward_filter(Ward.id)).order_by(col(Ward.code))
    return list(session.exec(query).all())


def association_ids_in_scope(session: Session, scope: Scope) -> list[int] | None:
    """For services that take association ids: None for the whole city, else the ids in scope."""
    if scope.city_wide:
        return None
    query = select(Association.id).where(scope.association_filter(Association.id))
    return sorted(int(i) for i in session.exec(query).all() if i is not None)
