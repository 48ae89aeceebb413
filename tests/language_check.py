"""Checks that a resident reads only their language.

English: no kana or kanji outside a Japanese proper noun marked as such (「上田公民館」, or an
organiser's untranslated text 「…」 (in Japanese)), and the language chip's names of the
other languages, which are shown in their own script on purpose.

やさしい日本語: every run of kanji is followed by its reading in brackets (after any
okurigana): 桜城(さくらじょう), 行い(おこない), 町内会（ちょうないかい）; counters after a
number (7月20日, 3人) and the allowed words below may stand alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]")
_MARKED = re.compile(r"「[^」]*」")
_KANJI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]+")
# The reading closes the word: after okurigana or the rest of a name (緑が丘(みどりがおか)).
_READING_AFTER = re.compile(
    r"[ぁ-ゖァ-ヺ\u3400-\u4dbf\u4e00-\u9fffヶ]{0,6}[(（][ぁ-ゖァ-ヺー・\s]+[)）]"
)
COUNTERS = frozenset("年月日時分人円回歳階番号")
# The language chip 「言語 Language」 is bilingual on purpose (whoever is lost finds it), and
# it names each language in its own script.
ALLOWED_IN_ENGLISH = ("言語 Language", "日本語", "やさしい にほんご")
# 人 (a first-grade kanji easy-Japanese guides keep) stands alone.
ALLOWED_IN_EASY = ("言語 Language", "日本語", "人")


def texts_of(message: dict[str, Any]) -> list[str]:
    """Every string a resident reads in a message: its text, alt text, flex texts, labels."""
    found: list[str] = []
    for key in ("text", "altText"):
        if message.get(key):
            found.append(str(message[key]))
    for item in (message.get("quickReply") or {}).get("items", []):
        found.append(str(item["action"].get("label", "")))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("text", "span") and node.get("text"):
                found.append(str(node["text"]))
            action = node.get("action")
            if isinstance(action, dict) and action.get("label"):
                found.append(str(action["label"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("contents"))
    return found


def japanese_in_english(text: str) -> list[str]:
    """Japanese letters outside marked proper nouns and the allowed words."""
    text = _MARKED.sub("", text)
    for word in ALLOWED_IN_ENGLISH:
        text = text.replace(word, "")
    return _JAPANESE.findall(text)


def kanji_without_reading(text: str) -> list[str]:
    """Kanji runs that carry no reading, outside counters and the allowed words."""
    for word in ALLOWED_IN_EASY:
        text = text.replace(word, "")
    missing = []
    for run in _KANJI_RUN.finditer(text):
        before = text[: run.start()]
        if all(c in COUNTERS for c in run.group()) and before[-1:].isdigit():
            continue
        if _READING_AFTER.match(text, run.end()):
            continue
        missing.append(run.group())
    return missing


def problems(messages: Iterable[dict[str, Any]], locale: str) -> list[tuple[str, list[str]]]:
    """(text, offending letters) for every text the locale's reader should not meet."""
    check = {"en": japanese_in_english, "ja-easy": kanji_without_reading}.get(locale)
    if check is None:
        return []
    found = []
    for message in messages:
        for text in texts_of(message):
            bad = check(text)
            if bad:
                found.append((text, bad))
    return found
