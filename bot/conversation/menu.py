"""The main menu and help: what a resident can do from anywhere."""

from __future__ import annotations

from bot.conversation import postback
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
        if "start" in entry:
            value = postback.encode(a="start", f=str(entry["start"]))
        elif "command" in entry:
            value = postback.encode(a="cmd", v=str(entry["command"]))
        else:
            value = postback.encode(a=str(entry["action"]))
        options.append(Option(label_key=entry["label"], value=value))
    return options


def main_menu(ctx: FlowContext, key: str = "menu.title") -> Say:
    """The menu as a message with quick-reply chips."""
    return Say(key, options=tuple(menu_items(ctx)[:13]))
