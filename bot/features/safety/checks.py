"""Safety checks' rules: draft, preview the cost, send once, answer, counts, stages.

A check is sent at most once: `send` claims the draft with a conditional UPDATE that only one
transaction wins, snapshots the area's households into `safety_household`, and returns who
to push to (bot/features/safety/messages.py pushes under the key `safety:<id>`). Answers
update the household's one row, so every household counts once. Functions here return
plain results; flows, messages and pages turn them into words.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, insert, update
from sqlmodel import Session, col, select

from bot.core import residents
from bot.core.models.areas import Association, District
from bot.core.models.han import HanAssignment
from bot.core.models.households import Household
from bot.core.models.membership import Membership, MembershipStatus
from bot.features.safety.models import (
    ANSWERS,
    MAX_NOTE,
    AreaKind,
    SafetyCheck,
    SafetyHousehold,
    SafetyState,
)
from bot.platform.delivery.outbox import BATCH_SIZE

MAX_PEOPLE = 20


class SafetyError(ValueError):
    """A request the check cannot take (unknown area, already sent, closed)."""


def associations_in(session: Session, area_kind: str, area_id: int | None) -> list[int]:
    """The active associations of an area."""
    query = select(Association.id).where(col(Association.active).is_(True))
    if area_kind == AreaKind.ASSOCIATION:
        query = query.where(Association.id == area_id)
    elif area_kind == AreaKind.DISTRICT:
        query = query.where(Association.district_id == area_id)
    elif area_kind == AreaKind.WARD:
        query = query.join(District, col(District.id) == col(Association.district_id)).where(
            District.ward_id == area_id
        )
    elif area_kind != AreaKind.CITY:
        raise SafetyError(f"unknown area {area_kind!r}")
    return [int(a) for a in session.exec(query.order_by(col(Association.id))) if a]


def draft(
    session: Session,
    *,
    area_kind: str,
    area_id: int | None,
    template: str,
    visit_after: int,
    now: datetime,
    staff_id: int | None = None,
) -> SafetyCheck:
    """A check not sent yet; the officer and ward stages follow the 班長's at the same pace."""
    if not associations_in(session, area_kind, area_id):
        raise SafetyError("no association in the area")
    check = SafetyCheck(
        area_kind=area_kind,
        area_id=None if area_kind == AreaKind.CITY else area_id,
        template=template,
        visit_after_minutes=visit_after,
        officer_after_minutes=visit_after * 2,
        ward_after_minutes=visit_after * 3,
        created_by_staff_id=staff_id,
        created_at=now,
    )
    session.add(check)
    session.flush()
    return check


def _members(session: Session, association_ids: Sequence[int]) -> list[tuple[int, int, int | None]]:
    """(resident, association, household) of the approved members of the associations."""
    rows = session.exec(
        select(Membership.resident_id, Membership.association_id, Membership.household_id)
        .where(
            col(Membership.association_id).in_(list(association_ids)),
            Membership.status == MembershipStatus.APPROVED,
        )
        .order_by(col(Membership.resident_id))
    ).all()
    return [(int(r), int(a), h) for r, a, h in rows]


@dataclass(frozen=True)
class Preview:
    """What sending would reach and cost, before anything is sent."""

    associations: int
    households: int  # in the register, plus members not placed in one
    paper_households: int  # households no LINE member reaches (the 班長 visits them)
    recipients: int  # LINE users reached
    by_locale: dict[str, int]
    api_calls: int  # one multicast per 500 of a locale, /push for a locale of one
    quota_messages: int  # LINE counts one message per recipient


