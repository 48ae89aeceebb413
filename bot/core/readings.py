"""Readings of Japanese names and text: kana, romaji and furigana.

Place names carry their readings in the area tables (towns.csv よみ, city.yaml name_kana);
where a table leaves one out, and for organisers' free text, the reading comes from a
morphological analyser with a dictionary that ships as a package (fugashi + unidic-lite).
Kana become Hepburn romaji with pykakasi. Everything is cached: the same few hundred
names are read again and again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_KATAKANA = re.compile("[\u30a1-\u30f6]")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ー]")
# Kunrei-shiki and other spellings residents type, to the Hepburn the keys use.
_SPELLINGS = (
    (re.compile(r"sy"), "sh"),
    (re.compile(r"ty"), "ch"),
    (re.compile(r"[zj]y"), "j"),
    (re.compile(r"si"), "shi"),
    (re.compile(r"ti"), "chi"),
    (re.compile(r"(?<!s)tu"), "tsu"),
    (re.compile(r"(?<![sc])hu"), "fu"),
    (re.compile(r"[zd]i"), "ji"),
    (re.compile(r"du"), "zu"),
    (re.compile(r"m(?=[bmp])"), "n"),
    (re.compile(r"tch"), "ch"),
)
_DOUBLE = re.compile(r"([a-z])\1+")
_OH = re.compile(r"oh(?![aeiouy])")


def to_hiragana(text: str) -> str:
    """Katakana to hiragana; other characters unchanged."""
    return _KATAKANA.sub(lambda m: chr(ord(m.group()) - 0x60), text)


def has_kanji(text: str) -> bool:
    """True when the text holds at least one kanji."""
    return _KANJI.search(text) is not None


def has_japanese(text: str) -> bool:
    """True when the text holds kana or kanji."""
    return _JAPANESE.search(text) is not None


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    import pykakasi

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import fugashi

    return fugashi.Tagger()


@lru_cache(maxsize=4096)
def romanize(kana: str) -> str:
    """Hepburn romaji of a reading, long vowels as written: "ちゅうおうどおり" -> "chuuoudoori"."""
    return "".join(part["hepburn"] for part in _kakasi().convert(kana))


def romaji_key(text: str) -> str:
    """The form typed romaji and stored readings are compared in.

    Macrons, spaces, hyphens and case go; Kunrei spellings become Hepburn; long vowels and
    double consonants shrink, so "Chūō-dōri", "Chuo dori", "chuuoudoori" and "Tyuodori" all
    read "chuodori".
    """
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if c.isascii() and c.isalnum())
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    text = _DOUBLE.sub(r"\1", text).replace("ou", "o")
    return _DOUBLE.sub(r"\1", _OH.sub("o", text))


@lru_cache(maxsize=4096)
def display_romaji(kana: str) -> str:
    """A reading as English text shows a Japanese name: "なかのはしどおり" -> "Nakanohashidori"."""
    text = romanize(to_hiragana(kana))
    text = re.sub(r"ou|oo", "o", text).replace("uu", "u")
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=4096)
def reading(text: str) -> str:
    """The hiragana reading of Japanese text by the dictionary ("桜城" -> "さくらじょう")."""
    return "".join(to_hiragana(surface_reading(surface, kana)) for surface, kana in _words(text))


def surface_reading(surface: str, kana: str | None) -> str:
    """A word's reading, or the word itself when the dictionary has none (numbers, Latin)."""
    return kana if kana and kana != "*" else surface


@lru_cache(maxsize=2048)
def _words(text: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((w.surface, getattr(w.feature, "kana", None)) for w in _tagger()(text))


def furigana(text: str, known: Mapping[str, str] | None = None) -> str:
    """Text with a reading after each word holding kanji.

    "桜城の祭り" -> "桜城(さくらじょう)の祭り(まつり)".

    `known` maps names to the readings the area tables give (the dictionary does not know
    every place name); they are applied first, longest first.
    """
    if not has_kanji(text):
        return text
    names = sorted((known or {}).items(), key=lambda item: len(item[0]), reverse=True)
    pieces: list[str] = [text]
    for name, kana in names:
        if name and kana and has_kanji(name):
            pieces = _split_known(pieces, name, f"{name}({to_hiragana(kana)})")
    return "".join(p if isinstance(p, _Done) else _furigana_words(p) for p in pieces)


class _Done(str):
    """A piece already given its reading."""


def _split_known(pieces: list[str], name: str, annotated: str) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, _Done) or name not in piece:
            out.append(piece)
            continue
        parts = piece.split(name)
        for index, part in enumerate(parts):
            if index:
                out.append(_Done(annotated))
            if part:
                out.append(part)
    return out


# Counters after a number read as everyone expects them (7月, 20日, 3人); readings there
# would only clutter the date (and the dictionary reads 20日 wrongly, split in two).
COUNTERS = frozenset("年月日時分人円回歳階番号")
_ALL_KANJI = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]+$")


@lru_cache(maxsize=2048)
def _furigana_words(text: str) -> str:
    words: list[list[str]] = []  # [surface, reading]; runs of all-kanji words joined
    for surface, kana in _words(text):
        kana = to_hiragana(kana) if kana and kana != "*" else ""
        joinable = bool(_ALL_KANJI.match(surface)) and bool(kana)
        if joinable and words and words[-1][1] and _ALL_KANJI.match(words[-1][0]):
            words[-1][0] += surface
            words[-1][1] += kana
        else:
            words.append([surface, kana])
    out, before = [], ""
    for surface, kana in words:
        counter = surface in COUNTERS and before[-1:].isdigit()
        if has_kanji(surface) and kana and not counter:
            out.append(f"{surface}({kana})")
        else:
            out.append(surface)
        before = surface
    # The analyser drops spaces between words; put the text's own spacing back.
    return _respace(text, out)


def _respace(original: str, words: list[str]) -> str:
    result, position = [], 0
    for word in words:
        surface = word.split("(", 1)[0] if "(" in word and has_kanji(word) else word
        found = original.find(surface, position)
        if found > position:
            result.append(original[position:found])
        result.append(word)
        position = (found if found >= 0 else position) + len(surface)
    result.append(original[position:])
    return "".join(result)
