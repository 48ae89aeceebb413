"""Importing the city's geography: the city file (wards, districts, counters) and the area
table CSV (associations and their 町丁目). Both are upserts keyed by code, so importing the
same files again writes nothing.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from bot.core.models.areas import Association, District, MovingInCounter, Town, Ward
from bot.core.readings import reading as dictionary_reading
from bot.core.town_names import (
    Variants,
    format_label,
    normalize_name,
    parse_number,
    romaji_town_key,
    strip_prefixes,
    town_key,
    variants_for,
)

CITY_FILE = Path("areas") / "city.yaml"
AREA_TABLE = Path("areas") / "towns.csv"
_TRUE = {"1", "true", "yes", "y", "はい", "○", "◯", "x"}
# Header cells (after NFKC, so 全角 parentheses match too) -> field. English names also work.
_HEADERS = {
    "地区コード": "district_code",
    "町内会コード": "association_code",
    "町内会名": "association_name",
    "町内会名(英語)": "association_name_en",
    "サンプル": "sample",
    "町名": "town",
    "丁目": "chome",
    "表示名": "label",
    "よみ": "reading",
    "ふりがな": "reading",
    "緯度": "latitude",
    "経度": "longitude",
}
_FIELDS = set(_HEADERS.values())
_REQUIRED = ("district_code", "association_code", "association_name", "town")


class AreaTableError(ValueError):
    """The area table or city file is malformed; the message names the line."""


def import_city_files(session: Session, content_dir: Path) -> int:
    """content/areas/city.yaml then content/areas/towns.csv; rows created, changed or removed."""
    changed = import_city_structure(session, content_dir / CITY_FILE)
    variants = variants_for(content_dir)
    return changed + import_area_table(session, content_dir / AREA_TABLE, variants=variants)


def import_city_structure(session: Session, yaml_path: Path) -> int:
    """Upsert wards, districts and counters from a city file; returns rows created or changed."""
    raw = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) or {}
    changed = 0
    for ward_data in raw.get("wards") or ():
        ward, n = _upsert(session, Ward, _pick(ward_data, "code", "name", "name_en"))
        changed += n
        for district_data in ward_data.get("districts") or ():
            values = _pick(district_data, "code", "name", "name_kana") | {"ward_id": ward.id}
            changed += _upsert(session, District, values)[1]
    ward_ids = {w.code: w.id for w in session.exec(select(Ward))}
    for counter in raw.get("counters") or ():
        if counter.get("ward") not in ward_ids:
            raise AreaTableError(f"{yaml_path}: counter {counter.get('code')!r}: unknown ward")
        values = _pick(counter, "code", "name") | {"ward_id": ward_ids[counter["ward"]]}
        changed += _upsert(session, MovingInCounter, values)[1]
    return changed


def _pick(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: str(data[name]) for name in names if data.get(name) is not None}


def _upsert(session: Session, model: Any, values: dict[str, Any]) -> tuple[Any, int]:
    """Create or update the row with `values["code"]`; 1 when something was written."""
    row = session.exec(select(model).where(model.code == values["code"])).first()
    if row is None:
        row = model(**values)
    elif all(getattr(row, k) == v for k, v in values.items()):
        return row, 0
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    session.flush()
    return row, 1


def import_area_table(session: Session, csv_path: Path, *, variants: Variants | None = None) -> int:
    """Upsert associations and 町丁目 from the area CSV; returns rows created, changed or removed.

    Towns are keyed by association code + town + 丁目, so importing the same file again
    writes nothing. The file is the truth for each association it lists: a 町丁目 no longer
    listed under that association (moved to another, or dropped) is removed from it.
    Associations absent from the file are left alone (staff retire them, not the import).
    """
    rules = variants if variants is not None else variants_for()
    rows = list(read_area_rows(csv_path))
    district_by_code = {d.code: d for d in session.exec(select(District))}
    assoc_by_code, changed = _upsert_associations(session, rows, district_by_code, csv_path)
    existing: dict[tuple[int | None, str, int | None], Town] = {
        (t.association_id, t.name, t.chome): t for t in session.exec(select(Town))
    }
    listed: set[tuple[int | None, str, int | None]] = set()
    for line, row in rows:
        assoc = assoc_by_code[row["association_code"]]
        values = _town_values(row, assoc, district_by_code[row["district_code"]], rules, line)
        identity = (assoc.id, values["name"], values["chome"])
        listed.add(identity)
        town = existing.get(identity)
        if town is None:
            town = existing[identity] = Town(**values)
        elif all(getattr(town, k) == v for k, v in values.items()):
            continue
        else:
            for name, value in values.items():
                setattr(town, name, value)
        session.add(town)
        changed += 1
    changed += _remove_unlisted(session, existing, listed, {a.id for a in assoc_by_code.values()})
    session.flush()
    return changed


def _remove_unlisted(
    session: Session,
    existing: dict[tuple[int | None, str, int | None], Town],
    listed: set[tuple[int | None, str, int | None]],
    association_ids: set[int | None],
) -> int:
    stale = [t for key, t in existing.items() if key[0] in association_ids and key not in listed]
    for town in stale:
        session.delete(town)
    return len(stale)


def _upsert_associations(
    session: Session,
    rows: list[tuple[int, dict[str, str]]],
    district_by_code: dict[str, District],
    csv_path: Path,
) -> tuple[dict[str, Association], int]:
    wanted: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        district = district_by_code.get(row["district_code"])
        if district is None:
            raise AreaTableError(f"{csv_path}:{line}: unknown 地区コード {row['district_code']!r}")
        values: dict[str, Any] = {
            "code": row["association_code"],
            "name": row["association_name"],
            "name_en": row.get("association_name_en") or None,
            "district_id": district.id,
            "is_sample": row.get("sample", "").lower() in _TRUE,
        }
        if wanted.setdefault(values["code"], values) != values:
            raise AreaTableError(
                f"{csv_path}:{line}: 町内会コード {values['code']!r} differs from its earlier rows"
            )
    upserted = {code: _upsert(session, Association, values) for code, values in wanted.items()}
    changed = sum(n for _, n in upserted.values())
    return {code: row for code, (row, _) in upserted.items()}, changed


def _town_values(
    row: dict[str, str], assoc: Association, district: District, rules: Variants, line: int
) -> dict[str, Any]:
    chome = _chome(row.get("chome", ""), line)
    name = row["town"]
    # A table without readings still gets one, from the dictionary, so kana and romaji
    # find the town; a city's own よみ always wins (place names defeat dictionaries).
    reading = row.get("reading", "") or dictionary_reading(strip_prefixes(name, rules))
    return {
        "association_id": assoc.id,
        "district_id": district.id,
        "ward_id": district.ward_id,
        "name": name,
        "chome": chome,
        "label": row.get("label") or format_label(name, chome, rules),
        "reading": reading,
        # Stripped like typed input, so a listed prefix cannot make the two keys differ.
        "key": town_key(normalize_name(strip_prefixes(name, rules), rules), chome),
        "kana_key": town_key(normalize_name(reading, rules), chome) if reading else "",
        "romaji_key": romaji_town_key(reading, chome, rules) if reading else "",
        "latitude": _coordinate(row.get("latitude", ""), line),
        "longitude": _coordinate(row.get("longitude", ""), line),
    }


def _chome(value: str, line: int) -> int | None:
    value = unicodedata.normalize("NFKC", value).strip().removesuffix("丁目")
    if not value:
        return None
    try:
        return parse_number(value)
    except KeyError:
        raise AreaTableError(f"line {line}: 丁目 {value!r} is not a number") from None


def _coordinate(value: str, line: int) -> float | None:
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise AreaTableError(f"line {line}: {value!r} is not a coordinate") from None


def read_area_rows(csv_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by field name) for each data row; `#` lines are comments.

    UTF-8 (with or without BOM) is read first, then Shift_JIS as Excel often saves it.
    """
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = csv_path.read_text(encoding="cp932")
    # Blank out comments rather than dropping them so csv's line numbers stay the file's.
    lines = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    reader = csv.reader(lines)
    header: list[str] | None = None
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = _header(cells, csv_path)
            continue
        row = {field: cell.strip() for field, cell in zip(header, cells, strict=False) if field}
        missing = [field for field in _REQUIRED if not row.get(field)]
        if missing:
            raise AreaTableError(f"{csv_path}:{reader.line_num}: {missing[0]} is empty")
        yield reader.line_num, row


def _header(cells: list[str], csv_path: Path) -> list[str]:
    fields = []
    for cell in cells:
        name = unicodedata.normalize("NFKC", cell).strip()
        fields.append(_HEADERS.get(name) or (name if name in _FIELDS else ""))
    missing = [field for field in _REQUIRED if field not in fields]
    if missing:
        raise AreaTableError(f"{csv_path}: header lacks a column for {missing[0]}")
    return fields
