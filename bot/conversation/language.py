"""Choose the language the bot speaks: 日本語, English or やさしい日本語."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.content import LOCALES
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, Option, Say, Step
from bot.conversation.menu import main_menu

CHOOSE = Step(
    name="locale",
    prompt="language.ask",
    options=tuple(Option(label_key=f"language.names.{code}", value=code) for code in LOCALES),
    help_key="language.help",
)


def _save(ctx: FlowContext, data: Data) -> list[Say]:
    ctx.resident.locale = str(data["locale"])
    ctx.session.add(ctx.resident)
    return [Say("language.done"), main_menu(ctx)]


FLOW = Flow(name="language", steps=(CHOOSE,), on_complete=_save)


PROFILE_LANGUAGES_FILE = "profile_languages.yaml"


def locale_for_profile(language: str | None, content_root: Path, default: str) -> str:
    """The locale a new friend is first greeted in, from their LINE profile's language.

    No language (the profile call failed, or LINE did not say) means the city's default.
    """
    if not language:
        return default
    table = _profile_table(content_root)
    tag = language.strip().lower()
    found = table.get(tag) or table.get(tag.split("-")[0]) or table.get("other")
    return found if found in LOCALES else default


@lru_cache(maxsize=4)
def _profile_table(content_root: Path) -> dict[str, str]:
    path = content_root / PROFILE_LANGUAGES_FILE
    if not path.exists():
        return {"ja": "ja", "en": "en"}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key).lower(): str(value) for key, value in raw.items()}
