"""The steps of the application, named once: the address steps lead into the form's."""

from __future__ import annotations

from enum import StrEnum


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


# Where each step with a computed `next` may lead: checked when the flow is built.
BRANCHES: dict[str, tuple[str, ...]] = {
    JoinStep.ASSOC_CONFIRM: (JoinStep.NAME, JoinStep.WARD),
    JoinStep.DISTRICT: (JoinStep.DISTRICT, JoinStep.TOWN),
    JoinStep.TOWN: (JoinStep.TOWN_CHOICE, JoinStep.NEARBY_CHOICE, JoinStep.NAME),
    JoinStep.TOWN_CHOICE: (JoinStep.TOWN, JoinStep.NAME),
    JoinStep.NEARBY_CHOICE: (JoinStep.TOWN, JoinStep.NAME),
    JoinStep.CONTACT: (JoinStep.PHONE, JoinStep.CONFIRM),
    JoinStep.CONFIRM: (JoinStep.NAME,),
}
