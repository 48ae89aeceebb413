"""Issue 18: the kept attendance counts (attendance_tally, event_attendance) equal a fresh count
from the check-ins after check-ins, a double scan, an earlier event entered later, a tie,
walk-ins, a check-in undone, an event moved and a resident erased; and the migration's
backfill and `rebuild` give the same rows. The fresh count is worked out here in Python."""

from __future__ import annotations

import importlib.util
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select

from bot.clock import as_utc
from bot.core.erasure import erase_resident
from bot.core.models.residents import Resident
from bot.core.models.staff import StaffRole
from bot.core.scope import Scope
from bot.db import session_scope
from bot.features.events import attendance_tally, checkin
from bot.features.events.events import update_event
from bot.features.events.models import AttendanceTally, CheckIn, Event, EventAttendance
from bot.features.events.staff.diversity_view import busiest_share, diversity_table
from tests.staff.conftest import START, City

MIGRATION = Path(__file__).parents[3] / "migrations" / "versions" / "0014_attendance_tally.py"
TOKYO = ZoneInfo("Asia/Tokyo")
Tally = dict[tuple[int, int], tuple[int, datetime]]  # (resident, association) → (n, first)
PerEvent = dict[int, tuple[int, int]]  # event → (checked in, first-timers)


def _fresh(db: Session) -> tuple[Tally, PerEvent]:
    """(resident, association key) → (attended, first start); event → (checked in, first-timers)."""
    starts = {e.id: (e.association_id or 0, as_utc(e.starts_at)) for e in db.exec(select(Event))}
    rows = [(c.resident_id, c.event_id) for c in db.exec(select(CheckIn))]
    tally: Tally = {}
    for resident_id, event_id in rows:
        key, start = starts[event_id]
        n, first = tally.get((resident_id, key), (0, start))
        tally[(resident_id, key)] = (n + 1, min(first, start))
    per_event: PerEvent = {}
    for resident_id, event_id in rows:
        start = starts[event_id][1]
        earlier = any(r == resident_id and starts[e][1] < start for r, e in rows)
        n, first = per_event.get(event_id, (0, 0))
        per_event[event_id] = (n + 1, first + (0 if earlier else 1))
    return tally, per_event


def _kept(db: Session) -> tuple[Tally, PerEvent]:
    tally = {
        (t.resident_id, t.association_key): (t.attended, as_utc(t.first_starts_at))
        for t in db.exec(select(AttendanceTally))
        if t.attended
    }
    per_event = {
        e.event_id: (e.checked_in, e.first_timers)
        for e in db.exec(select(EventAttendance))
        if e.checked_in
    }
    return tally, per_event


def _same(engine: Engine) -> tuple[Tally, PerEvent]:
    with session_scope(engine) as db:
        fresh, kept = _fresh(db), _kept(db)
    assert kept == fresh
    return fresh


def _resident(db: Session, n: int) -> int:
    row = Resident(line_user_id=f"U{n:032x}", followed_at=START)
    db.add(row)
    db.flush()
    return int(row.id or 0)


def _event(db: Session, association_id: int | None, days: int, title: str) -> int:
    row = Event(
        association_id=association_id,
        title=title,
        starts_at=START + timedelta(days=days),
        ends_at=START + timedelta(days=days, hours=2),
        status="published",
        checkin_code=f"code-{title}",
    )
    db.add(row)
    db.flush()
    return int(row.id or 0)


def _attend(engine: Engine, event_id: int, *residents: int) -> list[bool]:
    with session_scope(engine) as db:
        return [
            checkin.mark_attended(db, event_id=event_id, resident_id=r, now=START)
            for r in residents
        ]


