"""Town names (町名 and 丁目) as residents type them, reduced to one matchable form.

Everything here is a pure function of its input and a `Variants` table (loaded from
content/areas/variants.yaml), so the same rules build the keys stored in the area table
and the keys looked up from what a resident typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.readings import has_japanese, romaji_key, romanize
from bot.core.readings import reading as dictionary_reading
from bot.settings import DEFAULT_CONTENT_DIR

VARIANTS_FILE = Path("areas") / "variants.yaml"

_KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "壱": 1,
    "二": 2,
    "弐": 2,
    "三": 3,
    "参": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_NUMERAL = "[〇零一壱二弐三参四五六七八九十]+"
_KANJI = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]"
_PREFECTURE = re.compile(r"^(?:北海道|東京都|京都府|大阪府|[^\s\d]{2,3}県)(?=.)")
# Always a dash in an address; ー only after a digit ("3ー1"), elsewhere it is a long vowel.
_DASHES = re.compile(r"[‐‑‒–—―−﹣]|(?<=\d)ー")
# Arabic numbers may drop 目 ("4丁"); kanji need 丁目, or 八丁堀 would lose its 八.
_CHOME_WORD = re.compile(rf"^(?P<town>.+?)(?:(?P<num>\d+)丁目?|(?P<kanji>{_KANJI_NUMERAL})丁目)")
# Digits after the town: "3" or "3-1-5" are 丁目 (and what follows), "12番" is a lot number.
_TRAILING_DIGITS = re.compile(r"^(?P<town>.*?\D)(?P<num>\d+)(?P<after>.?)")
_GA = re.compile(rf"(?<={_KANJI})[ヶヵケガがけゖゕ](?={_KANJI})")
_NO = re.compile(rf"(?<={_KANJI})[ノの之](?={_KANJI})")
_KATAKANA = re.compile("[\u30a1-\u30f6]")
# Romaji 丁目: "1-chome", "1 chōme", "itchome"; words for 1-9 as Hepburn spells them.
_CHOME_ROMAJI = re.compile(r"(\d+)\s*-?\s*ch(?:o|ō|ô|ou|oh)me\b")
_CHOME_ROMAJI_WORDS = {
    "itchome": 1, "icchome": 1, "ichome": 1, "nichome": 2, "sanchome": 3, "yonchome": 4,
    "gochome": 5, "rokuchome": 6, "nanachome": 7, "hatchome": 8, "hacchome": 8,
    "kyuchome": 9,
}  # fmt: skip
_LATIN = re.compile(r"[A-Za-z]")
# Parts of an English-order address that are not the town ("Iwate-ken", "Morioka City").
_ROMAJI_NOT_TOWN = re.compile(r"(ken|prefecture|shi|city|ku|ward|japan)$")


@dataclass(frozen=True)
class Variants:
    """The city-editable parts of normalisation (see content/areas/variants.yaml)."""

    prefixes: tuple[str, ...] = ()
    characters: Mapping[str, str] | None = None
    replacements: tuple[tuple[str, str], ...] = ()
    chome_label: str = "{town}{chome}"

    @cached_property
    def _table(self) -> dict[int, str]:
        return str.maketrans(dict(self.characters or {}))

    def translate(self, text: str) -> str:
        """Apply the one-character variant table."""
        return text.translate(self._table)

    @cached_property
    def romaji_prefixes(self) -> tuple[str, ...]:
        """The prefixes as romaji keys (盛岡市 -> "moriokashi"), longest first."""
        return romaji_prefixes(self)


@dataclass(frozen=True)
class ParsedTown:
    """A typed town: its normalised name, its 丁目 if any, and the key the table is searched by."""

    town: str
    chome: int | None
    # Typed in Latin letters: matched against `Town.romaji_key` only.
    romaji: bool = False

    @property
    def key(self) -> str:
        """The matchable "town+chome" string stored in `Town.key` / `Town.kana_key`
        (or `Town.romaji_key` for romaji)."""
        return town_key(self.town, self.chome)


def load_variants(path: Path) -> Variants:
    """Read a variants file; prefixes are kept longest first so 盛岡市 beats 盛岡."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    prefixes = sorted((_clean(str(p)) for p in raw.get("prefixes") or ()), key=len, reverse=True)
    characters = {str(k): str(v) for k, v in (raw.get("characters") or {}).items()}
    replacements = tuple((str(a), str(b)) for a, b in raw.get("replacements") or ())
    return Variants(
        prefixes=tuple(p for p in prefixes if p),
        characters=characters,
        replacements=replacements,
        chome_label=str(raw.get("chome_label") or "{town}{chome}"),
    )


@lru_cache(maxsize=8)
def variants_for(content_dir: Path = DEFAULT_CONTENT_DIR) -> Variants:
    """The variants of a content directory (cached; the file is read once per process)."""
    path = content_dir / VARIANTS_FILE
    return load_variants(path) if path.exists() else Variants()


def normalize_town(text: str, variants: Variants | None = None) -> str:
    """The key a typed town is matched by: "盛岡市 中ノ橋通一丁目" -> "中の橋通1"."""
    return parse_town(text, variants).key


def parse_town(text: str, variants: Variants | None = None) -> ParsedTown:
    """Split and normalise typed text into town name and 丁目."""
    rules = variants if variants is not None else variants_for()
    if is_romaji(text):
        return parse_romaji_town(text, rules)
    town, chome = split_chome(strip_prefixes(text, rules))
    return ParsedTown(normalize_name(town, rules), chome)


