"""content/richmenu.yaml read and checked: roles, up to six tiles each, known content keys,
one target per tile, colours LINE's image can be drawn with.

`read` is what bot/conversation/richmenu.py builds menus from and what the start-up check
(bot/wiring.py) calls, so a broken file stops start-up with one line naming the file and
the key instead of failing at the first `tsunagari richmenu sync`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.content import Content, ContentError, read_yaml

FILE = "richmenu.yaml"
ROLES = ("subscriber", "member", "officer")
MAX_ITEMS = 6  # two rows of three tiles
TARGETS = ("start", "command", "action")
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def read(content: Content) -> dict[str, Any]:
    """The file as a mapping, after checking it; raises ContentError naming file and key."""
    path = content.path(FILE)
    raw = read_yaml(path)

    def fail(key: str, problem: str) -> ContentError:
        return ContentError(f"{path}: {key}: {problem}")

    _check_style(raw.get("style") or {}, fail)
    menus = raw.get("menus")
    if not isinstance(menus, dict) or not menus:
        raise fail("menus", "needs a menu per role")
    for role, spec in menus.items():
        where = f"menus.{role}"
        if role not in ROLES:
            raise fail(where, f"unknown role (use {', '.join(ROLES)})")
        if not isinstance(spec, dict):
            raise fail(where, "must be a mapping with chat_bar and items")
        _check_key(content, spec.get("chat_bar"), f"{where}.chat_bar", fail)
        items = spec.get("items")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
            raise fail(f"{where}.items", f"must list 1-{MAX_ITEMS} tiles")
        for n, item in enumerate(items):
            _check_item(content, item, f"{where}.items[{n}]", fail)
    return raw


def _check_item(content: Content, item: Any, where: str, fail: Any) -> None:
    if not isinstance(item, dict):
        raise fail(where, "must be a mapping with a label and a target")
    _check_key(content, item.get("label"), f"{where}.label", fail)
    targets = [t for t in TARGETS if t in item]
    if len(targets) != 1:
        raise fail(where, f"needs exactly one of {', '.join(TARGETS)}")
    if targets[0] == "command" and item["command"] not in content.commands:
        raise fail(
            f"{where}.command", f"unknown command {item['command']!r} (see content/commands.yaml)"
        )


def _check_key(content: Content, key: Any, where: str, fail: Any) -> None:
    if not isinstance(key, str) or not content.has(key):
        raise fail(where, f"content key {key!r} is not in content/messages/<locale>/")


def _check_style(style: Any, fail: Any) -> None:
    if not isinstance(style, dict):
        raise fail("style", "must be a mapping")
    for key in ("background", "text"):
        if key in style and not COLOUR.match(str(style[key])):
            raise fail(f"style.{key}", f"{style[key]!r} is not a #RRGGBB colour")
    tiles = style.get("tiles", ["#06C755"])
    if not isinstance(tiles, list) or not tiles:
        raise fail("style.tiles", "must list #RRGGBB colours")
    for n, colour in enumerate(tiles):
        if not COLOUR.match(str(colour)):
            raise fail(f"style.tiles[{n}]", f"{colour!r} is not a #RRGGBB colour")
    if "gap" in style and (not isinstance(style["gap"], int) or not 0 <= style["gap"] <= 200):
        raise fail("style.gap", "must be a whole number of pixels (0-200)")