def test_kept_counts_equal_a_fresh_count(engine: Engine, city: City) -> None:
    _same(engine)  # the fixture's three check-ins (one per association, same start)
    with session_scope(engine) as db:
        people = [_resident(db, n) for n in range(1, 6)]
        later_a = _event(db, city.a, 10, "a10")
        later_b = _event(db, city.b, 20, "b20")
        tie_b = _event(db, city.b, 10, "b10")  # starts with a10: first at both counts twice
        city_wide = _event(db, None, 30, "all30")
    p1, p2, p3, p4, p5 = people
    assert _attend(engine, later_a, p1, p2, p3) == [True, True, True]
    assert _attend(engine, later_a, p1) == [False]  # a double scan counts once
    assert _attend(engine, later_b, p1, p4) == [True, True]
    _, per_event = _same(engine)
    assert per_event[later_a] == (3, 3) and per_event[later_b] == (2, 1)
    assert _attend(engine, tie_b, p1) == [True]  # same start as p1's first: first-timer too
    assert _attend(engine, city_wide, p1, p5) == [True, True]
    tally, per_event = _same(engine)
    assert per_event[tie_b] == (1, 1) and per_event[later_a] == (3, 3)
    assert tally[(p1, city.b)] == (2, START + timedelta(days=10))
    assert tally[(p5, 0)] == (1, START + timedelta(days=30))

    # An earlier event entered afterwards: p4's first moves from b20 to it.
    with session_scope(engine) as db:
        early = _event(db, city.a, 5, "a5")
    _attend(engine, early, p4, p2)
    _, per_event = _same(engine)
    assert per_event[later_b] == (2, 0) and per_event[early] == (2, 2)
    assert per_event[later_a] == (3, 2)  # p2's first is now a5

    # Walk-ins are counted apart (no names): the kept counts stay as they are.
    with session_scope(engine) as db:
        checkin.record_walk_ins(db, event_id=later_a, adults=2, children=1, now=START)
    _same(engine)

    # A check-in undone: p2 at a5 goes, a10 is p2's first again.
    with session_scope(engine) as db:
        row = db.exec(
            select(CheckIn).where(CheckIn.event_id == early, CheckIn.resident_id == p2)
        ).one()
        db.delete(row)
    _, per_event = _same(engine)
    assert per_event[early] == (1, 1) and per_event[later_a] == (3, 3)

    # An event moved before everything: its attendees' firsts move with it.
    with session_scope(engine) as db:
        update_event(
            db,
            event_id=city_wide,
            changes={"starts_at": START - timedelta(days=1), "ends_at": START},
            now=START,
        )
    _, per_event = _same(engine)
    assert per_event[city_wide] == (2, 2) and per_event[tie_b] == (1, 0)

    # A resident erased: attendance stays as counts, so the kept numbers do not change.
    with session_scope(engine) as db:
        erase_resident(db, db.get(Resident, p1), START)  # type: ignore[arg-type]
    fresh = _same(engine)

    # The pages read them: busiest share and the event table equal the fresh count.
    with session_scope(engine) as db:
        scope = Scope(role=StaffRole.CITY_ADMIN)
        per_resident: Counter[int] = Counter()
        for (resident_id, _key), (n, _first) in fresh[0].items():
            per_resident[resident_id] += n
        counts = sorted(per_resident.values(), reverse=True)
        top = max(1, -(-len(counts) // 10))
        assert busiest_share(db, scope) == (
            sum(counts[:top]) / sum(counts),
            len(counts),
            sum(counts),
        )
        rows = diversity_table(db, scope, TOKYO).rows
        assert {r["event_id"]: (r["checked_in"], r["first_timers"]) for r in rows} == fresh[1]


def _backfill() -> tuple[str, str]:
    spec = importlib.util.spec_from_file_location("m0014", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BACKFILL, module.BACKFILL_EVENTS


def test_backfill_and_rebuild_count_what_exists(engine: Engine, city: City) -> None:
    with session_scope(engine) as db:
        people = [_resident(db, n) for n in range(1, 4)]
        first = _event(db, city.a, 3, "a3")
        second = _event(db, city.b, 9, "b9")
    _attend(engine, second, *people)
    _attend(engine, first, people[0])
    expected = _same(engine)
    with engine.begin() as conn:  # as an existing database before migration 0014
        conn.execute(delete(EventAttendance))
        conn.execute(delete(AttendanceTally))
        for statement in _backfill():
            conn.execute(text(statement))
    assert _same(engine) == expected
    with engine.begin() as conn:
        attendance_tally.rebuild(conn)
    assert _same(engine) == expected
    with session_scope(engine) as db:
        assert db.get(EventAttendance, second).first_timers == 2  # type: ignore[union-attr]