def preview(session: Session, check: SafetyCheck) -> Preview:
    """Reach and cost of sending `check` now (what `send` would snapshot and push)."""
    association_ids = associations_in(session, check.area_kind, check.area_id)
    members = _members(session, association_ids)
    locales = residents.reachable_locales(session, [m[0] for m in members], active_only=True)
    by_locale = Counter(locales.values())
    registered = session.exec(
        select(Household.id).where(col(Household.association_id).in_(association_ids))
    ).all()
    with_line = {h for r, _a, h in members if h is not None and r in locales}
    unplaced = {r for r, _a, h in members if h is None}
    calls = sum(math.ceil(n / BATCH_SIZE) if n > 1 else 1 for n in by_locale.values())
    return Preview(
        associations=len(association_ids),
        households=len(registered) + len(unplaced),
        paper_households=len([h for h in registered if h not in with_line]),
        recipients=len(locales),
        by_locale=dict(by_locale),
        api_calls=calls,
        quota_messages=len(locales),
    )


@dataclass(frozen=True)
class Sent:
    """A check just sent (`sent` False: it had been sent before), and who to push to."""

    check: SafetyCheck
    sent: bool
    resident_ids: list[int] = field(default_factory=list)


def send(session: Session, *, check_id: int, now: datetime) -> Sent:
    """Claim the draft, snapshot its households, return the LINE members to push to."""
    check = require(session, check_id)
    claimed = session.execute(
        update(SafetyCheck)
        .where(col(SafetyCheck.id) == check_id, col(SafetyCheck.sent_at).is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return Sent(check, False)
    session.refresh(check)
    association_ids = associations_in(session, check.area_kind, check.area_id)
    members = _members(session, association_ids)
    reachable = set(residents.reachable_locales(session, [m[0] for m in members], active_only=True))
    _snapshot(session, check, association_ids, members, reachable)
    recipients = [r for r, _a, _h in members if r in reachable]
    check.recipients = len(set(recipients))
    session.add(check)
    session.flush()
    return Sent(check, True, list(dict.fromkeys(recipients)))


def _snapshot(
    session: Session,
    check: SafetyCheck,
    association_ids: list[int],
    members: list[tuple[int, int, int | None]],
    reachable: set[int],
) -> None:
    on_line = {h for r, _a, h in members if h is not None and r in reachable}
    rows = [
        {
            "check_id": check.id,
            "association_id": a,
            "han": han,
            "household_id": h,
            "on_line": h in on_line,
            "state": SafetyState.NONE,
            "note": "",
        }
        for h, a, han in session.exec(
            select(Household.id, Household.association_id, Household.han).where(
                col(Household.association_id).in_(association_ids)
            )
        ).all()
    ]
    unplaced = {(r, a) for r, a, h in members if h is None}
    hans = _hans_of(session, [r for r, _a in unplaced])
    seen: set[int] = set()
    for r, a in sorted(unplaced):
        if r in seen:  # a member of two associations in the area answers once
            continue
        seen.add(r)
        rows.append(
            {
                "check_id": check.id,
                "association_id": a,
                "han": hans.get((r, a), ""),
                "resident_id": r,
                "on_line": r in reachable,
                "state": SafetyState.NONE,
                "note": "",
            }
        )
    for start in range(0, len(rows), 1000):
        session.execute(insert(SafetyHousehold), rows[start : start + 1000])
    check.households = len(rows)


def _hans_of(session: Session, resident_ids: list[int]) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    for start in range(0, len(resident_ids), 1000):
        chunk = resident_ids[start : start + 1000]
        for r, a, han in session.exec(
            select(
                HanAssignment.resident_id, HanAssignment.association_id, HanAssignment.han
            ).where(col(HanAssignment.resident_id).in_(chunk))
        ).all():
            found[(int(r), int(a))] = han
    return found


def require(session: Session, check_id: int) -> SafetyCheck:
    """The check, or SafetyError."""
    check = session.get(SafetyCheck, check_id)
    if check is None:
        raise SafetyError(f"no check {check_id}")
    return check


def open_check(session: Session, check_id: int) -> SafetyCheck:
    """A sent check still taking answers, or SafetyError."""
    check = require(session, check_id)
    if check.sent_at is None or check.closed_at is not None:
        raise SafetyError("check not open")
    return check


def latest_open_for(session: Session, association_id: int) -> int | None:
    """The newest sent, open check with a household of the association."""
    found = session.exec(
        select(SafetyCheck.id)
        .where(
            col(SafetyCheck.sent_at).is_not(None),
            col(SafetyCheck.closed_at).is_(None),
            select(SafetyHousehold.id)
            .where(
                SafetyHousehold.check_id == SafetyCheck.id,
                SafetyHousehold.association_id == association_id,
            )
            .exists(),
        )
        .order_by(col(SafetyCheck.sent_at).desc())
        .limit(1)
    ).first()
    return int(found) if found else None


def row_of(session: Session, check_id: int, resident_id: int) -> SafetyHousehold | None:
    """The household row a resident answers for: their household's, else their own."""
    households = select(Membership.household_id).where(
        Membership.resident_id == resident_id,
        Membership.status == MembershipStatus.APPROVED,
        col(Membership.household_id).is_not(None),
    )
    return session.exec(
        select(SafetyHousehold)
        .where(
            SafetyHousehold.check_id == check_id,
            col(SafetyHousehold.household_id).in_(households.scalar_subquery())
            | (col(SafetyHousehold.resident_id) == resident_id),
        )
        .order_by(col(SafetyHousehold.id))
        .limit(1)
    ).first()


def answer(
    session: Session, *, check_id: int, resident_id: int, state: str, now: datetime
) -> SafetyHousehold:
    """The household's answer (a second answer replaces the first); SafetyError when the
    check is closed or the resident's household is not in it."""
    if state not in ANSWERS:
        raise SafetyError(f"unknown answer {state!r}")
    open_check(session, check_id)
    row = row_of(session, check_id, resident_id)
    if row is None:
        raise SafetyError("not in this check")
    row.state, row.answered_at, row.answered_by = state, now, resident_id
    session.add(row)
    session.flush()
    return row


def set_people(
    session: Session, *, check_id: int, resident_id: int, people: int, now: datetime
) -> SafetyHousehold:
    """How many people the answer speaks for (1 to MAX_PEOPLE)."""
    if not 1 <= people <= MAX_PEOPLE:
        raise SafetyError("people out of range")
    open_check(session, check_id)
    row = row_of(session, check_id, resident_id)
    if row is None or row.state == SafetyState.NONE:
        raise SafetyError("answer first")
    row.people = people
    session.add(row)
    return row


def set_note(
    session: Session, *, check_id: int, resident_id: int, note: str, now: datetime
) -> SafetyHousehold:
    """A short note with the answer (what help is needed, where they went)."""
    open_check(session, check_id)
    row = row_of(session, check_id, resident_id)
    if row is None or row.state == SafetyState.NONE:
        raise SafetyError("answer first")
    row.note = " ".join(note.split())[:MAX_NOTE]
    session.add(row)
    return row


@dataclass
class HanCount:
    """One 班 of a check: households by state, and how many a 班長 visited."""

    association_id: int
    association: str
    han: str
    households: int = 0
    states: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in SafetyState})
    visited: int = 0

    @property
    def unanswered(self) -> int:
        """Households nobody has answered for."""
        return self.states[SafetyState.NONE]


