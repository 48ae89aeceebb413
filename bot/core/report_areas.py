"""Which areas a caller may report on, and their scope narrowed to one area.

A feature asked for the council report answers with its own page's table built for the
narrowed scope, so the report shows what that feature's page shows for the area.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core import place_names
from bot.core.models.areas import Association, District, Ward
from bot.core.models.staff import StaffRole
from bot.core.scope import Scope

CITY = "city"


@dataclass(frozen=True)
class Area:
    """An area of the report: its key (city, ward:<id>, district:<id>, association:<id>), name
    and level."""

    key: str
    name: str
    level: str


def areas_in_scope(
    session: Session, scope: Scope, city_name: str, locale: str = "ja"
) -> list[Area]:
    """The city, then each ward in scope followed by its districts in scope, each district
    followed by its associations in scope (an officer's: their own); names in `locale`
    (English: the English name, romaji, or the Japanese one in 「」)."""
    wards = session.exec(select(Ward).where(scope.ward_filter(Ward.id)).order_by(col(Ward.id)))
    districts = list(
        session.exec(
            select(District).where(scope.district_filter(District.id)).order_by(col(District.id))
        )
    )
    associations = list(
        session.exec(
            select(Association)
            .where(scope.association_filter(Association.id))
            .order_by(col(Association.id))
        )
    )
    found = [Area(CITY, city_name, "city")]
    for ward in wards:
        found.append(Area(f"ward:{ward.id}", place_names.ward_name(ward, locale), "ward"))
        for district in (d for d in districts if d.ward_id == ward.id):
            name = place_names.district_name(district, locale)
            found.append(Area(f"district:{district.id}", name, "district"))
            found += [
                Area(f"association:{a.id}", place_names.association_name(a, locale), "association")
                for a in associations
                if a.district_id == district.id
            ]
    return found


def narrowed(session: Session, scope: Scope, area: str) -> Scope:
    """The caller's scope cut to one area (the area was checked against `areas_in_scope`).

    A whole ward the caller covers becomes a ward scope; otherwise the associations of the
    area that the caller may see, under a role that reads counts only.
    """
    if area == CITY:
        return scope
    level, _, ident = area.partition(":")
    area_id = int(ident)
    if level == "association":
        return Scope(StaffRole.WARD_STAFF, scope.account_id, association_ids=frozenset({area_id}))
    if level == "ward" and (scope.city_wide or area_id in scope.ward_ids):
        return Scope(StaffRole.WARD_STAFF, scope.account_id, ward_ids=frozenset({area_id}))
    query = select(Association.id).join(District, col(District.id) == col(Association.district_id))
    query = query.where(
        (col(District.ward_id) == area_id) if level == "ward" else (col(District.id) == area_id),
        scope.association_filter(Association.id),
    )
    ids = frozenset(int(i) for i in session.exec(query) if i is not None)
    return Scope(StaffRole.WARD_STAFF, scope.account_id, association_ids=ids)
