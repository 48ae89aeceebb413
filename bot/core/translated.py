"""Organisers' words (event and notice titles, texts, places) in the resident's language.

Organisers write in Japanese and may add an English and an easy-Japanese version
(`translations = {"en": {"title": …}, "ja-easy": {…}}` on the row). A resident reading
English whose organiser gave no English sees the Japanese original, marked as such
(「…」 (in Japanese)), never half a translation; a resident reading やさしい日本語 sees the
easy version, or the original, always with readings (furigana) on its kanji.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.content import Content
from bot.core.readings import furigana, has_japanese

EN = "en"
EASY = "ja-easy"
LOCALES = (EN, EASY)
# Fields organisers may translate, by the form's suffix (title_en, description_easy, …).
SUFFIXES = {EN: "en", EASY: "easy"}


def organiser_text(
    original: str,
    translations: Mapping[str, Any] | None,
    field: str,
    locale: str,
    content: Content,
    *,
    proper_noun: bool = False,
) -> str:
    """One organiser field for a resident reading `locale`.

    `proper_noun` (a place's name) marks an untranslated original with 「」 only, as a name
    is read, not translated.
    """
    if not original or locale not in LOCALES:
        return original
    given = str(((translations or {}).get(locale) or {}).get(field) or "").strip()
    if locale == EASY:
        return furigana(given or original)
    if given:
        return given
    if not has_japanese(original):
        return original
    if proper_noun:
        return f"「{original}」"
    return content.text("common.in_japanese", EN, text=original)


def translations_from_form(raw: Mapping[str, str], fields: tuple[str, ...]) -> dict[str, Any]:
    """The `translations` value from form inputs named `<field>_en` / `<field>_easy`."""
    found: dict[str, dict[str, str]] = {}
    for locale, suffix in SUFFIXES.items():
        given = {f: str(raw.get(f"{f}_{suffix}") or "").strip() for f in fields}
        if any(given.values()):
            found[locale] = {f: v for f, v in given.items() if v}
    return found


def form_of_translations(
    translations: Mapping[str, Any] | None, fields: tuple[str, ...]
) -> dict[str, str]:
    """The form inputs (`<field>_en`, `<field>_easy`) of a stored `translations` value."""
    out: dict[str, str] = {}
    for locale, suffix in SUFFIXES.items():
        given = (translations or {}).get(locale) or {}
        for name in fields:
            out[f"{name}_{suffix}"] = str(given.get(name) or "")
    return out