@dataclass(frozen=True)
class Counts:
    """The whole check by state, and by 班 (what the live page and the printout show)."""

    households: int
    states: dict[str, int]
    visited: int
    by_han: list[HanCount]


def counts(session: Session, check_id: int) -> Counts:
    """Households by state, overall and per association and 班, in one grouped read."""
    names = dict(session.exec(select(Association.id, Association.name)).all())
    hans: dict[tuple[int, str], HanCount] = {}
    total: dict[str, int] = {s.value: 0 for s in SafetyState}
    visited = 0
    for a, han, state, seen, n in session.execute(
        select(  # type: ignore[call-overload]
            SafetyHousehold.association_id,
            SafetyHousehold.han,
            SafetyHousehold.state,
            col(SafetyHousehold.visited_at).is_not(None),
            func.count(),
        )
        .where(SafetyHousehold.check_id == check_id)
        .group_by(
            col(SafetyHousehold.association_id),
            col(SafetyHousehold.han),
            col(SafetyHousehold.state),
            col(SafetyHousehold.visited_at).is_not(None),
        )
    ).all():
        row = hans.setdefault((a, han), HanCount(a, names.get(a, ""), han))
        row.households += int(n)
        row.states[state] = row.states.get(state, 0) + int(n)
        total[state] = total.get(state, 0) + int(n)
        if seen:
            row.visited += int(n)
            visited += int(n)
    by_han = sorted(hans.values(), key=lambda h: (h.association, h.han == "", h.han))
    return Counts(sum(total.values()), total, visited, by_han)


