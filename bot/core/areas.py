"""Finding a resident's association in the area table, from a typed town or a location.

Lookups never scan the table: typed towns are matched through the indexed `Town.key` and
`Town.kana_key` columns (one prefix range each, exact matches first), locations through an
indexed latitude/longitude box before exact distances are computed. Importing the table
lives in `bot.core.area_import` and is re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Integer, Label, RowMapping, Select, bindparam, union_all
from sqlalchemy import select as core_select  # SQLModel's select types at most 4 columns
from sqlmodel import Session, col, select

from bot.core.area_import import AreaTableError, import_area_table, import_city_structure
from bot.core.models.areas import Association, District, Town, Ward
from bot.core.town_names import Variants, parse_town

__all__ = [
    "AreaTableError",
    "NearbyAssociation",
    "TownMatch",
    "association",
    "association_ids",
    "associations",
    "districts",
    "find_towns",
    "haversine_m",
    "import_area_table",
    "import_city_structure",
    "nearest_associations",
    "wards",
]

EARTH_RADIUS_M = 6_371_008.8
SEARCH_RADII_M = (1_000.0, 3_000.0, 10_000.0, 30_000.0)


@dataclass(frozen=True)
class TownMatch:
    """A 町丁目 that matches what the resident typed, with the association covering it."""

    town_id: int
    label: str
    name: str
    chome: int | None
    association_id: int
    association_code: str
    association_name: str
    district_id: int
    ward_id: int
    exact: bool
    # The town's reading (hiragana) from the area table: English and easy Japanese show it.
    reading: str = ""


@dataclass(frozen=True)
class NearbyAssociation:
    """An association near a point, by the distance to its closest 町丁目."""

    association_id: int
    association_code: str
    association_name: str
    district_id: int
    distance_m: float


# ---- queries -----------------------------------------------------------------------------


def wards(session: Session) -> list[Ward]:
    """Every ward, in the order the city listed them."""
    return list(session.exec(select(Ward).order_by(col(Ward.id))))


def districts(session: Session, ward_id: int) -> list[District]:
    """The districts of a ward, by code."""
    query = select(District).where(District.ward_id == ward_id).order_by(col(District.code))
    return list(session.exec(query))


def associations(session: Session, district_id: int) -> list[Association]:
    """The active associations of a district, by code."""
    query = (
        select(Association)
        .where(Association.district_id == district_id, col(Association.active).is_(True))
        .order_by(col(Association.code))
    )
    return list(session.exec(query))


def association(session: Session, code: str) -> Association | None:
    """The association with this code, if any."""
    return session.exec(select(Association).where(Association.code == code)).first()


def find_towns(
    session: Session,
    text: str,
    *,
    district_id: int | None = None,
    limit: int = 5,
    variants: Variants | None = None,
) -> list[TownMatch]:
    """Towns matching typed text: exact key or reading first, else towns starting with it.

    Several results mean the input was ambiguous (offer them; `len == limit` may mean there
    are more). A 丁目 the table lacks falls back to the town's other 丁目.
    """
    parsed = parse_town(text, variants)
    if not parsed.town or limit < 1:
        return []
    keys = [parsed.key] if parsed.chome is None else [parsed.key, parsed.town]
    for key in keys:
        found = _lookup(session, key, district_id=district_id, limit=limit, romaji=parsed.romaji)
        if found:
            return found
    return []


def association_ids(matches: Iterable[TownMatch]) -> list[int]:
    """The distinct associations among candidates (one means no need to ask which)."""
    return list(dict.fromkeys(m.association_id for m in matches))


_MATCH_COLUMNS: tuple[Label[Any], ...] = (
    col(Town.id).label("town_id"),
    col(Town.label).label("label"),
    col(Town.name).label("name"),
    col(Town.chome).label("chome"),
    col(Town.key).label("key"),
    col(Town.kana_key).label("kana_key"),
    col(Town.romaji_key).label("romaji_key"),
    col(Town.reading).label("reading"),
    col(Town.district_id).label("district_id"),
    col(Town.ward_id).label("ward_id"),
    col(Association.id).label("association_id"),
    col(Association.code).label("association_code"),
    col(Association.name).label("association_name"),
)
_KEYS = ("key", "kana_key", "romaji_key")
_MATCH_FIELDS = tuple(c.name for c in _MATCH_COLUMNS if c.name not in _KEYS)


def _lookup(
    session: Session, key: str, *, district_id: int | None, limit: int, romaji: bool = False
) -> list[TownMatch]:
    """Towns whose key or reading starts with `key`; only the exact ones if there are any."""
    params: dict[str, Any] = {"lo": key, "hi": _prefix_end(key), "limit": limit}
    if district_id is not None:
        params["district_id"] = district_id
    statement = _lookup_statement(district_id is not None, romaji)
    rows = session.execute(statement, params).mappings().all()
    found: dict[int, TownMatch] = {}
    for row in rows:
        exact = key in (row["romaji_key"],) if romaji else key in (row["key"], row["kana_key"])
        fields = {name: row[name] for name in _MATCH_FIELDS}
        found.setdefault(row["town_id"], TownMatch(exact=exact, **fields))
    exact_only = [m for m in found.values() if m.exact]
    ordered = sorted(exact_only or found.values(), key=_display_order)
    return ordered[:limit]


@lru_cache(maxsize=4)
def _lookup_statement(by_district: bool, romaji: bool = False) -> CompoundSelect[Any]:
    """One round trip: two index range scans (key, reading) joined by UNION ALL; typed
    romaji is one range scan of the romaji key (a UNION ALL of one).

    Each is ordered by its own column, so it stops after `limit` rows, and an exact match
    (the smallest string in the range) always comes first. Built once: constructing it
    per call cost more than running it.
    """
    parts = []
    columns = (col(Town.romaji_key),) if romaji else (col(Town.key), col(Town.kana_key))
    for column in columns:
        query = (
            core_select(*_MATCH_COLUMNS)
            .join(Association, col(Association.id) == col(Town.association_id))
            .where(
                column >= bindparam("lo"),
                column < bindparam("hi"),
                col(Association.active).is_(True),
            )
            .order_by(column)
            # Written into the SQL, not bound: with an unknown LIMIT PostgreSQL's cached
            # generic plan looks dearer than replanning, so on a large table it replanned
            # every call (3x slower than the same lookup on a small table).
            .limit(bindparam("limit", type_=Integer, literal_execute=True))
        )
        if by_district:
            query = query.where(col(Town.district_id) == bindparam("district_id"))
        parts.append(core_select(query.subquery()))
    return union_all(*parts)


def _display_order(match: TownMatch) -> tuple[str, int, str]:
    return (match.name, match.chome or 0, match.association_code)


def _prefix_end(prefix: str) -> str:
    """The smallest string above every string starting with `prefix` (code-point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def nearest_associations(
    session: Session,
    lat: float,
    lon: float,
    *,
    district_id: int | None = None,
    limit: int = 3,
) -> list[NearbyAssociation]:
    """The associations whose 町丁目 lie closest to a point, nearest first.

    Searches a growing box (1, 3, 10, 30 km) so a dense table is read only around the point.
    """
    best: dict[int, NearbyAssociation] = {}
    for radius in SEARCH_RADII_M:
        best = {}
        for row in _towns_in_box(session, lat, lon, radius, district_id):
            distance = haversine_m(lat, lon, row["latitude"], row["longitude"])
            known = best.get(row["association_id"])
            if distance <= radius and (known is None or distance < known.distance_m):
                best[row["association_id"]] = NearbyAssociation(
                    row["association_id"],
                    row["association_code"],
                    row["association_name"],
                    row["district_id"],
                    distance,
                )
        if len(best) >= limit:
            break
    return sorted(best.values(), key=lambda a: a.distance_m)[:limit]


def _towns_in_box(
    session: Session, lat: float, lon: float, radius_m: float, district_id: int | None
) -> Sequence[RowMapping]:
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    params: dict[str, Any] = {
        "lat_lo": lat - dlat,
        "lat_hi": lat + dlat,
        "lon_lo": lon - dlon,
        "lon_hi": lon + dlon,
    }
    if district_id is not None:
        params["district_id"] = district_id
    statement = _box_statement(district_id is not None)
    return session.execute(statement, params).mappings().all()


@lru_cache(maxsize=2)
def _box_statement(by_district: bool) -> Select[*tuple[Any, ...]]:
    """Towns inside a latitude/longitude box (an index range on latitude), built once."""
    query: Select[*tuple[Any, ...]] = (
        core_select(
            col(Town.latitude).label("latitude"),
            col(Town.longitude).label("longitude"),
            col(Association.id).label("association_id"),
            col(Association.code).label("association_code"),
            col(Association.name).label("association_name"),
            col(Association.district_id).label("district_id"),
        )
        .join(Association, col(Association.id) == col(Town.association_id))
        .where(
            col(Town.latitude).between(bindparam("lat_lo"), bindparam("lat_hi")),
            col(Town.longitude).between(bindparam("lon_lo"), bindparam("lon_hi")),
            col(Association.active).is_(True),
        )
    )
    if by_district:
        query = query.where(col(Town.district_id) == bindparam("district_id"))
    return query


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))
