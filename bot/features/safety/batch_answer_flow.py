"""Safety answers in a surge: many 無事 / 助けが必要 / 不在・避難中 taps in one transaction.

After an earthquake every household answers in the same minutes. The processor hands the
pending `sfa` taps to `answer_batch` together (bot/conversation/batch.py); it resolves them
with two prebuilt statements for the whole batch — the residents' households, then the row
of an open check each resident answers for (their approved membership's household, else
their own row: the same rule as `checks.row_of`) — and one executemany UPDATE of those rows, in the
transaction that finishes the events. The rules stay those of `checks.answer`: the last
answer counts, anyone of the household may give it. A tap it cannot record (forged data, a
closed or unknown check, a resident not in the check) is declined with None and goes to
`answer_flow.on_answer`, which changes nothing and gives the standard answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, literal, select, union_all, update
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
# Two steps rather than a join of memberships to rows: given that join, SQLite walks every
# row of the check (30,000 in a city) and looks each up in the memberships, for every batch.
_HOUSEHOLDS = select(_MEMBERS.c.resident_id, _MEMBERS.c.household_id).where(
    _MEMBERS.c.resident_id.in_(bindparam("residents", expanding=True)),
    _MEMBERS.c.status == MembershipStatus.APPROVED.value,
    _MEMBERS.c.household_id.is_not(None),
)
_OPEN_ROWS = _ROWS.join(
    _CHECKS,
    (_CHECKS.c.id == _ROWS.c.check_id)
    & _CHECKS.c.sent_at.is_not(None)
    & _CHECKS.c.closed_at.is_(None),
)
# The rows of open checks that the batch's households and residents answer for: each part
# is a lookup in one of the rows' unique (check, household) and (check, resident) indexes.
_ROWS_OF = union_all(
    select(literal(True).label("by_household"), _ROWS.c.household_id, _ROWS.c.check_id, _ROWS.c.id)
    .select_from(_OPEN_ROWS)
    .where(
        _ROWS.c.check_id.in_(bindparam("checks", expanding=True)),
        _ROWS.c.household_id.in_(bindparam("households", expanding=True)),
    ),
    select(literal(False), _ROWS.c.resident_id, _ROWS.c.check_id, _ROWS.c.id)
    .select_from(_OPEN_ROWS)
    .where(
        _ROWS.c.check_id.in_(bindparam("checks", expanding=True)),
        _ROWS.c.resident_id.in_(bindparam("residents", expanding=True)),
    ),
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
    rows = _rows_of(session, sorted({t.resident_id for t in taps}), wanted)
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
    """(resident, check) -> the row they answer for in an open check: the lowest id among
    their households' rows and their own, as `checks.row_of` picks it."""
    found: dict[tuple[int, int], int] = {}
    members: dict[int, list[int]] = {}
    for resident, household in session.execute(_HOUSEHOLDS, {"residents": resident_ids}).all():
        members.setdefault(int(household), []).append(int(resident))
    params = {"checks": check_ids, "households": sorted(members), "residents": resident_ids}
    for by_household, owner, check, row in session.execute(_ROWS_OF, params).all():
        for resident in members[int(owner)] if by_household else [int(owner)]:
            key = (resident, int(check))
            found[key] = min(found.get(key, int(row)), int(row))
    return found
