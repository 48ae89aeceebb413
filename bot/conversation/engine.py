"""A conversation declared as steps, advanced by a pure function of (flow, state, input, now).

Flows never talk to LINE or HTTP: `advance` returns what to say (`Say`, content keys) and the
next state; the runner persists the state and renders the replies in the resident's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

OptionKind = Literal["postback", "message", "location", "datetime", "uri"]
InputKind = Literal["text", "postback", "location", "other"]


@dataclass(frozen=True)
class Option:
    """One offered answer: a quick-reply chip or button."""

    label_key: str
    value: str = ""
    kind: OptionKind = "postback"
    label_params: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None  # already-localised label (e.g. a town name from data)
    uri: str | None = None


@dataclass(frozen=True)
class Say:
    """Something to tell the resident: a content key with parameters and offered answers."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    flow: str | None = None
    step: str | None = None
    flex: str | None = None  # name of a flex template under content/flex, rendered with params


@dataclass(frozen=True)
class FlowInput:
    """What the resident sent, reduced to what flows care about."""

    kind: InputKind
    text: str = ""
    data: Mapping[str, str] = field(default_factory=dict)  # parsed postback data
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)  # date-time picker result


class FlowError(ValueError):
    """A flow declared wrong (a step named twice, a `next` naming no step): fails at start-up."""


class Invalid(Exception):
    """A free-text answer could not be accepted; `reason_key` says why, politely."""

    def __init__(self, reason_key: str, **params: Any) -> None:
        super().__init__(reason_key)
        self.reason_key = reason_key
        self.params = params


Data = dict[str, Any]
OptionsFn = Callable[[Data, Any], Sequence[Option]]
ParseFn = Callable[[FlowInput, Data, Any], Any]
NextFn = Callable[[Any, Data], str | None]


@dataclass(frozen=True)
class Step:
    """One question. Answers come from `options` (tapped) or `parse` (typed or location)."""

    name: str
    prompt: str
    options: Sequence[Option] | OptionsFn = ()
    parse: ParseFn | None = None
    next: str | NextFn | None = None  # None: the flow is complete after this step
    prompt_params: Callable[[Data, Any], Mapping[str, Any]] | None = None
    skip_if: Callable[[Data, Any], bool] | None = None
    help_key: str | None = None
    max_text_length: int = 200


@dataclass(frozen=True)
class Flow:
    """A named conversation: ordered steps and what to do with the collected answers."""

    name: str
    steps: tuple[Step, ...]
    on_complete: Callable[[Any, Data], list[Say]]
    ttl: timedelta = timedelta(minutes=30)
    initial: Callable[[Any, Mapping[str, str]], Data] | None = None
    # Steps a `next` function may return: checked here, so a typo fails at start-up.
    branches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names or len(set(names)) != len(names):
            raise FlowError(f"flow {self.name!r}: steps must be named once each: {names}")
        for step in self.steps:
            targets = (
                (step.next,) if isinstance(step.next, str) else self.branches.get(step.name, ())
            )
            for target in targets:
                if target not in names:
                    raise FlowError(
                        f"flow {self.name!r}: step {step.name!r} leads to unknown {target!r}"
                    )

    def step(self, name: str) -> Step:
        """Look a step up by name."""
        for candidate in self.steps:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no step {name!r}")

    def following(self, step: Step, answer: Any, data: Data) -> str | None:
        """The step after `step`, given its answer; None when the flow is done."""
        if callable(step.next):
            return step.next(answer, data)
        return step.next


@dataclass(frozen=True)
class State:
    """A resident's place in a flow, as stored in the conversation table."""

    flow: str
    step: str
    data: Data
    history: tuple[str, ...]
    expires_at: datetime
    version: int = 0


@dataclass(frozen=True)
class Outcome:
    """What `advance` decided: replies, the next state (None = finished), completion data."""

    replies: list[Say]
    state: State | None
    completed: Data | None = None


