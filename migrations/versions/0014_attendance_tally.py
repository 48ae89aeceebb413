"""attendance_tally and event_attendance: events attended per resident and host association
(and the first one's start), check-ins and first-timers per event, for 参加の広がり and the
council report

Both read every check-in of the city per request (the busiest 10 %'s share and the
first-timers; bench/bench_staff.py, issue 18). This table holds the per-resident counts,
kept in step by bot/features/events/attendance_tally.py, and is filled here from what exists.

Revision ID: 0014_attendance_tally
Revises: 0013_survey_tally
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.columns

revision: str = "0014_attendance_tally"
down_revision: str | None = "0013_survey_tally"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same statement as attendance_tally.rebuild (a migration must not import the model).
BACKFILL = (
    "INSERT INTO attendance_tally (resident_id, association_key, attended, first_starts_at) "
    "SELECT c.resident_id, coalesce(e.association_id, 0), count(*), min(e.starts_at) "
    "FROM check_in c JOIN event e ON e.id = c.event_id "
    "GROUP BY c.resident_id, coalesce(e.association_id, 0)"
)
# As attendance_tally.recount_events: first-timers had no check-in at an earlier event.
BACKFILL_EVENTS = (
    "INSERT INTO event_attendance (event_id, checked_in, first_timers) "
    "SELECT e.id, count(*), sum(CASE WHEN NOT EXISTS (SELECT 1 FROM attendance_tally t "
    "WHERE t.resident_id = c.resident_id AND t.first_starts_at < e.starts_at) THEN 1 ELSE 0 END) "
    "FROM event e JOIN check_in c ON c.event_id = e.id GROUP BY e.id"
)


def upgrade() -> None:
    op.create_table(
        "attendance_tally",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("association_key", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("first_starts_at", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("resident_id", "association_key"),
    )
    op.create_index("ix_attendance_tally_association_key", "attendance_tally", ["association_key"])
    op.create_table(
        "event_attendance",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("checked_in", sa.Integer(), nullable=False),
        sa.Column("first_timers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.execute(BACKFILL)
    op.execute(BACKFILL_EVENTS)


def downgrade() -> None:
    op.drop_table("event_attendance")
    op.drop_index("ix_attendance_tally_association_key", table_name="attendance_tally")
    op.drop_table("attendance_tally")
