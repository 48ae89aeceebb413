"""Choose the language the bot speaks: 日本語, English or やさしい日本語."""

from __future__ import annotations

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