def start(flow: Flow, ctx: Any, now: datetime, args: Mapping[str, str] | None = None) -> Outcome:
    """Begin a flow at its first step that is not skipped."""
    data: Data = dict(flow.initial(ctx, args or {})) if flow.initial else {}
    return _enter(flow, flow.steps[0].name, data, (), ctx, now)


def advance(flow: Flow, state: State, answer_input: FlowInput, ctx: Any, now: datetime) -> Outcome:
    """Apply one answer to the current step and move on, or re-ask when it does not fit."""
    step = flow.step(state.step)
    try:
        answer = _read_answer(flow, step, state, answer_input, ctx)
    except Invalid as bad:
        return Outcome(
            [Say(bad.reason_key, bad.params), prompt(flow, step, state.data, ctx)], state
        )
    data = {**state.data, step.name: answer}
    nxt = flow.following(step, answer, data)
    history = (*state.history, step.name)
    if nxt is None:
        return Outcome([], None, completed=data)
    return _enter(flow, nxt, data, history, ctx, now)


def back(flow: Flow, state: State, ctx: Any, now: datetime) -> Outcome:
    """Return to the previous question, forgetting its answer; at the first step, re-ask."""
    if not state.history:
        return Outcome([prompt(flow, flow.step(state.step), state.data, ctx)], state)
    previous = state.history[-1]
    data = {k: v for k, v in state.data.items() if k != previous}
    restored = replace(state, step=previous, data=data, history=state.history[:-1])
    step = flow.step(previous)
    return Outcome([prompt(flow, step, data, ctx)], _touch(restored, flow, now))


def reask(flow: Flow, state: State, ctx: Any, reason_key: str | None = None) -> Outcome:
    """Say why (optionally) and ask the current question again, changing nothing."""
    replies = [Say(reason_key)] if reason_key else []
    replies.append(prompt(flow, flow.step(state.step), state.data, ctx))
    return Outcome(replies, state)


def help_for(flow: Flow, state: State, ctx: Any) -> Outcome:
    """Explain the current question, then ask it again."""
    step = flow.step(state.step)
    return reask(flow, state, ctx, step.help_key or "common.help_in_flow")


def prompt(flow: Flow, step: Step, data: Data, ctx: Any) -> Say:
    """The question of `step`, with its options."""
    options = step.options(data, ctx) if callable(step.options) else step.options
    params = step.prompt_params(data, ctx) if step.prompt_params else {}
    return Say(step.prompt, params, tuple(options), flow=flow.name, step=step.name)


def _enter(
    flow: Flow, name: str, data: Data, history: tuple[str, ...], ctx: Any, now: datetime
) -> Outcome:
    step = flow.step(name)
    while step.skip_if and step.skip_if(data, ctx):
        nxt = flow.following(step, data.get(step.name), data)
        if nxt is None:
            return Outcome([], None, completed=data)
        step = flow.step(nxt)
    state = State(flow.name, step.name, data, history, now + flow.ttl)
    return Outcome([prompt(flow, step, data, ctx)], state)


def _touch(state: State, flow: Flow, now: datetime) -> State:
    return replace(state, expires_at=now + flow.ttl)


def _read_answer(flow: Flow, step: Step, state: State, given: FlowInput, ctx: Any) -> Any:
    options = step.options(state.data, ctx) if callable(step.options) else step.options
    if given.kind == "postback":
        if given.data.get("f") != flow.name or given.data.get("s") != step.name:
            raise Invalid("common.stale_button")
        value = given.data.get("v", "")
        if options and value not in {o.value for o in options if o.kind == "postback"}:
            raise Invalid("common.stale_button")
        return value
    if given.kind == "text" and len(given.text) > step.max_text_length:
        raise Invalid("common.too_long", limit=step.max_text_length)
    if given.kind == "text":
        typed = given.text.strip()
        for option in options:
            if option.kind in ("message", "postback") and typed and typed == option.value:
                return option.value
    if step.parse is not None and given.kind in ("text", "location"):
        return step.parse(given, state.data, ctx)
    if given.kind == "other" or given.kind == "location":
        raise Invalid("common.wrong_kind")
    raise Invalid("common.choose_option")
