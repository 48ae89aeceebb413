"""The steps of the application, named once: the address steps lead into the form's."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any


class JoinStep(StrEnum):
    """Step names of the application flow (also the keys of its answers)."""

    ASSOC_CONFIRM = "assoc_confirm"
    WARD = "ward"
    DISTRICT = "district"
    TOWN = "town"
    TOWN_CHOICE = "town_choice"
    NEARBY_CHOICE = "nearby_choice"
    NAME = "name"
    HOUSEHOLD = "household"
    ROOM = "room"
    CONTACT = "contact"
    PHONE = "phone"
    CONFIRM = "confirm"
    FIX = "fix"  # 修正する: which answer to change, then straight back to CONFIRM


# Where each step with a computed `next` may lead: checked when the flow is built.
BRANCHES: dict[str, tuple[str, ...]] = {
    JoinStep.ASSOC_CONFIRM: (JoinStep.NAME, JoinStep.WARD, JoinStep.CONFIRM),
    JoinStep.DISTRICT: (JoinStep.DISTRICT, JoinStep.TOWN),
    JoinStep.TOWN: (JoinStep.TOWN_CHOICE, JoinStep.NEARBY_CHOICE, JoinStep.NAME, JoinStep.CONFIRM),
    JoinStep.TOWN_CHOICE: (JoinStep.TOWN, JoinStep.NAME, JoinStep.CONFIRM),
    JoinStep.NEARBY_CHOICE: (JoinStep.TOWN, JoinStep.NAME, JoinStep.CONFIRM),
    JoinStep.NAME: (JoinStep.HOUSEHOLD, JoinStep.CONFIRM),
    JoinStep.HOUSEHOLD: (JoinStep.ROOM, JoinStep.CONFIRM),
    JoinStep.ROOM: (JoinStep.CONTACT, JoinStep.CONFIRM),
    JoinStep.CONTACT: (JoinStep.PHONE, JoinStep.CONFIRM),
    JoinStep.CONFIRM: (
        JoinStep.FIX,
        JoinStep.WARD,
        JoinStep.NAME,
        JoinStep.HOUSEHOLD,
        JoinStep.ROOM,
        JoinStep.CONTACT,
        JoinStep.PHONE,
    ),
    JoinStep.FIX: (
        JoinStep.WARD,
        JoinStep.TOWN,
        JoinStep.NAME,
        JoinStep.HOUSEHOLD,
        JoinStep.ROOM,
        JoinStep.CONTACT,
    ),
}


def then(target: str) -> Callable[[Any, dict[str, Any]], str]:
    """`next` of a step: `target`, or back to the summary once the resident has seen it (they
    are correcting one answer, or one that 戻る took away)."""

    def following(_answer: Any, data: dict[str, Any]) -> str:
        return JoinStep.CONFIRM if data.get(JoinStep.FIX) or data.get(JoinStep.CONFIRM) else target

    return following
