"""Everything residents read: per-locale YAML under content/messages, validated at start-up."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

LOCALES: tuple[str, ...] = ("ja", "en", "ja-easy")
DEFAULT_LOCALE = "ja"


class ContentError(Exception):
    """Content is missing or inconsistent; start-up stops with this message."""


@dataclass(frozen=True)
class Content:
    """Immutable texts per locale plus the command words that work at every step."""

    texts: Mapping[str, Mapping[str, str]]
    commands: Mapping[str, frozenset[str]]
    root: Path
    menu: tuple[Mapping[str, Any], ...] = ()

    def text(self, key: str, locale: str = DEFAULT_LOCALE, **params: Any) -> str:
        """Render a text; a missing key raises instead of falling back silently."""
        table = self.texts.get(locale) or self.texts[DEFAULT_LOCALE]
        try:
            template = table[key]
        except KeyError:
            raise ContentError(f"missing content key {key!r} for locale {locale!r}") from None
        return template.format_map(params) if params else template

    def join(self, items: Iterable[str], locale: str = DEFAULT_LOCALE) -> str:
        """A list in a sentence, joined with the locale's separator (「、」, ", ")."""
        return self.text("common.list_separator", locale).join(items)

    def has(self, key: str) -> bool:
        """True when the key exists (in every locale, as validation guarantees)."""
        return key in self.texts[DEFAULT_LOCALE]

    def command_for(self, text: str) -> str | None:
        """Which built-in command (cancel, back, help, menu, …) a typed text is, if any."""
        word = text.strip().lower()
        for command, words in self.commands.items():
            if word in words:
                return command
        return None

    def path(self, *parts: str) -> Path:
        """A file under content/, for area tables, flex templates, demo data."""
        return self.root.joinpath(*parts)


def load_content(root: Path) -> Content:
    """Load and validate content/; raises ContentError naming the first problem."""
    texts = {locale: _read_locale(root / "messages" / locale) for locale in LOCALES}
    _check_same_keys(texts)
    _check_same_placeholders(texts)
    raw_commands = read_yaml(root / "commands.yaml")
    commands = {
        name: frozenset(str(word).strip().lower() for word in words)
        for name, words in raw_commands.items()
    }
    menu = tuple(MappingProxyType(dict(e)) for e in read_yaml(root / "menu.yaml").get("main", []))
    return Content(
        texts=MappingProxyType({k: MappingProxyType(v) for k, v in texts.items()}),
        commands=MappingProxyType(commands),
        root=root,
        menu=menu,
    )


def _read_locale(folder: Path) -> dict[str, str]:
    """Merge every YAML file of a locale (one per domain: common.yaml, join.yaml, …)."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ContentError(f"no content files in {folder}")
    merged: dict[str, str] = {}
    for path in files:
        for key, value in _flatten(read_yaml(path)).items():
            if key in merged:
                raise ContentError(f"{path}: key {key!r} is defined twice")
            merged[key] = value
    return merged


def read_yaml(path: Path) -> dict[str, Any]:
    """A content YAML file as a mapping; a missing file or bad YAML is a one-line ContentError."""
    if not path.exists():
        raise ContentError(f"content file missing: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ContentError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ContentError(f"{path} must hold a mapping")
    return data


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{full}."))
        else:
            flat[full] = str(value)
    return flat


def _check_same_keys(texts: Mapping[str, Mapping[str, str]]) -> None:
    reference = set(texts[DEFAULT_LOCALE])
    for locale, table in texts.items():
        missing = sorted(reference - set(table))
        extra = sorted(set(table) - reference)
        if missing:
            raise ContentError(f"locale {locale!r} is missing key {missing[0]!r}")
        if extra:
            raise ContentError(f"locale {locale!r} has key {extra[0]!r} that 'ja' lacks")


def placeholders(template: str) -> set[str]:
    """The {names} a template expects."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check_same_placeholders(texts: Mapping[str, Mapping[str, str]]) -> None:
    for key, template in texts[DEFAULT_LOCALE].items():
        expected = placeholders(template)
        for locale, table in texts.items():
            if placeholders(table[key]) != expected:
                raise ContentError(
                    f"{locale}:{key} uses placeholders {sorted(placeholders(table[key]))}, "
                    f"ja uses {sorted(expected)}"
                )
