"""Run one resident input through the conversation machinery: commands, flows, hooks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from bot.conversation import engine, postback
from bot.conversation.actions import Forged
from bot.conversation.context import FlowContext
from bot.conversation.engine import Flow, FlowInput, Outcome, Say, State
from bot.conversation.menu import main_menu, menu_words, normalise_label
from bot.conversation.registry import Registry
from bot.conversation.render import Renderer
from bot.conversation.store import load_state, save_state

log = logging.getLogger(__name__)


class Runner:
    """Routes an input to the resident's current flow, a command, a trigger or a hook."""

    def __init__(self, registry: Registry, renderer: Renderer) -> None:
        self.registry = registry
        self.renderer = renderer
        self._menu_words: dict[str, str] | None = None  # built on first use, content is fixed

    def handle(self, ctx: FlowContext, given: FlowInput) -> list[Say]:
        """Everything to say back to `given`; state changes go into ctx.session."""
        user_id = _user_id(ctx)
        state, expired = load_state(ctx.session, user_id, ctx.now)
        if state is not None and state.flow in self.registry.flows:
            # A chip's label typed out is an answer, even when it looks like a command word.
            given = self._typed_label_as_tap(ctx, self.registry.flows[state.flow], state, given)
        command = self._command(ctx, given)
        if command is None and given.kind == "text":
            # A menu item's label typed out works like tapping it, from anywhere.
            given = self._typed_menu_label(ctx, given)
            command = self._command(ctx, given)
        if command is not None:
            return self._run_command(ctx, command, state, user_id)
        if given.kind == "postback" and given.data.get("a"):
            return self._run_action(ctx, given.data, user_id)
        if given.kind == "text":
            for hook in self.registry.code_hooks:
                replies = hook(ctx, given)
                if replies is not None:
                    return replies
        if state is not None:
            return self._continue(ctx, state, given, user_id)
        return self._idle(ctx, given, expired, user_id)

    def start(
        self, ctx: FlowContext, flow_name: str, args: Mapping[str, str] | None = None
    ) -> list[Say]:
        """Begin a flow for the resident, replacing any conversation in progress."""
        flow = self.registry.flows[flow_name]
        return self._apply(ctx, flow, engine.start(flow, ctx, ctx.now, args), _user_id(ctx))

    def _command(self, ctx: FlowContext, given: FlowInput) -> str | None:
        if given.kind == "text":
            return ctx.content.command_for(given.text)
        if given.kind == "postback" and given.data.get("a") == "cmd":
            return given.data.get("v")
        return None

    def _run_command(
        self, ctx: FlowContext, command: str, state: State | None, user_id: str
    ) -> list[Say]:
        flow = self.registry.flows.get(state.flow) if state else None
        if command == "cancel":
            save_state(ctx.session, user_id, None, ctx.now)
            return [Say("common.cancelled"), main_menu(ctx, "menu.after_cancel")]
        if command == "menu":
            save_state(ctx.session, user_id, None, ctx.now)
            return [main_menu(ctx)]
        if command == "help":
            if state is None or flow is None:
                return [Say("common.help"), main_menu(ctx)]
            return self._keep(ctx, state, engine.help_for(flow, state, ctx), user_id)
        if command == "back":
            if state is None or flow is None:
                return [Say("common.nothing_to_go_back"), main_menu(ctx)]
            return self._keep(ctx, state, engine.back(flow, state, ctx, ctx.now), user_id)
        if command in self.registry.triggers:
            return self.start(ctx, self.registry.triggers[command])
        return [Say("common.help"), main_menu(ctx)]

    def _run_action(self, ctx: FlowContext, data: Mapping[str, str], user_id: str) -> list[Say]:
        action = data["a"]
        if action == "start" and data.get("f") in self.registry.flows:
            args = {k: v for k, v in data.items() if k not in ("a", "f")}
            return self.start(ctx, data["f"], args)
        handler = self.registry.actions.get(action)
        if handler is None:
            return [Say("common.stale_button"), main_menu(ctx)]
        try:
            return handler(ctx, data)
        except Forged:
            log.info("postback refused", extra={"action": action[:20]})
            return [Say("common.stale_button"), main_menu(ctx)]

    def _continue(
        self, ctx: FlowContext, state: State, given: FlowInput, user_id: str
    ) -> list[Say]:
        flow = self.registry.flows.get(state.flow)
        if flow is None:  # a flow removed by an upgrade: start over politely
            save_state(ctx.session, user_id, None, ctx.now)
            return [Say("common.expired"), main_menu(ctx)]
        return self._apply(ctx, flow, engine.advance(flow, state, given, ctx, ctx.now), user_id)

    def _idle(self, ctx: FlowContext, given: FlowInput, expired: bool, user_id: str) -> list[Say]:
        prefix = [Say("common.expired")] if expired else []
        for hook in self.registry.text_hooks:
            replies = hook(ctx, given)
            if replies is not None:
                return prefix + replies
        if given.kind == "postback" and given.data.get("f"):
            return prefix + [Say("common.stale_button"), main_menu(ctx)]
        if given.kind == "other":
            return prefix + [Say("common.wrong_kind_idle"), main_menu(ctx)]
        return prefix + [main_menu(ctx, "menu.not_understood")]

    def _apply(self, ctx: FlowContext, flow: Flow, outcome: Outcome, user_id: str) -> list[Say]:
        save_state(ctx.session, user_id, outcome.state, ctx.now)
        replies = list(outcome.replies)
        if outcome.completed is not None:
            replies.extend(flow.on_complete(ctx, outcome.completed))
        return replies

    def _keep(self, ctx: FlowContext, state: State, outcome: Outcome, user_id: str) -> list[Say]:
        new_state = outcome.state or state
        save_state(
            ctx.session,
            user_id,
            replace(new_state, expires_at=ctx.now + _ttl(self, state)),
            ctx.now,
        )
        return outcome.replies

    def _typed_label_as_tap(
        self, ctx: FlowContext, flow: Flow, state: State, given: FlowInput
    ) -> FlowInput:
        """A resident who types a chip's label instead of tapping it means the same thing."""
        if given.kind != "text":
            return given
        step = flow.step(state.step)
        options = step.options(state.data, ctx) if callable(step.options) else step.options
        typed = given.text.strip()
        for option in options:
            if option.kind == "postback" and typed in (
                self.renderer.label(option, ctx.locale),
                self.renderer.full_label(option, ctx.locale),
            ):
                return FlowInput(
                    "postback", data={"f": flow.name, "s": step.name, "v": option.value}
                )
        return given

    def _typed_menu_label(self, ctx: FlowContext, given: FlowInput) -> FlowInput:
        """The label of a chip-menu or rich-menu item, typed, as the tap it names."""
        if self._menu_words is None:
            self._menu_words = menu_words(ctx.content)
        data = self._menu_words.get(normalise_label(given.text))
        if data is None:
            return given
        return FlowInput("postback", data=postback.decode(data))


def _ttl(runner: Runner, state: State) -> timedelta:
    flow = runner.registry.flows.get(state.flow)
    return flow.ttl if flow else timedelta(minutes=30)


def _user_id(ctx: FlowContext) -> str:
    if ctx.resident.line_user_id is None:
        raise ValueError("resident without a LINE user id cannot converse")
    return ctx.resident.line_user_id
