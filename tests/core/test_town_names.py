"""Town-name normalisation: the many ways residents type one 町丁目 reduce to one key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.town_names import (
    Variants,
    format_label,
    load_variants,
    normalize_name,
    normalize_town,
    parse_number,
    split_chome,
    strip_prefixes,
    to_hiragana,
    variants_for,
)
from bot.settings import DEFAULT_CONTENT_DIR


@pytest.mark.parametrize(
    "typed",
    [
        "中ノ橋通一丁目",
        "中ノ橋通1丁目",
        "中の橋通1丁目",
        "中之橋通1丁目",
        "盛岡市 中ノ橋通一丁目",
        "岩手県盛岡市中ノ橋通１丁目",
        "岩手県 盛岡市　中ノ橋通１丁目１－１２",
        "中ノ橋通1-1-12",
        "中ノ橋通1ー1",
        "中ノ橋通1−1",
        "中ノ橋通１",
        "中ノ橋通1丁",
        " 中ノ橋通 1 丁目 ",
    ],
)
def test_forms_of_one_chome_share_a_key(typed: str) -> None:
    assert normalize_town(typed) == normalize_town("中ノ橋通一丁目") == "中の橋通1"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("上田十二丁目", ("上田", 12)),
        ("上田二十丁目", ("上田", 20)),
        ("上田二十三丁目", ("上田", 23)),
        ("上田十丁目", ("上田", 10)),
        ("上田三丁目", ("上田", 3)),
        ("上田３丁目", ("上田", 3)),
        ("上田3-5-1", ("上田", 3)),
        ("上田3", ("上田", 3)),
        ("前九年一丁目", ("前九年", 1)),  # a numeral inside the name stays in the name
        ("八幡町", ("八幡町", None)),
        ("八丁堀", ("八丁堀", None)),  # 丁 after a kanji numeral is not a 丁目
        ("内丸12番2号", ("内丸", None)),  # 番 is a lot number, not a 丁目
        ("三本柳8地割", ("三本柳", None)),
        ("みたけ", ("みたけ", None)),
    ],
)
def test_split_chome(typed: str, expected: tuple[str, int | None]) -> None:
    assert split_chome(typed) == expected


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("緑ヶ丘", "緑が丘"),
        ("緑ケ丘", "緑が丘"),
        ("緑ガ丘", "緑が丘"),
        ("緑ヵ丘", "緑が丘"),
        ("月ケ丘三丁目", "月が丘3丁目"),
        ("砂子澤", "砂子沢"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("長濱", "長浜"),
        ("中嶋", "中島"),
        ("齋藤", "斎藤"),
        ("齊藤", "斎藤"),
        ("髙松", "高松"),
        ("川﨑", "川崎"),
        ("舘向町", "館向町"),
        ("本町通り二丁目", "本町通2丁目"),
        ("三ツ割", "三つ割"),
    ],
)
def test_variant_characters_match(variant: str, canonical: str) -> None:
    assert normalize_town(variant) == normalize_town(canonical)


@pytest.mark.parametrize(
    ("reading", "kanji_reading"),
    [
        ("ﾅｶﾉﾊｼﾄﾞｵﾘ", "なかのはしどおり"),
        ("ナカノハシドオリ", "なかのはしどおり"),
        ("なかのはしどおり", "なかのはしどおり"),
        ("ﾅｶﾉﾊｼ", "なかのはし"),
        ("ウエダ３", "うえだ3"),
    ],
)
def test_readings_fold_to_hiragana(reading: str, kanji_reading: str) -> None:
    assert normalize_town(reading) == kanji_reading


def test_different_towns_keep_different_keys() -> None:
    keys = {normalize_town(t) for t in ["上田1丁目", "上田2丁目", "上田", "高松1丁目", "松園"]}
    assert len(keys) == 5


def test_prefixes_are_stripped_but_never_to_nothing() -> None:
    assert strip_prefixes("岩手県盛岡市大字渋民") == "渋民"
    assert strip_prefixes("盛岡市玉山区渋民") == "渋民"
    assert strip_prefixes("盛岡駅西通") == "盛岡駅西通"  # 盛岡 alone is not the city prefix
    assert strip_prefixes("盛岡市") == "盛岡市"
    assert normalize_town("盛岡市盛岡駅西通2-1") == "盛岡駅西通2"


def test_kana_between_kanji_only() -> None:
    # が/の inside a reading are left alone: only the connective between kanji is unified.
    assert normalize_name("みどりがおか") == "みどりがおか"
    assert normalize_name("このはな") == "このはな"
    assert normalize_name("ケヤキ通") == "けやき通"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("九十九", 99),
        ("一二", 12),
        ("参", 3),
        ("15", 15),
    ],
)
def test_parse_number(text: str, value: int) -> None:
    assert parse_number(text) == value


def test_to_hiragana_leaves_other_scripts() -> None:
    assert to_hiragana("ナカノハシ通1ー") == "なかのはし通1ー"


def test_variants_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "variants.yaml"
    path.write_text(
        "prefixes: [札幌市, 札幌市中央区]\ncharacters: {條: 条}\n"
        'replacements: [[丁目, ""]]\nchome_label: "{town}{chome}条"\n',
        encoding="utf-8",
    )
    variants = load_variants(path)
    assert variants.prefixes[0] == "札幌市中央区"  # longest first
    assert strip_prefixes("札幌市中央区大通", variants) == "大通"
    assert normalize_name("北一條", variants) == "北一条"
    assert format_label("北", 1, variants) == "北1条"


def test_default_variants_come_from_content() -> None:
    variants = variants_for(DEFAULT_CONTENT_DIR)
    assert "盛岡市" in variants.prefixes
    assert format_label("中ノ橋通", 1, variants) == "中ノ橋通1丁目"
    assert format_label("内丸", None, variants) == "内丸"
    assert variants_for(DEFAULT_CONTENT_DIR / "missing") == Variants()


@given(st.text(alphabet="上田中ノの橋通丁目一二三十0123456789ｱｲｳ -盛岡市県", max_size=20))
def test_normalisation_is_idempotent_on_its_output(text: str) -> None:
    key = normalize_town(text)
    assert normalize_name(key) == key
