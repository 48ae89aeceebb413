"""How easy an organiser's Japanese is to read, as a hint beside what they write.

Sentence length and the share of kanji are what やさしい日本語 guides ask writers to watch
(short sentences; few kanji, with readings); jreadability (Lee & Hasebe's formula over
fugashi + unidic-lite) adds a level from 0.5 (hardest) to 6.5 (easiest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]")
_LETTERS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々ー]")
# Thresholds the guides give: sentences up to about 30 characters, kanji about 20-30 %.
EASY_SENTENCE, EASY_KANJI = 30, 30


@dataclass(frozen=True)
class Readability:
    """A text's measures; `level` is "easy", "medium" or "hard" (a staff content key)."""

    mean_sentence: int  # characters per sentence, rounded
    kanji_percent: int  # kanji among Japanese letters
    score: float | None  # jreadability, higher is easier; None when it could not run
    level: str


def readability(text: str) -> Readability | None:
    """The measures of a Japanese text, or None when there is no Japanese to measure."""
    letters = _LETTERS.findall(text)
    if not letters:
        return None
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    mean = round(sum(len(s) for s in sentences) / max(len(sentences), 1))
    kanji = round(100 * len(_KANJI.findall(text)) / len(letters))
    score = _score(text)
    long, dense = mean > EASY_SENTENCE, kanji > EASY_KANJI
    level = "hard" if long and dense else "medium" if long or dense else "easy"
    return Readability(mean, kanji, score, level)


def _score(text: str) -> float | None:
    try:
        from jreadability import compute_readability

        return round(float(compute_readability(text)), 1)
    except Exception:  # noqa: BLE001 - a hint, never a reason to fail a page
        return None
