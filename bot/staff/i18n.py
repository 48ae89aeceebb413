"""Staff-facing words per locale, from content/staff/<locale>.yaml (Japanese first)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.place_names import japanese_name

STAFF_LOCALES: tuple[str, ...] = ("ja", "en")
DEFAULT_STAFF_LOCALE = "ja"


class StaffContentError(Exception):
    """content/staff is missing a key in a locale, or a file is malformed."""


@dataclass(frozen=True)
class Translator:
    """Looks words up for one locale; a missing key raises, so gaps show in tests."""

    locale: str
    words: dict[str, str]

    def __call__(self, key: str, **params: Any) -> str:
        """The text for `key`, with `{placeholders}` filled."""
        try:
            text = self.words[key]
        except KeyError:
            raise StaffContentError(f"missing staff text {key!r} ({self.locale})") from None
        return text.format_map(params) if params else text

    def name(self, value: Any) -> Any:
        """A value from the data (a place, an association, a display name) as this page shows
        it: in English, Japanese text is marked 「…」 as a name, not left as if translated."""
        if self.locale != "en" or not isinstance(value, str) or value.startswith("「"):
            return value
        return japanese_name(value)


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten_item(prefix, str(key), value, out)
        return
    raise StaffContentError(f"unexpected value at {prefix!r}")


def _flatten_item(prefix: str, key: str, value: Any, out: dict[str, str]) -> None:
    name = f"{prefix}{key}"
    if isinstance(value, str):
        out[name] = value
    elif isinstance(value, dict):
        _flatten(name + ".", value, out)
    else:
        raise StaffContentError(f"staff text {name!r} must be a string")


def load_words(root: Path, locale: str) -> dict[str, str]:
    """All staff texts of one locale as a flat `{"section.key": text}` mapping."""
    path = root / "staff" / f"{locale}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StaffContentError(f"cannot read {path}: {exc}") from exc
    words: dict[str, str] = {}
    _flatten("", data, words)
    return words


@lru_cache(maxsize=8)
def translators(root: Path) -> dict[str, Translator]:
    """A translator per staff locale; refuses content whose locales have different keys."""
    tables = {locale: load_words(root, locale) for locale in STAFF_LOCALES}
    reference = set(tables[DEFAULT_STAFF_LOCALE])
    for locale, words in tables.items():
        if set(words) != reference:
            gap = sorted(reference.symmetric_difference(words))[:5]
            raise StaffContentError(f"content/staff/{locale}.yaml differs in keys: {gap}")
    return {locale: Translator(locale, words) for locale, words in tables.items()}
