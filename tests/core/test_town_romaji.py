"""Towns found however residents type them: romaji (Hepburn, macrons or not, Kunrei), kana,
full width, 丁目 as "chome" or a number, English address order; readings made when missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core import areas
from bot.core.areas import find_towns
from bot.core.models.areas import Town
from bot.core.readings import display_romaji, furigana, romaji_key
from bot.db import session_scope
from tests.core.test_areas import HEADER, city, district_id, write_city  # noqa: F401


@pytest.mark.parametrize(
    ("typed", "labels"),
    [
        ("Ueda 1", {"上田1丁目"}),
        ("ueda 3-chome", {"上田3丁目"}),
        ("Ueda 3 chōme 12-5", {"上田3丁目"}),
        ("Ｕｅｄａ　４", {"上田4丁目"}),
        ("1-chome Ueda, Morioka-shi, Iwate-ken", {"上田1丁目"}),
        ("Ueda", {"上田1丁目", "上田2丁目", "上田3丁目", "上田4丁目"}),
        ("Nakanohashidori 1", {"中ノ橋通一丁目"}),
        ("Nakanohashi-dōri 1", {"中ノ橋通一丁目"}),
        ("nakanohashi doori itchome", {"中ノ橋通一丁目"}),
        ("Uchimaru", {"内丸"}),
        ("うえだ2", {"上田2丁目"}),
        ("ｳｴﾀﾞ 2", {"上田2丁目"}),
        ("ウチマル", {"内丸"}),
    ],
)
def test_typed_towns_are_found(city: Engine, typed: str, labels: set[str]) -> None:  # noqa: F811
    with session_scope(city) as session:
        assert {m.label for m in find_towns(session, typed, limit=5)} == labels


def test_romaji_lookup_narrows_to_the_district(city: Engine) -> None:  # noqa: F811
    with session_scope(city) as session:
        sakurajo = district_id(session, "01")
        found = find_towns(session, "Nakanohashidori", district_id=sakurajo)
        assert {m.association_code for m in found} == {"A1"}
        assert find_towns(session, "Ueda 1", district_id=sakurajo) == []
        ueda = district_id(session, "02")
        found = find_towns(session, "Nakanohashidori", district_id=ueda)
        assert {m.association_code for m in found} == {"A5"}


def test_unknown_romaji_finds_nothing(city: Engine) -> None:  # noqa: F811
    with session_scope(city) as session:
        assert find_towns(session, "Shibuya 1") == []
        assert find_towns(session, "x") == []


def test_import_reads_a_missing_reading_from_the_dictionary(engine: Engine, tmp_path: Path) -> None:
    city_file, table = write_city(tmp_path, rows="01,A7,桜城町内会,,1,桜城,2,,,,\n")
    with session_scope(engine) as session:
        areas.import_city_structure(session, city_file)
        areas.import_area_table(session, table)
        town = session.exec(select(Town)).one()
        assert (town.reading, town.kana_key, town.romaji_key) == (
            "さくらじょう",
            "さくらじょう2",
            "sakurajo2",
        )
        assert [m.label for m in find_towns(session, "Sakurajo 2")] == [town.label]


def test_readings_helpers() -> None:
    assert romaji_key("Chūō-dōri") == romaji_key("chuuoudoori") == romaji_key("Tyuo dori")
    assert display_romaji("なかのはしどおり") == "Nakanohashidori"
    assert display_romaji("さくらじょう") == "Sakurajo"
    assert furigana("桜城の公民館で", {"桜城": "さくらじょう"}) == (
        "桜城(さくらじょう)の公民館(こうみんかん)で"
    )
    assert furigana("7月20日 3人") == "7月20日 3人"