def _help_unseen() -> ColumnElement[bool]:
    """助けが必要 that no visit has seen since it was given (a visit keeps `answered_at`
    from before it; a resident's later answer moves it past `visited_at`)."""
    return (col(SafetyHousehold.state) == SafetyState.HELP) & (
        col(SafetyHousehold.visited_at).is_(None)
        | (col(SafetyHousehold.answered_at) > col(SafetyHousehold.visited_at))
    )


def _to_visit() -> ColumnElement[bool]:
    """A household on its 班長's list: no answer, or 助けが必要 not seen by a visit."""
    return (col(SafetyHousehold.state) == SafetyState.NONE) | _help_unseen()


def to_visit(
    session: Session, *, check_id: int, association_id: int, han: str
) -> list[tuple[SafetyHousehold, Household | None]]:
    """The 班's households a 班長 should visit: no answer, or 助けが必要 not visited yet."""
    rows = session.exec(
        select(SafetyHousehold, Household)
        .outerjoin(Household, col(Household.id) == col(SafetyHousehold.household_id))
        .where(
            SafetyHousehold.check_id == check_id,
            SafetyHousehold.association_id == association_id,
            SafetyHousehold.han == han,
            _to_visit(),
        )
        .order_by(col(Household.key), col(SafetyHousehold.id))
    ).all()
    return [(r, h) for r, h in rows]


def record_visit(
    session: Session,
    *,
    check_id: int,
    row_id: int,
    association_id: int,
    han: str,
    state: str,
    visitor_id: int,
    now: datetime,
) -> SafetyHousehold:
    """A 班長 visited a household of their own 班 and found it safe, in need, or absent."""
    if state not in ANSWERS:
        raise SafetyError(f"unknown answer {state!r}")
    open_check(session, check_id)
    row = session.get(SafetyHousehold, row_id)
    if row is None or (row.check_id, row.association_id, row.han) != (
        check_id,
        association_id,
        han,
    ):
        raise SafetyError("not a household of this 班")
    row.state, row.visited_at, row.visited_by = state, now, visitor_id
    row.answered_at = row.answered_at or now
    row.help_told_at = None  # seen: a later 助けが必要 from the household is told again
    session.add(row)
    session.flush()
    return row


