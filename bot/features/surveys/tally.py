"""Keeps `survey_tally` in step with `survey_answer`, like a trigger but for both databases.

Result pages read answers per (wave, question, option, channel, district, association) from
the tally instead of regrouping every answer of the waves shown on each request (issue 18's
benchmark). Every flush that adds, changes or deletes a SurveyAnswer through the ORM adds its
deltas in the same transaction (an upsert that adds, so concurrent writers lose no count;
rows are touched in key order so two transactions cannot deadlock on them). Erasing a
resident only unlinks `resident_id`, which is not part of the key, so the counts stay.
Writes that bypass the unit of work (bulk `update()`/`insert()`, raw SQL) must call
`apply_deltas` themselves or `rebuild` afterwards, as the bench does after its bulk load.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, event, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.core.flush_history import values_before_delete, values_before_flush
from bot.features.surveys.models import AnswerChannel, SurveyAnswer, SurveyTally

# (wave, question, option, channel, district or 0, association or 0)
Key = tuple[int, str, str, str, int, int]
NONE = 0  # no district / no association in a key column
# The tally's key columns, in the order of Key: its unique index, and what `rebuild` fills.
KEY_COLUMNS = ("wave_id", "question_id", "option_id", "channel", "district_id", "association_id")
_TRACKED = (
    "wave_id",
    "question_id",
    "option_id",
    "channel",
    "entered_by_resident_id",
    "district_id",
    "association_id",
)


def channel_of(channel: str, by_hancho: bool) -> str:
    """The reporting channel: line, hancho (paper typed in by a 班長) or proxy (by staff)."""
    if channel != AnswerChannel.PAPER:
        return "line"
    return "hancho" if by_hancho else "proxy"


def key_of(values: dict[str, Any]) -> Key:
    """The tally key of an answer's column values."""
    return (
        int(values["wave_id"]),
        str(values["question_id"]),
        str(values["option_id"]),
        channel_of(str(values["channel"]), values["entered_by_resident_id"] is not None),
        int(values["district_id"] or NONE),
        int(values["association_id"] or NONE),
    )


def apply_deltas(connection: Connection, deltas: Iterable[tuple[Key, int]]) -> None:
    """Add each delta to its tally row, creating the row if needed."""
    merged: Counter[Key] = Counter()
    for key, n in deltas:
        merged[key] += n
    table = SurveyTally.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared; SQLAlchemy sets it
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for key, n in sorted(merged.items()):
        if n == 0:
            continue
        stmt = insert(table).values(**dict(zip(KEY_COLUMNS, key, strict=True)), answers=n)
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=list(KEY_COLUMNS),
                set_={"answers": table.c.answers + n},
            )
        )


def regroup() -> Any:
    """SELECT of the tally's columns computed afresh from `survey_answer` (for `rebuild`, the
    migration's backfill and the tests that compare the two)."""
    a = SurveyAnswer.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared; SQLAlchemy sets it
    paper = a.c.channel == AnswerChannel.PAPER.value
    channel: ColumnElement[str] = case(
        (paper & a.c.entered_by_resident_id.is_not(None), literal("hancho")),
        (paper, literal("proxy")),
        else_=literal("line"),
    )
    district = func.coalesce(a.c.district_id, NONE)
    association = func.coalesce(a.c.association_id, NONE)
    return select(
        a.c.wave_id,
        a.c.question_id,
        a.c.option_id,
        channel.label("channel"),
        district.label("district_id"),
        association.label("association_id"),
        func.count().label("answers"),
    ).group_by(a.c.wave_id, a.c.question_id, a.c.option_id, channel, district, association)


def rebuild(connection: Connection) -> None:
    """Recount every row from `survey_answer` (after bulk loads that bypassed the ORM)."""
    table = SurveyTally.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared; SQLAlchemy sets it
    connection.execute(delete(table))
    connection.execute(
        table.insert().from_select(
            [*KEY_COLUMNS, "answers"],
            regroup(),
        )
    )


def _values(row: SurveyAnswer) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _TRACKED}


@event.listens_for(Session, "before_flush")
def _track_answers(session: Session, _context: object, _instances: object) -> None:
    deltas: Counter[Key] = Counter()
    for row in session.new:
        if isinstance(row, SurveyAnswer):
            deltas[key_of(_values(row))] += 1
    for row in session.dirty:
        if isinstance(row, SurveyAnswer) and session.is_modified(row):
            old = values_before_flush(session, row, _TRACKED)
            if old is not None and key_of(old) != key_of(_values(row)):
                deltas[key_of(old)] -= 1
                deltas[key_of(_values(row))] += 1
    for row in session.deleted:
        if isinstance(row, SurveyAnswer):
            deltas[key_of(values_before_delete(row, _TRACKED))] -= 1
    if deltas:
        apply_deltas(session.connection(), deltas.items())
