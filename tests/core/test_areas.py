"""The area table: import (idempotent upsert), typed-town lookup and location lookup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core import areas
from bot.core.areas import AreaTableError, association_ids, find_towns
from bot.core.models.areas import Association, District, MovingInCounter, Town, Ward
from bot.db import session_scope

CITY_YAML = """\
wards:
  - code: north
    name: 北地域
    name_en: North
    districts:
      - {code: "01", name: 桜城, name_kana: さくらじょう}
      - {code: "02", name: 上田, name_kana: うえだ}
counters:
  - {code: counter-north, ward: north, name: 転入窓口（サンプル）}
"""

HEADER = (
    "地区コード,町内会コード,町内会名,町内会名（英語）,サンプル,町名,丁目,表示名,よみ,緯度,経度\n"
)
ROWS = """\
# 試験用の区域表
01,A1,中ノ橋通町内会,Nakanohashi,1,中ノ橋通,1,中ノ橋通一丁目,なかのはしどおり,39.7000,141.1550
01,A1,中ノ橋通町内会,Nakanohashi,1,中ノ橋通,2,,なかのはしどおり,39.7010,141.1560
01,A2,内丸町内会,,0,内丸,,,うちまる,39.7020,141.1520
02,A3,上田一二町内会,,1,上田,１,,うえだ,39.7170,141.1370
02,A3,上田一二町内会,,1,上田,二,,うえだ,39.7180,141.1380
02,A4,上田三四町内会,,1,上田,3丁目,,うえだ,39.7190,141.1300
02,A4,上田三四町内会,,1,上田,4,,うえだ,39.7200,141.1310
02,A5,桜城上田町内会,,1,中ノ橋通,3,,なかのはしどおり,,
"""


def write_city(tmp_path: Path, rows: str = ROWS, header: str = HEADER) -> tuple[Path, Path]:
    """A two-district city file and its area table."""
    city, table = tmp_path / "city.yaml", tmp_path / "towns.csv"
    city.write_text(CITY_YAML, encoding="utf-8")
    table.write_text(header + rows, encoding="utf-8")
    return city, table


@pytest.fixture
def city(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """The test city loaded into the test database."""
    city_file, table = write_city(tmp_path)
    with session_scope(engine) as session:
        areas.import_city_structure(session, city_file)
        areas.import_area_table(session, table)
    yield engine


def district_id(session: Session, code: str) -> int:
    found = session.exec(select(District).where(District.code == code)).one()
    assert found.id is not None
    return found.id


def snapshot(session: Session) -> list[tuple[Any, ...]]:
    towns = session.exec(select(Town).order_by(Town.id)).all()  # type: ignore[arg-type]
    assocs = session.exec(select(Association).order_by(Association.id)).all()  # type: ignore[arg-type]
    return [tuple(t.model_dump().values()) for t in towns] + [
        tuple(a.model_dump(exclude={"created_at"}).values()) for a in assocs
    ]


# ---- import ------------------------------------------------------------------------------


def test_import_creates_rows_and_reimport_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    city_file, table = write_city(tmp_path)
    with session_scope(engine) as session:
        # 1 ward, 2 districts, 1 counter
        assert areas.import_city_structure(session, city_file) == 4
        assert areas.import_area_table(session, table) == 5 + 8  # associations + towns
        before = snapshot(session)
    with session_scope(engine) as session:
        assert areas.import_city_structure(session, city_file) == 0
        assert areas.import_area_table(session, table) == 0
        assert snapshot(session) == before
        assert len(session.exec(select(Town)).all()) == 8
        assert len(session.exec(select(MovingInCounter)).all()) == 1


def test_import_fills_keys_labels_and_flags(city: Engine) -> None:
    with session_scope(city) as session:
        town = session.exec(select(Town).where(Town.label == "中ノ橋通一丁目")).one()
        assert (town.key, town.kana_key, town.chome) == ("中の橋通1", "なかのはしどおり1", 1)
        built = session.exec(select(Town).where(Town.key == "中の橋通2")).one()
        assert built.label == "中ノ橋通2丁目"  # 表示名 empty: built from variants.yaml
        kanji_chome = session.exec(select(Town).where(Town.key == "上田2")).one()
        assert kanji_chome.chome == 2
        a1 = areas.association(session, "A1")
        a2 = areas.association(session, "A2")
        assert a1 is not None and a2 is not None
        assert (a1.is_sample, a1.name_en) == (True, "Nakanohashi")
        assert (a2.is_sample, a2.name_en) == (False, None)


def test_reimport_updates_changed_rows_in_place(city: Engine, tmp_path: Path) -> None:
    changed = ROWS.replace(
        "内丸町内会,,0,内丸,,,うちまる,39.7020", "内丸自治会,,0,内丸,,,うちまる,39.7030"
    )
    _, table = write_city(tmp_path, rows=changed)
    with session_scope(city) as session:
        assert areas.import_area_table(session, table) == 2  # the association and its town
        town = session.exec(select(Town).where(Town.key == "内丸")).one()
        assert town.latitude == pytest.approx(39.7030)
        assert len(session.exec(select(Town)).all()) == 8


def test_reimport_moves_a_town_to_its_new_association(city: Engine, tmp_path: Path) -> None:
    moved = ROWS.replace("02,A3,上田一二町内会,,1,上田,二,", "02,A4,上田三四町内会,,1,上田,二,")
    moved = moved.replace("02,A4,上田三四町内会,,1,上田,4,,うえだ,39.7200,141.1310\n", "")
    _, table = write_city(tmp_path, rows=moved)
    with session_scope(city) as session:
        # 上田2 added under A4 and removed from A3; 上田4 dropped from A4.
        assert areas.import_area_table(session, table) == 3
    with session_scope(city) as session:
        owners = {(m.chome, m.association_code) for m in find_towns(session, "上田")}
    assert owners == {(1, "A3"), (2, "A4"), (3, "A4")}


def test_import_reads_shift_jis_with_english_headers(engine: Engine, tmp_path: Path) -> None:
    city_file, table = write_city(tmp_path)
    header = "district_code,association_code,association_name,town,chome,reading\n"
    table.write_bytes((header + "01,A9,本町町内会,本町通り,2,ほんちょうどおり\n").encode("cp932"))
    with session_scope(engine) as session:
        areas.import_city_structure(session, city_file)
        assert areas.import_area_table(session, table) == 2
        assert [m.label for m in find_towns(session, "本町通2丁目")] == ["本町通り2丁目"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("09,A1,中ノ橋通町内会,,1,中ノ橋通,1,,,,\n", "towns.csv:2: unknown 地区コード '09'"),
        (
            "01,A1,X,,1,中ノ橋通,1,,,,\n01,A1,Y,,1,中ノ橋通,2,,,,\n",
            "towns.csv:3: 町内会コード 'A1'",
        ),
        ("01,A1,X,,1,,1,,,,\n", "towns.csv:2: town is empty"),
        ("01,A1,X,,1,中ノ橋通,一の,,,,\n", "丁目 '一の' is not a number"),
        ("01,A1,X,,1,中ノ橋通,1,,,北緯,\n", "'北緯' is not a coordinate"),
    ],
)
def test_malformed_tables_are_refused_with_the_line(
    engine: Engine, tmp_path: Path, rows: str, message: str
) -> None:
    city_file, table = write_city(tmp_path, rows=rows)
    with session_scope(engine) as session:
        areas.import_city_structure(session, city_file)
        with pytest.raises(AreaTableError, match=message):
            areas.import_area_table(session, table)


def test_header_without_town_column_is_refused(engine: Engine, tmp_path: Path) -> None:
    _, table = write_city(tmp_path, header="地区コード,町内会コード,町内会名\n", rows="01,A1,X\n")
    with session_scope(engine) as session, pytest.raises(AreaTableError, match="town"):
        areas.import_area_table(session, table)


def test_counter_with_unknown_ward_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text("counters:\n  - {code: c, ward: nowhere, name: 窓口}\n", encoding="utf-8")
    with session_scope(engine) as session, pytest.raises(AreaTableError, match="unknown ward"):
        areas.import_city_structure(session, path)


# ---- typed towns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["中ノ橋通一丁目", "盛岡市 中の橋通1丁目", "ﾅｶﾉﾊｼﾄﾞｵﾘ1", "中ノ橋通1-2-3"]
)
def test_exact_input_returns_one_town(city: Engine, typed: str) -> None:
    with session_scope(city) as session:
        matches = find_towns(session, typed)
    assert [(m.label, m.association_code, m.exact) for m in matches] == [
        ("中ノ橋通一丁目", "A1", True)
    ]


def test_ambiguous_input_returns_candidates_across_associations(city: Engine) -> None:
    with session_scope(city) as session:
        matches = find_towns(session, "上田")
    assert [m.label for m in matches] == ["上田1丁目", "上田2丁目", "上田3丁目", "上田4丁目"]
    assert [m.association_code for m in matches] == ["A3", "A3", "A4", "A4"]
    assert len(association_ids(matches)) == 2
    assert not any(m.exact for m in matches)


def test_kana_reading_prefix_finds_the_town(city: Engine) -> None:
    with session_scope(city) as session:
        matches = find_towns(session, "ﾅｶﾉﾊｼ")
    assert {m.label for m in matches} == {"中ノ橋通一丁目", "中ノ橋通2丁目", "中ノ橋通3丁目"}


def test_district_filter_narrows_candidates(city: Engine) -> None:
    with session_scope(city) as session:
        everywhere = find_towns(session, "中ノ橋通")
        in_02 = find_towns(session, "中ノ橋通", district_id=district_id(session, "02"))
    assert len(everywhere) == 3
    assert [(m.chome, m.association_code) for m in in_02] == [(3, "A5")]


def test_unknown_chome_falls_back_to_the_town(city: Engine) -> None:
    with session_scope(city) as session:
        matches = find_towns(session, "中ノ橋通9丁目")
        lot_number = find_towns(session, "内丸12-2")
    assert {m.chome for m in matches} == {1, 2, 3}
    assert [m.label for m in lot_number] == ["内丸"]


def test_limit_and_nonsense(city: Engine) -> None:
    with session_scope(city) as session:
        assert len(find_towns(session, "上田", limit=2)) == 2
        assert find_towns(session, "") == []
        assert find_towns(session, "   ") == []
        assert find_towns(session, "新宿") == []


def test_inactive_association_is_not_offered(city: Engine) -> None:
    with session_scope(city) as session:
        a4 = areas.association(session, "A4")
        assert a4 is not None
        a4.active = False
        session.add(a4)
    with session_scope(city) as session:
        assert {m.association_code for m in find_towns(session, "上田")} == {"A3"}
        assert [a.code for a in areas.associations(session, district_id(session, "02"))] == [
            "A3",
            "A5",
        ]


def test_lookups_use_indexes_not_scans(city: Engine) -> None:
    if city.dialect.name != "sqlite":
        pytest.skip("the plan is checked on SQLite; PostgreSQL's planner scans tiny tables")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(city, "before_cursor_execute", record)
    try:
        with session_scope(city) as session:
            find_towns(session, "ﾅｶﾉﾊｼ")
            find_towns(session, "上田", district_id=district_id(session, "02"))
            find_towns(session, "Nakanohashi-dori 1")
            find_towns(session, "Ueda", district_id=district_id(session, "02"))
            areas.nearest_associations(session, 39.70, 141.155)
    finally:
        event.remove(city, "before_cursor_execute", record)
    town_queries = [(s, p) for s, p in statements if "FROM town" in s]
    assert town_queries
    with city.connect() as conn:
        for statement, params in town_queries:
            plan = _plan(conn, statement, params)
            assert "SCAN town" not in plan, plan
            assert "USING INDEX ix_town_" in plan, plan


def _plan(conn: Any, statement: str, params: Any) -> str:
    cursor = conn.connection.driver_connection.execute("EXPLAIN QUERY PLAN " + statement, params)
    return " | ".join(str(row[3]) for row in cursor.fetchall())


# ---- locations ---------------------------------------------------------------------------


def test_nearest_associations_are_ordered_by_distance(city: Engine) -> None:
    with session_scope(city) as session:
        near = areas.nearest_associations(session, 39.7001, 141.1551, limit=3)
    assert [n.association_code for n in near] == ["A1", "A2", "A3"]
    assert near[0].distance_m < 50
    assert near[0].distance_m < near[1].distance_m < near[2].distance_m


def test_nearest_associations_within_a_district(city: Engine) -> None:
    with session_scope(city) as session:
        near = areas.nearest_associations(
            session, 39.7001, 141.1551, district_id=district_id(session, "02")
        )
    assert [n.association_code for n in near] == ["A3", "A4"]  # A5 has no coordinates


def test_far_away_point_finds_nothing(city: Engine) -> None:
    with session_scope(city) as session:
        assert areas.nearest_associations(session, 35.68, 139.76) == []  # Tokyo


def test_haversine_matches_known_distances() -> None:
    # A hundredth of a degree of latitude is 1.112 km anywhere; of longitude, that times cos(lat).
    assert areas.haversine_m(39.70, 141.15, 39.71, 141.15) == pytest.approx(1111.95, abs=0.5)
    assert areas.haversine_m(39.70, 141.15, 39.70, 141.16) == pytest.approx(855.6, abs=1.0)


# ---- structure queries -------------------------------------------------------------------


def test_wards_and_districts_in_listed_order(city: Engine) -> None:
    with session_scope(city) as session:
        listed = areas.wards(session)
        assert [(w.code, w.name_en) for w in listed] == [("north", "North")]
        assert listed[0].id is not None
        assert [d.name for d in areas.districts(session, listed[0].id)] == ["桜城", "上田"]
        assert areas.association(session, "nope") is None
        assert session.exec(select(Ward)).one().name == "北地域"