def close(session: Session, *, check_id: int, now: datetime) -> bool:
    """Stop taking answers (the counts stay); False when already closed or never sent."""
    done = session.execute(
        update(SafetyCheck)
        .where(
            col(SafetyCheck.id) == check_id,
            col(SafetyCheck.sent_at).is_not(None),
            col(SafetyCheck.closed_at).is_(None),
        )
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


STAGES = ("hancho_told_at", "officers_told_at", "ward_told_at")


_STAGE_MINUTES = {
    "hancho_told_at": "visit_after_minutes",
    "officers_told_at": "officer_after_minutes",
    "ward_told_at": "ward_after_minutes",
}


def due_stage(session: Session, *, stage: str, now: datetime) -> list[SafetyCheck]:
    """Open checks whose `stage` (a STAGES column) is due and not done yet."""
    found = session.exec(
        select(SafetyCheck).where(
            col(SafetyCheck.sent_at).is_not(None),
            col(SafetyCheck.closed_at).is_(None),
            col(getattr(SafetyCheck, stage)).is_(None),
        )
    ).all()
    return [c for c in found if c.sent_at and stage_at(c, stage) <= now]


def stage_at(check: SafetyCheck, stage: str) -> datetime:
    """When a stage of a sent check is due."""
    assert check.sent_at is not None
    return check.sent_at + timedelta(minutes=int(getattr(check, _STAGE_MINUTES[stage])))


def claim_stage(session: Session, check: SafetyCheck, stage: str, now: datetime) -> bool:
    """Mark the stage done; only one scheduler run wins it (the stage is told once)."""
    done = session.execute(
        update(SafetyCheck)
        .where(col(SafetyCheck.id) == check.id, col(getattr(SafetyCheck, stage)).is_(None))
        .values({stage: now})
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def hans_to_visit(session: Session, check_id: int) -> dict[tuple[int, str], int]:
    """(association, 班) → households to visit (no answer, or 助けが必要 not visited)."""
    out: dict[tuple[int, str], int] = defaultdict(int)
    for a, han, n in session.exec(
        select(SafetyHousehold.association_id, SafetyHousehold.han, func.count())
        .where(
            SafetyHousehold.check_id == check_id,
            _to_visit(),
        )
        .group_by(col(SafetyHousehold.association_id), col(SafetyHousehold.han))
    ).all():
        out[(int(a), han)] = int(n)
    return dict(out)


def help_to_tell(session: Session, check_id: int, now: datetime) -> dict[tuple[int, str], int]:
    """Claim the check's households that changed to 助けが必要 and whose 班 was not told of
    it yet: (association, 班) → how many. A claim is a conditional UPDATE per household, so
    two scheduler runs tell each change once; a household that stopped being one to visit
    (answered otherwise, or visited) is unclaimed first, so its next 助けが必要 is told too."""
    session.execute(
        update(SafetyHousehold)
        .where(
            col(SafetyHousehold.check_id) == check_id,
            col(SafetyHousehold.help_told_at).is_not(None),
            ~_help_unseen(),
        )
        .values(help_told_at=None)
        .execution_options(synchronize_session=False)
    )
    out: dict[tuple[int, str], int] = defaultdict(int)
    for row_id, a, han in session.exec(
        select(SafetyHousehold.id, SafetyHousehold.association_id, SafetyHousehold.han).where(
            SafetyHousehold.check_id == check_id,
            col(SafetyHousehold.help_told_at).is_(None),
            _help_unseen(),
        )
    ).all():
        claimed = session.execute(
            update(SafetyHousehold)
            .where(
                col(SafetyHousehold.id) == row_id,
                col(SafetyHousehold.help_told_at).is_(None),
                col(SafetyHousehold.state) == SafetyState.HELP,
            )
            .values(help_told_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount:  # type: ignore[attr-defined]
            out[(int(a), han)] += 1
    return dict(out)


def open_sent(session: Session) -> list[SafetyCheck]:
    """Checks sent and still taking answers."""
    return list(
        session.exec(
            select(SafetyCheck).where(
                col(SafetyCheck.sent_at).is_not(None), col(SafetyCheck.closed_at).is_(None)
            )
        ).all()
    )


def unanswered_hans(session: Session, check_id: int) -> dict[int, list[tuple[str, int]]]:
    """association → [(班, households with no answer)] for 班 that still have some."""
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for a, han, n in session.exec(
        select(SafetyHousehold.association_id, SafetyHousehold.han, func.count())
        .where(
            SafetyHousehold.check_id == check_id,
            SafetyHousehold.state == SafetyState.NONE,
        )
        .group_by(col(SafetyHousehold.association_id), col(SafetyHousehold.han))
        .order_by(col(SafetyHousehold.han))
    ).all():
        out[int(a)].append((han, int(n)))
    return dict(out)
