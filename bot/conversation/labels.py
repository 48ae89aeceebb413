"""Labels cut to LINE's limits at a word boundary, never in the middle of a word.

A chip holds 20 characters. 「取消 ふれあい地域カフェ（サン」 was cut mid-word; now a label is
cut after a space, 「・」, a bracket or a comma, else between words as a Japanese tokenizer
(fugashi with unidic-lite) splits them, and ends with 「…」. The renderer keeps the full
text as the chip's displayText, so what the resident's bubble shows is never cut.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

ELLIPSIS = "…"
_BREAK_BEFORE = " 　・（(「『【/／"
_BREAK_AFTER = "、，,)）」』】・"


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its longest head ending at a word
    boundary (not shorter than half the limit), followed by 「…」."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = _last_break(text, room) or _last_word(text, room) or room
    return text[:cut].rstrip(" 　・、,") + ELLIPSIS


def _last_break(text: str, room: int) -> int | None:
    """The latest cut at punctuation or a space that keeps at least half of the room."""
    for end in range(room, room // 2, -1):
        if text[end] in _BREAK_BEFORE or text[end - 1] in _BREAK_AFTER:
            return end
    return None


def _last_word(text: str, room: int) -> int | None:
    """The latest cut between two words, by the tokenizer's reading of the text."""
    tagger = _tagger()
    if tagger is None:
        return None
    end, best = 0, None
    for word in tagger(text):
        end += len(word.surface) + len(getattr(word, "white_space", "") or "")
        if end > room:
            break
        if end > room // 2:
            best = end
    return best


@lru_cache(maxsize=1)
def _tagger() -> Any:
    """fugashi's tagger over unidic-lite, loaded on first need (None if not installed)."""
    try:
        import fugashi
    except ImportError:  # pragma: no cover - a dependency, but chips work without it
        return None
    return fugashi.Tagger()
