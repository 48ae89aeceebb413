"""Importing the roster: which column is which, a preview of what would change, then apply.

Nothing is written by `preview`: it compares the file with the register and returns what
would be added, changed and left alone, and an error per bad row. `apply` writes exactly
what a preview found, after the officer confirmed; the column mapping is remembered per
association. Rows match households by address (else by name), so importing the same file
twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot.core import households as register
from bot.core.han import MAX_HAN
from bot.core.models.households import (
    MAX_ADDRESS,
    MAX_NAME,
    Household,
    HouseholdSource,
    Reach,
    RosterMapping,
)
from bot.features.households.roster_file import Grid

FIELDS = ("han", "address", "contact_name", "people", "reach", "language")
MAX_PEOPLE = 20
MAX_UPLOAD = 5_000_000
# Header cells (after NFKC) that name a field; the officer can choose others on the page.
HEADERS: dict[str, str] = {
    "班": "han", "班名": "han", "組": "han", "班・組": "han", "han": "han",
    "住所": "address", "住所・部屋": "address", "部屋": "address", "部屋番号": "address",
    "号室": "address", "番地": "address", "住所・部屋番号": "address", "address": "address",
    "氏名": "contact_name", "世帯主": "contact_name", "世帯主名": "contact_name",
    "代表者": "contact_name", "名前": "contact_name", "連絡先氏名": "contact_name",
    "お名前": "contact_name", "name": "contact_name",
    "人数": "people", "世帯人数": "people", "人員": "people", "people": "people",
    "届け方": "reach", "配布": "reach", "配布方法": "reach", "連絡方法": "reach",
    "reach": "reach",
    "言語": "language", "ことば": "language", "language": "language",
}  # fmt: skip
REACH_WORDS: dict[str, str] = {
    "line": Reach.LINE, "ライン": Reach.LINE,
    "紙": Reach.PAPER, "回覧": Reach.PAPER, "回覧板": Reach.PAPER, "paper": Reach.PAPER,
    "両方": Reach.BOTH, "line・紙": Reach.BOTH, "both": Reach.BOTH,
    "未達": Reach.NONE, "届いていない": Reach.NONE, "none": Reach.NONE, "not reached": Reach.NONE,
}  # fmt: skip
LANGUAGE_WORDS: dict[str, str] = {
    "日本語": "ja", "ja": "ja", "japanese": "ja",
    "英語": "en", "en": "en", "english": "en",
    "やさしい日本語": "ja-easy", "ja-easy": "ja-easy", "easy japanese": "ja-easy",
}  # fmt: skip


def is_header(text: str) -> bool:
    """Whether a cell reads like one of the roster's headers."""
    return text.strip().lower() in HEADERS


def guess_mapping(headers: list[str], remembered: dict[str, Any] | None = None) -> dict[str, int]:
    """Field → column index: the association's remembered header names first, then the known
    header words; the first column holding a field wins."""
    mapping: dict[str, int] = {}
    for name, header in (remembered or {}).items():
        if name in FIELDS and header in headers:
            mapping[name] = headers.index(header)
    for index, header in enumerate(headers):
        field_name = HEADERS.get(header.strip().lower())
        if field_name and field_name not in mapping and index not in mapping.values():
            mapping[field_name] = index
    return mapping


@dataclass(frozen=True)
class RowValues:
    """One row's household as the file gives it (reach and language only when given)."""

    han: str
    address: str
    contact_name: str
    people: int | None
    reach: str | None
    language: str | None

    @property
    def key(self) -> str:
        """The register's match key."""
        return register.key_of(self.address, self.contact_name)


@dataclass
class Preview:
    """What an import would do; `errors` and `duplicates` are (line, code) pairs."""

    added: list[tuple[int, RowValues]] = field(default_factory=list)
    changed: list[tuple[int, RowValues, list[str]]] = field(default_factory=list)
    unchanged: list[tuple[int, RowValues]] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, same as line)
    errors: list[tuple[int, str]] = field(default_factory=list)
    mapping: dict[str, int] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        """Rows the import would write."""
        return len(self.added) + len(self.changed)


class MappingError(ValueError):
    """The mapping lacks a column the register needs."""


