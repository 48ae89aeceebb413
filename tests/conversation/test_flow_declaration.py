"""Flows are checked when they are built: a step named twice or a `next` naming no step fails
at start-up (and here), not when a resident reaches it."""

from __future__ import annotations

import pytest

from bot.conversation.engine import Flow, FlowError, Step
from bot.wiring import build_registry


def _done(ctx: object, data: object) -> list:
    return []


def test_every_flow_the_bot_offers_is_well_formed() -> None:
    registry = build_registry()
    assert {"join", "language"} <= set(registry.flows)
    for flow in registry.flows.values():
        for step in flow.steps:
            if isinstance(step.next, str):
                assert flow.step(step.next).name == step.next


def test_a_next_naming_no_step_fails_when_the_flow_is_built() -> None:
    with pytest.raises(FlowError, match="'nmae'"):
        Flow("f", (Step("town", "p", next="nmae"), Step("name", "p")), _done)


def test_a_branch_naming_no_step_fails_when_the_flow_is_built() -> None:
    steps = (Step("town", "p", next=lambda answer, data: "name"), Step("name", "p"))
    Flow("f", steps, _done, branches={"town": ("name",)})
    with pytest.raises(FlowError, match="'room'"):
        Flow("f", steps, _done, branches={"town": ("name", "room")})


def test_a_step_named_twice_fails_when_the_flow_is_built() -> None:
    with pytest.raises(FlowError, match="named once"):
        Flow("f", (Step("name", "p", next="name"), Step("name", "q")), _done)


def test_the_application_declares_where_each_computed_step_may_lead() -> None:
    """The address steps lead into the form's (`name`): a rename on either side fails here."""
    flow = build_registry().flows["join_apply"]
    computed = {step.name for step in flow.steps if callable(step.next)}
    assert computed and computed <= set(flow.branches)