def is_romaji(text: str) -> bool:
    """Typed in Latin letters (with digits, macrons, full width), without kana or kanji."""
    cleaned = unicodedata.normalize("NFKC", text)
    return bool(_LATIN.search(cleaned)) and not has_japanese(cleaned)


def parse_romaji_town(text: str, variants: Variants | None = None) -> ParsedTown:
    """ "Ueda 1", "Ueda 1-chome", "Nakanohashi-dōri 1", "1-chome Ueda, Morioka-shi" alike.

    Parts of an English-order address naming the prefecture, city or ward are dropped,
    as are the city's prefixes (their romaji); 丁目 written as a word becomes the number.
    """
    rules = variants if variants is not None else variants_for()
    cleaned = unicodedata.normalize("NFKC", text).lower()
    for word, number in _CHOME_ROMAJI_WORDS.items():
        cleaned = re.sub(rf"\b{word}\b", f"{number}丁目", cleaned)
    cleaned = _CHOME_ROMAJI.sub(r"\1丁目", cleaned)
    parts = [p for p in re.split(r"[,、]", cleaned) if p.strip()]
    kept = [p for p in parts if not _ROMAJI_NOT_TOWN.search(romaji_key(p))] or parts[:1]
    chome_first = re.match(r"^\s*(\d+)丁目\s*(.+)$", kept[0]) if kept else None
    joined = f"{chome_first[2]}{chome_first[1]}丁目" if chome_first else kept[0]
    town, chome = split_chome(joined)
    key = romaji_key(town)
    for prefix in rules.romaji_prefixes:
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix) :]
    return ParsedTown(key, chome, romaji=True)


def romaji_prefixes(variants: Variants) -> tuple[str, ...]:
    """The city's prefixes as romaji keys (盛岡市 -> "moriokashi"), longest first."""
    found = [romaji_key(romanize(dictionary_reading(p))) for p in variants.prefixes if len(p) > 1]
    return tuple(sorted({p for p in found if len(p) > 3}, key=len, reverse=True))


def romaji_town_key(reading: str, chome: int | None, variants: Variants | None = None) -> str:
    """The stored romaji key of a 町丁目: "なかのはしどおり", 1 -> "nakanohashidori1"."""
    rules = variants if variants is not None else variants_for()
    return town_key(romaji_key(romanize(normalize_name(reading, rules))), chome)


def normalize_name(name: str, variants: Variants | None = None) -> str:
    """A town name or reading without 丁目, in matchable form (variants unified, hiragana)."""
    rules = variants if variants is not None else variants_for()
    text = rules.translate(_clean(name))
    text = _NO.sub("の", _GA.sub("が", text))
    text = to_hiragana(text)
    for old, new in rules.replacements:
        text = text.replace(old, new)
    return text


def town_key(normalised_town: str, chome: int | None) -> str:
    """Join an already normalised name and a 丁目 into the stored key."""
    return normalised_town if chome is None else f"{normalised_town}{chome}"


def split_chome(text: str) -> tuple[str, int | None]:
    """("中ノ橋通", 1) from "中ノ橋通一丁目", "中ノ橋通1丁目2番", "中ノ橋通1-2-3" or "中ノ橋通1".

    A number followed by 番 or other words (地割, 号) is a lot number, not a 丁目: it is
    dropped with everything after it and the 丁目 is None.
    """
    text = _clean(text)
    match = _CHOME_WORD.match(text)
    if match:
        return match["town"], parse_number(match["num"] or match["kanji"])
    match = _TRAILING_DIGITS.match(text)
    if match is None:
        return text, None
    chome = int(match["num"]) if match["after"] in ("", "-") else None
    return match["town"], chome


def parse_number(text: str) -> int:
    """An Arabic or kanji numeral up to 99: "12", "十二", "二十", "一二" -> int."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _kanji_digits(tens, default=1) * 10 + _kanji_digits(ones, default=0)
    return _kanji_digits(text, default=0)


def _kanji_digits(text: str, *, default: int) -> int:
    if not text:
        return default
    value = 0
    for char in text:
        value = value * 10 + _KANJI_DIGITS[char]
    return value


def strip_prefixes(text: str, variants: Variants | None = None) -> str:
    """Remove the prefecture and any listed city/ward prefix, never leaving nothing."""
    rules = variants if variants is not None else variants_for()
    text = _PREFECTURE.sub("", _clean(text))
    stripped = True
    while stripped:
        stripped = False
        for prefix in rules.prefixes:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, stripped = text[len(prefix) :], True
                break
    return text


def to_hiragana(text: str) -> str:
    """Katakana to hiragana (ナカノハシ -> なかのはし); other characters unchanged."""
    return _KATAKANA.sub(lambda m: chr(ord(m.group()) - 0x60), text)


def format_label(town: str, chome: int | None, variants: Variants | None = None) -> str:
    """The display name of a 町丁目 built from the city's `chome_label` pattern."""
    if chome is None:
        return town
    rules = variants if variants is not None else variants_for()
    return rules.chome_label.format(town=town, chome=chome)


def _clean(text: str) -> str:
    """NFKC (full/half width), no spaces, one kind of dash."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(text.split())
    return _DASHES.sub("-", text)
