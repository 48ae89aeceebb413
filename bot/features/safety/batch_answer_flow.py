"""Safety answers in a surge: many 無事 / 助けが必要 / 不在・避難中 taps in one transaction.

After an earthquake every household answers in the same minutes. The processor hands the
pending `sfa` taps to `answer_batch` together (bot/conversation/batch.py); it resolves them
with three prebuilt statements for the whole batch — which checks are open, which household
row each resident answers for (their approved membership's household, else their own row:
the same rule as `checks.row_of`) — and one executemany UPDATE of those rows, in the
transaction that finishes the events. The rules stay those of `checks.answer`: the last
answer counts, anyone of the household may give it. A tap it cannot record (forged data, a
closed or unknown check, a resident not in the check) is declined with None and goes to
`answer_flow.on_answer`, which changes nothing and gives the standard answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from bot.conversation.actions import Forged
from bot.conversation.batch import Tap
from bot.conversation.engine import Say
from bot.conversation.registry import Registry
from bot.core.models.membership import Membership, MembershipStatus
from bot.features.safety.answer_flow import SafetyAnswer, recorded
from bot.features.safety.models import SafetyCheck, SafetyHousehold

_CHECKS = SafetyCheck.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_ROWS = SafetyHousehold.__table__  # type: ignore[attr-defined]
_MEMBERS = Membership.__table__  # type: ignore[attr-defined]

# Built once: they run for every batch of a surge.
_OPEN = select(_CHECKS.c.id).where(
    _CHECKS.c.id.in_(bindparam("checks", expanding=True)),
    _CHECKS.c.sent_at.is_not(None),
    _CHECKS.c.closed_at.is_(None),
)
# Two steps rather than a join: given a join, SQLite walks every row of the check (30,000
# in a city) and looks each up in the memberships, for every batch.
_HOUSEHOLDS = select(_MEMBERS.c.resident_id, _MEMBERS.c.household_id).where(
    _MEMBERS.c.resident_id.in_(bindparam("residents", expanding=True)),
    _MEMBERS.c.status == MembershipStatus.APPROVED.value,
    _MEMBERS.c.household_id.is_not(None),
)
_BY_HOUSEHOLD = select(_ROWS.c.household_id, _ROWS.c.check_id, _ROWS.c.id).where(
    _ROWS.c.check_id.in_(bindparam("checks", expanding=True)),
    _ROWS.c.household_id.in_(bindparam("households", expanding=True)),
)
_BY_RESIDENT = select(_ROWS.c.resident_id, _ROWS.c.check_id, _ROWS.c.id).where(
    _ROWS.c.resident_id.in_(bindparam("residents", expanding=True)),
    _ROWS.c.check_id.in_(bindparam("checks", expanding=True)),
)
_ANSWER = (
    update(_ROWS)
    .where(_ROWS.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"), answered_at=bindparam("b_at"), answered_by=bindparam("b_by")
    )
)


def register(registry: Registry) -> None:
    """Let the processor hand over answer taps in batches."""
    registry.on_batch(SafetyAnswer, answer_batch)


def answer_batch(session: Session, taps: Sequence[Tap], now: datetime) -> list[list[Say] | None]:
    """Record each tap's answer on its household's row; None for a tap it cannot record."""
    answers: list[SafetyAnswer | None] = []
    for tap in taps:
        try:
            answers.append(SafetyAnswer.decode(tap.data))
        except Forged:
            answers.append(None)
    wanted = sorted({a.check_id for a in answers if a is not None})
    if not wanted:
        return [None] * len(taps)
    open_ids = [int(c) for c in session.execute(_OPEN, {"checks": wanted}).scalars()]
    rows = _rows_of(session, sorted({t.resident_id for t in taps}), open_ids)
    updates: list[dict[str, object]] = []
    out: list[list[Say] | None] = []
    for tap, answer in zip(taps, answers, strict=True):
        row = None if answer is None else rows.get((tap.resident_id, answer.check_id))
        if answer is None or row is None:
            out.append(None)
            continue
        # In tap order: two of a household in one batch leave the later answer, as one by one.
        updates.append({"b_id": row, "b_state": answer.state, "b_at": now, "b_by": tap.resident_id})
        out.append(recorded(answer.check_id, answer.state))
    if updates:
        session.execute(_ANSWER, updates)
    return out


def _rows_of(
    session: Session, resident_ids: list[int], check_ids: list[int]
) -> dict[tuple[int, int], int]:
    """(resident, check) -> the row they answer for: the lowest id among their households'
    rows and their own, as `checks.row_of` picks it."""
    if not check_ids or not resident_ids:
        return {}
    found: dict[tuple[int, int], int] = {}

    def keep(resident: int, check: int, row: int) -> None:
        key = (resident, check)
        found[key] = min(found.get(key, row), row)

    members: dict[int, list[int]] = {}
    for resident, household in session.execute(_HOUSEHOLDS, {"residents": resident_ids}).all():
        members.setdefault(int(household), []).append(int(resident))
    if members:
        params = {"checks": check_ids, "households": sorted(members)}
        for household, check, row in session.execute(_BY_HOUSEHOLD, params).all():
            for resident in members[int(household)]:
                keep(resident, int(check), int(row))
    params = {"residents": resident_ids, "checks": check_ids}
    for resident, check, row in session.execute(_BY_RESIDENT, params).all():
        keep(int(resident), int(check), int(row))
    return found
