"""Small counts typed as a resident says them: 3, ３, 3人, ふたり, 二人, 三名, two, Three people.

Household sizes and headcounts are asked with chips, but residents type too; the usability
test found 「ふたり」 refused. Counts up to twenty are read; anything else is None, and the
caller re-asks politely.
"""

from __future__ import annotations

import re
import unicodedata

LIMIT = 20

_KANA = {
    "ひとり": 1,
    "ふたり": 2,
    "さんにん": 3,
    "よにん": 4,
    "ごにん": 5,
    "ろくにん": 6,
    "しちにん": 7,
    "ななにん": 7,
    "はちにん": 8,
    "きゅうにん": 9,
    "くにん": 9,
    "じゅうにん": 10,
}
_ENGLISH = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# What may follow the number: 人, 名, にん, people, persons (and "of us").
_SUFFIX = re.compile(r"(人|名|にん|めい|people|persons?|ofus|adults?|children|kids?)$")


def parse_count(text: str) -> int | None:
    """The count `text` names (1-20, or 0 for ゼロ/zero), or None when it names none."""
    word = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    if word in _KANA:
        return _KANA[word]
    word = _SUFFIX.sub("", word)
    if word.isdigit():
        value = int(word)
    elif word in _ENGLISH:
        value = _ENGLISH.index(word)
    else:
        found = _kanji(word)
        if found is None:
            return None
        value = found
    return value if 0 <= value <= LIMIT else None


def _kanji(word: str) -> int | None:
    """一 … 九, 十, 十一 … 二十 (what a household or a party could number)."""
    if word in _KANJI_DIGITS:
        return _KANJI_DIGITS[word]
    if "十" not in word or word.count("十") > 1:
        return None
    tens, _, ones = word.partition("十")
    if (tens and tens not in _KANJI_DIGITS) or (ones and ones not in _KANJI_DIGITS):
        return None
    return _KANJI_DIGITS.get(tens, 1) * 10 + _KANJI_DIGITS.get(ones, 0)