def read_row(cells: list[str], mapping: dict[str, int]) -> RowValues:
    """One row's values, checked; ValueError(code) for a bad row."""

    def get(name: str) -> str:
        index = mapping.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    han, address, name = get("han"), get("address"), get("contact_name")
    if not address and not name:
        raise ValueError("no_address")
    if len(han) > MAX_HAN or len(address) > MAX_ADDRESS or len(name) > MAX_NAME:
        raise ValueError("too_long")
    people_text = get("people").removesuffix("人").strip()
    if people_text and (not people_text.isdigit() or not 1 <= int(people_text) <= MAX_PEOPLE):
        raise ValueError("people")
    reach_text, language_text = get("reach").lower(), get("language").lower()
    if reach_text and reach_text not in REACH_WORDS:
        raise ValueError("reach")
    if language_text and language_text not in LANGUAGE_WORDS:
        raise ValueError("language")
    return RowValues(
        han=han,
        address=address,
        contact_name=name,
        people=int(people_text) if people_text else None,
        reach=REACH_WORDS.get(reach_text) if reach_text else None,
        language=LANGUAGE_WORDS.get(language_text) if language_text else None,
    )


def preview(
    session: Session, *, association_id: int, grid: Grid, mapping: dict[str, int]
) -> Preview:
    """Compare the file with the register (writes nothing)."""
    if "address" not in mapping and "contact_name" not in mapping:
        raise MappingError("address")
    existing = {h.key: h for h in register.in_han(session, association_id=association_id)}
    result = Preview(mapping=dict(mapping))
    seen: dict[str, tuple[int, RowValues]] = {}
    for line, cells in grid.rows:
        try:
            values = read_row(cells, mapping)
        except ValueError as bad:
            result.errors.append((line, str(bad)))
            continue
        if values.key in seen:
            first_line, first = seen[values.key]
            if first == values:
                result.duplicates.append((line, first_line))
            else:
                result.errors.append((line, "duplicate_conflict"))
            continue
        seen[values.key] = (line, values)
        household = existing.get(values.key)
        if household is None:
            result.added.append((line, values))
        elif differences := _differences(household, values):
            result.changed.append((line, values, differences))
        else:
            result.unchanged.append((line, values))
    return result


def _differences(household: Household, values: RowValues) -> list[str]:
    wanted = {
        "han": values.han,
        "address": values.address,
        "contact_name": values.contact_name,
        "people": values.people if values.people is not None else household.people,
        "reach": values.reach or household.reach,
        "language": values.language or household.language,
    }
    return [name for name in FIELDS if getattr(household, name) != wanted[name]]


def apply(
    session: Session, *, association_id: int, found: Preview, headers: list[str], now: datetime
) -> int:
    """Write what the preview found (the officer confirmed); remember the column mapping.
    Returns the households added or changed."""
    existing = {h.key: h for h in register.in_han(session, association_id=association_id)}
    for _line, values in found.added:
        session.add(
            Household(
                association_id=association_id,
                han=values.han,
                address=values.address,
                contact_name=values.contact_name,
                people=values.people,
                reach=values.reach or Reach.PAPER,
                language=values.language or "ja",
                key=values.key,
                source=HouseholdSource.ROSTER,
                created_at=now,
                updated_at=now,
            )
        )
    for _line, values, _fields in found.changed:
        household = existing[values.key]
        moved = household.han != values.han
        household.han, household.address = values.han, values.address
        household.contact_name = values.contact_name
        household.people = values.people if values.people is not None else household.people
        household.reach = values.reach or household.reach
        household.language = values.language or household.language
        household.updated_at = now
        session.add(household)
        if moved:
            register.sync_han(session, household)
    remember_mapping(
        session, association_id=association_id, mapping=found.mapping, headers=headers, now=now
    )
    session.flush()
    return found.writes


def remember_mapping(
    session: Session,
    *,
    association_id: int,
    mapping: dict[str, int],
    headers: list[str],
    now: datetime,
) -> None:
    """Keep the header text of each mapped column for the association's next import."""
    row = session.get(RosterMapping, association_id) or RosterMapping(association_id=association_id)
    row.columns = {name: headers[i] for name, i in mapping.items() if 0 <= i < len(headers)}
    row.updated_at = now
    session.add(row)


def remembered(session: Session, association_id: int) -> dict[str, Any]:
    """The association's remembered header names per field (empty before the first import)."""
    row = session.exec(
        select(RosterMapping).where(RosterMapping.association_id == association_id)
    ).first()
    return dict(row.columns) if row else {}
