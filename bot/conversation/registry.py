"""The one table of entry points: flows, the words that start them, and postback actions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from bot.conversation.actions import Action
from bot.conversation.batch import BatchAction
from bot.conversation.context import FlowContext
from bot.conversation.engine import Flow, FlowInput, Say

TextHook = Callable[[FlowContext, FlowInput], list[Say] | None]
PostbackAction = Callable[[FlowContext, Mapping[str, str]], list[Say]]
EventHook = Callable[[FlowContext], list[Say]]
A = TypeVar("A", bound=Action)


class DuplicateAction(ValueError):
    """Two postback actions asked for the same prefix."""


@dataclass
class Registry:
    """Everything a resident can start; handlers consult it and nothing else."""

    flows: dict[str, Flow] = field(default_factory=dict)
    # command name in content/commands.yaml -> flow name
    triggers: dict[str, str] = field(default_factory=dict)
    # tried in order on free text outside a flow
    text_hooks: list[TextHook] = field(default_factory=list)
    # tried on every text, even mid-conversation: codes from scanned QR messages (join,
    # check-in) must work whatever the resident was doing
    code_hooks: list[TextHook] = field(default_factory=list)
    # postback `a=<action>` outside flows (RSVP buttons, approvals, …)
    actions: dict[str, PostbackAction] = field(default_factory=dict)
    # extra work on follow / unfollow events (e.g. invitations, retention)
    on_follow: list[EventHook] = field(default_factory=list)
    on_unfollow: list[EventHook] = field(default_factory=list)
    # postback `a=<action>` a feature also handles many at once, before the engine (see
    # bot/conversation/batch.py); taps it declines reach `actions` as usual
    batch_actions: dict[str, BatchAction] = field(default_factory=dict)

    def add_flow(self, flow: Flow, *commands: str) -> None:
        """Register a flow and the command words that start it."""
        self.flows[flow.name] = flow
        for command in commands:
            self.triggers[command] = flow.name

    def on(self, action: type[A], handler: Callable[[FlowContext, A], list[Say]]) -> None:
        """Route taps of a typed action to `handler`, with the payload decoded and checked
        first: a forged or stale payload raises `Forged` before the handler runs.

        A prefix taken twice raises `DuplicateAction` when the registry is built: a second
        registration used to replace the first silently (the safety list once took the
        surveys' answers)."""
        if action.PREFIX in self.actions:
            raise DuplicateAction(f"postback prefix {action.PREFIX!r} is registered twice")

        def run(ctx: FlowContext, data: Mapping[str, str]) -> list[Say]:
            return handler(ctx, action.decode(data))

        self.actions[action.PREFIX] = run

    def on_batch(self, action: type[Action], handler: BatchAction) -> None:
        """Handle taps of `action` many at a time in one transaction (a surge of the same
        button); the action must also have its ordinary handler (`on`) for the taps the
        batch declines."""
        if action.PREFIX not in self.actions:
            raise ValueError(f"register {action.PREFIX!r} with `on` first")
        self.batch_actions[action.PREFIX] = handler
