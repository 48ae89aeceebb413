"""Importing an officer's roster: preview right, nothing written before confirming, a second
import of the same file changes nothing."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.models.households import Household, RosterMapping
from bot.db import session_scope
from bot.features.households import roster
from bot.features.households.roster_file import RosterFileError, read_grid
from tests.builders import T0, make_area
from tests.features.households.rosters import csv_roster, forty_households, xlsx_roster


def _preview(db: Session, association_id: int, name: str, data: bytes) -> roster.Preview:
    grid = read_grid(name, data, is_header=roster.is_header)
    mapping = roster.guess_mapping(grid.headers, roster.remembered(db, association_id))
    return roster.preview(db, association_id=association_id, grid=grid, mapping=mapping)


def _import(engine: Engine, association_id: int, name: str, data: bytes) -> roster.Preview:
    with session_scope(engine) as db:
        grid = read_grid(name, data, is_header=roster.is_header)
        found = _preview(db, association_id, name, data)
        roster.apply(db, association_id=association_id, found=found, headers=grid.headers, now=T0)
        return found


def _households(engine: Engine, association_id: int) -> list[tuple[str, str, str, int | None]]:
    with session_scope(engine) as db:
        rows = db.exec(select(Household).where(Household.association_id == association_id))
        return sorted((h.han, h.address, h.contact_name, h.people) for h in rows)


def test_xlsx_with_merged_headers_and_full_width_digits(engine: Engine) -> None:
    a, _ = make_area(engine)
    data = xlsx_roster(forty_households())
    with session_scope(engine) as db:
        found = _preview(db, a, "名簿.xlsx", data)
        assert (len(found.added), len(found.changed), len(found.errors)) == (40, 0, 0)
        line, first = found.added[0]
        assert line == 4  # under the title row and two header rows
        assert (first.han, first.address, first.people) == ("1班", "本町1-1", 2)
        assert set(found.mapping) == {"han", "address", "contact_name", "people", "reach"}
    assert _households(engine, a) == []  # the preview wrote nothing

    _import(engine, a, "名簿.xlsx", data)
    stored = _households(engine, a)
    assert len(stored) == 40 and ("4班", "本町4-10", "住民410", 3) in stored
    with session_scope(engine) as db:
        mapping = db.get(RosterMapping, a)
        assert mapping is not None and mapping.columns["address"] == "住所・部屋"

    again = _import(engine, a, "名簿.xlsx", data)
    assert (len(again.added), len(again.changed), len(again.unchanged)) == (0, 0, 40)
    assert _households(engine, a) == stored


def test_shift_jis_csv_with_duplicates_and_a_bad_row(engine: Engine) -> None:
    a, _ = make_area(engine)
    rows = [
        ["1班", "緑町２－５", "山田 花子", "３", "日本語"],
        ["1班", "緑町2-7", "佐藤 一郎", "2人", "英語"],
        ["1班", "緑町２－５", "山田 花子", "３", "日本語"],  # the same row twice
        ["2班", "緑町2-7", "佐藤 次郎", "1", ""],  # the same address, different details
        ["2班", "", "", "2", ""],  # neither address nor name
        ["2班", "緑町3-1", "高橋", "たくさん", ""],  # not a number
    ]
    data = csv_roster(rows)
    with session_scope(engine) as db:
        found = _preview(db, a, "roster.csv", data)
    assert [v.address for _, v in found.added] == ["緑町2-5", "緑町2-7"]
    assert found.added[1][1].language == "en"
    assert found.duplicates == [(4, 2)]
    assert found.errors == [(5, "duplicate_conflict"), (6, "no_address"), (7, "people")]
    assert _households(engine, a) == []

    _import(engine, a, "roster.csv", data)
    assert _households(engine, a) == [
        ("1班", "緑町2-5", "山田 花子", 3),
        ("1班", "緑町2-7", "佐藤 一郎", 2),
    ]
    again = _import(engine, a, "roster.csv", data)
    assert (len(again.added), len(again.changed), len(again.unchanged)) == (0, 0, 2)


def test_a_changed_row_is_shown_and_applied(engine: Engine) -> None:
    a, _ = make_area(engine)
    _import(engine, a, "r.csv", csv_roster([["1班", "緑町1-1", "山田", "2", ""]]))
    data = csv_roster([["2班", "緑町1-1", "山田", "4", ""], ["2班", "緑町1-2", "森", "", ""]])
    with session_scope(engine) as db:
        found = _preview(db, a, "r.csv", data)
    assert [(line, fields) for line, _, fields in found.changed] == [(2, ["han", "people"])]
    assert len(found.added) == 1
    _import(engine, a, "r.csv", data)
    assert _households(engine, a) == [("2班", "緑町1-1", "山田", 4), ("2班", "緑町1-2", "森", None)]


def test_remembered_mapping_reads_an_unusual_header(engine: Engine) -> None:
    a, _ = make_area(engine)
    data = "組番号,部屋,代表者\n1,101,田中\n1,102,鈴木\n".encode()
    grid = read_grid("r.csv", data, is_header=roster.is_header)
    assert roster.guess_mapping(grid.headers) == {"address": 1, "contact_name": 2}
    with session_scope(engine) as db:
        roster.remember_mapping(
            db,
            association_id=a,
            mapping={"han": 0, "address": 1, "contact_name": 2},
            headers=grid.headers,
            now=T0,
        )
    with session_scope(engine) as db:
        found = _preview(db, a, "r.csv", data)
    assert [v.han for _, v in found.added] == ["1", "1"]


def test_unreadable_files_get_a_reason() -> None:
    for name, data, code in [
        ("r.xlsx", b"PK\x03\x04not a zip", "unreadable"),
        ("r.csv", b"", "empty"),
        ("r.csv", b"a,b\n1,2\n", "no_header"),
    ]:
        try:
            read_grid(name, data, is_header=roster.is_header)
        except RosterFileError as bad:
            assert bad.code == code
        else:
            raise AssertionError(f"{name} read")
