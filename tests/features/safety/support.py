"""An association of two 班 of five households each: households 1-3 on LINE (household 1
with two LINE members), 4-5 on paper only; household 1's first member leads the 班; an
officer lives in 2班's household 3. Residents are `uid(f"r{han}{n}")` (and `r11b`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bot.core import han as hancho
from bot.core import households as register
from bot.core.models.households import Household, HouseholdSource, Reach
from bot.core.models.membership import Membership, Officer
from bot.db import session_scope
from tests.builders import T0, add_member, make_area


@dataclass
class Town:
    """Ids of the test association and its households."""

    association: int
    other: int
    households: dict[str, int]  # "1-1" … "2-5" → household id
    residents: dict[str, int]  # "r11", "r11b", … → resident id


def _household(db: Any, association: int, han: int, n: int, on_line: bool) -> Household:
    row = Household(
        association_id=association,
        han=f"{han}班",
        address=f"本町{han}-{n}",
        contact_name=f"住民{han}{n}",
        reach=Reach.BOTH if on_line else Reach.PAPER,
        key=f"本町{han}-{n}",
        source=HouseholdSource.ROSTER,
        created_at=T0,
        updated_at=T0,
    )
    db.add(row)
    db.flush()
    return row


def _link(engine: Any, resident: int, household: int) -> int:
    """The member lives in the household (as approval does it: name, room, 班)."""
    with session_scope(engine) as db:
        membership = db.exec(select(Membership).where(Membership.resident_id == resident)).one()
        row = db.get(Household, household)
        assert row is not None
        membership.household_id = household
        membership.room, membership.full_name = row.address, row.contact_name
        db.add(membership)
        db.flush()
        register.sync_han(db, row)
        return int(membership.id or 0)


def two_han_town(engine: Any) -> Town:
    """The association described in the module docstring (and an empty second one)."""
    a, other = make_area(engine)
    households: dict[str, int] = {}
    with session_scope(engine) as db:
        for han in (1, 2):
            for n in range(1, 6):
                households[f"{han}-{n}"] = int(_household(db, a, han, n, n <= 3).id or 0)
    residents: dict[str, int] = {}
    for han in (1, 2):
        for n in range(1, 4):
            name = f"r{han}{n}"
            residents[name] = add_member(engine, a, name)
            membership_id = _link(engine, residents[name], households[f"{han}-{n}"])
            if n == 1:
                with session_scope(engine) as db:
                    hancho.designate(db, association_id=a, membership_id=membership_id,
                                     han=f"{han}班", now=T0, staff="officer")  # fmt: skip
    residents["r11b"] = add_member(engine, a, "r11b")
    _link(engine, residents["r11b"], households["1-1"])
    with session_scope(engine) as db:
        db.add(Officer(resident_id=residents["r23"], association_id=a, linked_at=T0))
    return Town(a, other, households, residents)
