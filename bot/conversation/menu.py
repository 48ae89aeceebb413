"""The main menu and help: what a resident can do from anywhere."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from bot.content import LOCALES, Content, ContentError
from bot.conversation import postback, richmenu_file
from bot.conversation.context import FlowContext
from bot.conversation.engine import Option, Say
from bot.core.standing import menu_standing


def menu_items(ctx: FlowContext) -> list[Option]:
    """Menu entries from content/menu.yaml, for the resident's role."""
    standing = menu_standing(ctx.session, ctx.resident)
    options = []
    for entry in ctx.content.menu:  # read once at start-up
        roles = entry.get("roles", ["everyone"])
        # 班長 is not a menu role of its own (a 班長 is a member or an officer too): their
        # entries are added to the menu of that role.
        if standing.role not in roles and "everyone" not in roles:
            if "hancho" not in roles or not standing.leads_han:
                continue
        options.append(Option(label_key=entry["label"], value=entry_postback(entry)))
    return options


def main_menu(ctx: FlowContext, key: str = "menu.title") -> Say:
    """The menu as a message with quick-reply chips."""
    return Say(key, options=tuple(menu_items(ctx)[:13]))


def normalise_label(text: str) -> str:
    """A typed text or label, compared loosely: full/half width, case, spaces and 「・」 ignored."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "・･")


def entry_postback(entry: Mapping[str, Any]) -> str:
    """The postback data a menu entry (menu.yaml or richmenu.yaml) sends when tapped."""
    if "start" in entry:
        return postback.encode(a="start", f=str(entry["start"]))
    if "command" in entry:
        return postback.encode(a="cmd", v=str(entry["command"]))
    return postback.encode(a=str(entry["action"]))


def menu_words(content: Content) -> dict[str, str]:
    """Every label of the chip menu and the rich menus, in every locale, → its postback data.

    A resident who types what a menu shows (「わたしの出欠」, "My events", 「イベント」)
    means the same as tapping it. A label shared by two targets keeps the first (the chip
    menu's), so a typed word never runs something no menu shows under that name.
    """
    entries: list[Mapping[str, Any]] = list(content.menu)
    try:
        raw = richmenu_file.read(content)
    except ContentError:  # a content folder without rich menus (some tests)
        raw = {"menus": {}}
    for spec in raw["menus"].values():
        entries.extend(spec["items"])
    words: dict[str, str] = {}
    for entry in entries:
        data = entry_postback(entry)
        for locale in LOCALES:
            label = normalise_label(content.text(str(entry["label"]), locale))
            if label:
                words.setdefault(label, data)
    return words
