"""The main menu and help: what a resident can do from anywhere."""

from __future__ import annotations

from bot.flows import postback
from bot.flows.context import FlowContext
from bot.flows.engine import Option, Say
from bot.services.membership import menu_role


def menu_items(ctx: FlowContext) -> list[Option]:
    """Menu entries from content/menu.yaml, for the resident's role."""
    entries = ctx.content.menu  # read once at start-up
    role = resident_role(ctx)
    leader: bool | None = None  # looked up once, only if an entry is for 班長
    options = []
    for entry in entries:
        roles = entry.get("roles", ["everyone"])
        if role not in roles and "everyone" not in roles:
            if "hancho" not in roles:
                continue
            leader = _is_leader(ctx) if leader is None else leader
            if not leader:
                continue
        if "start" in entry:
            value = postback.encode(a="start", f=str(entry["start"]))
        elif "command" in entry:
            value = postback.encode(a="cmd", v=str(entry["command"]))
        else:
            value = postback.encode(a=str(entry["action"]))
        options.append(Option(label_key=entry["label"], value=value))
    return options


def _is_leader(ctx: FlowContext) -> bool:
    """班長 is not a menu role of its own (a 班長 is a member or an officer too): their entries
    are added to the menu of that role."""
    from bot.services.hancho import leadership_of

    return leadership_of(ctx.session, ctx.resident.id) is not None


def main_menu(ctx: FlowContext, key: str = "menu.title") -> Say:
    """The menu as a message with quick-reply chips."""
    return Say(key, options=tuple(menu_items(ctx)[:13]))


def resident_role(ctx: FlowContext) -> str:
    """Which menu the resident sees; flows that grant roles extend this via content roles."""
    return getattr(ctx.resident, "menu_role", None) or menu_role(ctx.session, ctx.resident)
