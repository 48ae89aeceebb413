"""Names of places and associations as each resident reads them.

Japanese residents see the area tables' names; English residents the English columns
(ward `name_en`, association `name_en`) or, for districts and towns, the Hepburn romaji of
the tables' readings ("Sakurajo", "Ueda 1-chome"); やさしい日本語 residents see the names
with their readings (桜城(さくらじょう)). A name the tables give no English for is shown to
English residents in corner brackets 「…」, the mark of a Japanese proper noun.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.content import Content
from bot.core.models.areas import Association, District, Town, Ward
from bot.core.readings import display_romaji, furigana, has_japanese

EN = "en"
EASY = "ja-easy"


def japanese_name(name: str) -> str:
    """A Japanese proper noun inside English text, marked as such."""
    return f"「{name}」" if has_japanese(name) else name


def ward_name(ward: Ward, locale: str) -> str:
    """A ward (or area) in the resident's language."""
    if locale == EN:
        return ward.name_en or japanese_name(ward.name)
    return furigana(ward.name) if locale == EASY else ward.name


def district_name(district: District, locale: str) -> str:
    """A community district: 桜城 / Sakurajo / 桜城(さくらじょう)."""
    if locale == EN:
        return (
            display_romaji(district.name_kana)
            if district.name_kana
            else japanese_name(district.name)
        )
    if locale == EASY:
        return furigana(district.name, {district.name: district.name_kana})
    return district.name


def association_name(association: Association, locale: str) -> str:
    """An association: its English name, or its Japanese one (with readings in easy Japanese)."""
    if locale == EN:
        return association.name_en or japanese_name(association.name)
    return furigana(association.name) if locale == EASY else association.name


def town_label(
    *,
    label: str,
    name: str,
    chome: int | None,
    reading: str,
    locale: str,
    content: Content,
) -> str:
    """A 町丁目: 上田一丁目 / Ueda 1-chome / 上田(うえだ)一丁目(いっちょうめ)."""
    if locale == EN:
        if not reading:
            return japanese_name(label)
        town = display_romaji(reading)
        if chome is None:
            return town
        return content.text("common.town_with_chome", EN, town=town, chome=chome)
    if locale == EASY:
        return furigana(label, {name: reading})
    return label


def stored_town_label(
    session: Session, association_id: int, label: str, locale: str, content: Content
) -> str:
    """A town label kept on an application (Japanese), in the resident's language."""
    if locale not in (EN, EASY) or not label:
        return label
    query = select(Town).where(Town.association_id == association_id, Town.label == label)
    town = session.exec(query).first()
    if town is None:  # a town name without 丁目 ("上田" for several 丁目)
        query = select(Town).where(Town.association_id == association_id, Town.name == label)
        town = session.exec(query).first()
        chome = None
    else:
        chome = town.chome
    if town is None:
        return japanese_name(label) if locale == EN else furigana(label)
    return town_label(
        label=label, name=town.name, chome=chome, reading=town.reading, locale=locale,
        content=content,
    )  # fmt: skip
