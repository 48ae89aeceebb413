"""The population table a city loads: its own wins over the sample, Shift_JIS is read, a bad
row names the file and the row."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import ContentError
from bot.features.surveys.population import load_population
from bot.settings import DEFAULT_CONTENT_DIR


def test_the_sample_covers_every_district_of_the_sample_city() -> None:
    population = load_population(DEFAULT_CONTENT_DIR)
    assert population is not None and population.sample
    assert sorted(population.by_district) == [f"{n:02d}" for n in range(1, 31)]
    assert population.age_bands() == ["18-39", "40-64", "65-"]
    assert population.of_district("99") is None


def test_the_citys_own_table_wins_and_excel_shift_jis_is_read(tmp_path: Path) -> None:
    (tmp_path / "areas").mkdir()
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "population.csv").write_text("地区コード,年齢区分,人口\n01,18-39,5\n")
    text = '# 令和7年1月1日現在\n地区コード,年齢区分,人口\n01,18-39,"1,200"\n01,65-,800\n'
    (tmp_path / "areas" / "population.csv").write_bytes(text.encode("cp932"))
    population = load_population(tmp_path)
    assert population is not None and not population.sample
    assert population.of_district("01") == 2000


def test_a_bad_row_is_named(tmp_path: Path) -> None:
    (tmp_path / "areas").mkdir()
    (tmp_path / "areas" / "population.csv").write_text("地区コード,年齢区分,人口\n01,18-39,many\n")
    with pytest.raises(ContentError, match="row 2"):
        load_population(tmp_path)
