"""Who a notice or an event invitation is for: an audience spec resolved to residents.

A spec is a scope (association / district / ward members, or everyone who follows the bot)
narrowed by optional filters: an interest tag, and "has never taken part" (no check-in and no
`going` answer to any event: what counts as taking part is declared by the features that
record it, through `hooks.participation_conditions`), so invitations reach beyond the usual
faces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, literal, select
from sqlmodel import Session, col

from bot.core import hooks
from bot.core.models.areas import Association, District
from bot.core.models.han import HanAssignment
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident, ResidentInterest, ResidentStatus

SCOPES = ("association", "district", "ward", "everyone")


class AudienceError(ValueError):
    """The spec is malformed (unknown scope, missing ids)."""


@dataclass(frozen=True)
class Audience:
    """A serialisable audience: stored as JSON on notices and events."""

    scope: str
    ids: tuple[int, ...] = ()
    interest: str | None = None
    never_participated: bool = False

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise AudienceError(f"unknown scope {self.scope!r}")
        if self.scope != "everyone" and not self.ids:
            raise AudienceError(f"scope {self.scope!r} needs ids")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Audience:
        """Read a stored spec."""
        return cls(
            scope=str(spec.get("scope", "")),
            ids=tuple(int(i) for i in spec.get("ids", ())),
            interest=spec.get("interest") or None,
            never_participated=bool(spec.get("never_participated", False)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec as stored."""
        return {
            "scope": self.scope,
            "ids": list(self.ids),
            "interest": self.interest,
            "never_participated": self.never_participated,
        }


@dataclass(frozen=True)
class Member:
    """One resolved recipient, with the association and 班 its read coverage counts for."""

    resident_id: int
    association_id: int | None
    han: str
    household_key: str
    household_id: int | None = None  # the register's household (世帯名簿), when it has one


def resolve(session: Session, audience: Audience) -> list[Member]:
    """Residents with LINE who are reachable (following) and in the audience, each once."""
    rows = session.execute(_query(audience).order_by(col(Resident.id))).all()
    seen: dict[int, Member] = {}
    for resident_id, association_id, han, membership_id, household_id in rows:
        if resident_id in seen:  # a resident in two associations of the scope counts once
            continue
        # LINE users of one registered household count as that one household.
        household = (
            f"h{household_id}"
            if household_id
            else (f"m{membership_id}" if membership_id else f"r{resident_id}")
        )
        seen[resident_id] = Member(
            int(resident_id), association_id, han or "", household, household_id
        )
    return list(seen.values())


def in_scope(session: Session, audience: Audience, resident_id: int) -> bool:
    """Whether a resident falls within the audience's scope (everyone, or an approved member
    of an association in it). The interest and never-participated filters choose whom to
    *invite*; they do not bar a resident of the scope from answering, so they are ignored."""
    if audience.scope == "everyone":
        return True
    query = (
        select(col(Membership.id))
        .join(Association, col(Association.id) == col(Membership.association_id))
        .where(
            col(Membership.resident_id) == resident_id,
            col(Membership.status) == MembershipStatus.APPROVED,
        )
        .where(_scope_filter(audience))
        .limit(1)
    )
    return session.execute(query).first() is not None


def count(session: Session, audience: Audience) -> int:
    """How many residents `resolve` would return (the preview the organiser sees)."""
    return len(resolve(session, audience))


def _query(audience: Audience) -> Select[*tuple[Any, ...]]:
    reachable = (col(Resident.line_user_id).is_not(None)) & (
        col(Resident.status) == ResidentStatus.ACTIVE
    )
    if audience.scope == "everyone":
        query: Select[*tuple[Any, ...]] = select(
            col(Resident.id), literal(None), literal(""), literal(None), literal(None)
        ).where(reachable)
    else:
        query = (
            select(
                col(Resident.id),
                col(Membership.association_id),
                col(HanAssignment.han),
                col(Membership.id),
                col(Membership.household_id),
            )
            .join(Membership, col(Membership.resident_id) == col(Resident.id))
            .join(Association, col(Association.id) == col(Membership.association_id))
            .outerjoin(
                HanAssignment,
                (col(HanAssignment.resident_id) == col(Resident.id))
                & (col(HanAssignment.association_id) == col(Membership.association_id)),
            )
            .where(reachable, col(Membership.status) == MembershipStatus.APPROVED)
            .where(_scope_filter(audience))
        )
    if audience.interest:
        query = query.where(
            exists().where(
                col(ResidentInterest.resident_id) == col(Resident.id),
                col(ResidentInterest.tag) == audience.interest,
            )
        )
    if audience.never_participated:
        for took_part in hooks.participation_conditions(Resident.id):
            query = query.where(~took_part)
    return query


def _scope_filter(audience: Audience) -> Any:
    ids = list(audience.ids)
    if audience.scope == "association":
        return col(Association.id).in_(ids)
    if audience.scope == "district":
        return col(Association.district_id).in_(ids)
    wards = select(col(District.id)).where(col(District.ward_id).in_(ids))
    return col(Association.district_id).in_(wards)
