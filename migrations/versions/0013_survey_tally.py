"""survey_tally: answers per wave, question, option, channel, district and association; and
the association an answer was given in

The indicator pages regrouped every answer of the waves shown on each request (a scan that
grows with the answers; bench/bench_staff.py, issue 18). This table holds the counts, kept
in step on every write by bot/features/surveys/tally.py, and is filled here from the answers
that exist. Answers stored before this revision recorded no association (none is guessed for
them: the respondent's membership at answer time is not known).

Revision ID: 0013_survey_tally
Revises: 0012_safety
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013_survey_tally"
down_revision: str | None = "0012_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The reporting channel, as bot/features/surveys/tally.py's `channel_of` computes it.
BACKFILL = """
INSERT INTO survey_tally (wave_id, question_id, option_id, channel, district_id,
                          association_id, answers)
SELECT wave_id, question_id, option_id, kind, coalesce(district_id, 0),
       coalesce(association_id, 0), count(*)
FROM (SELECT wave_id, question_id, option_id, district_id, association_id,
             CASE WHEN channel = 'paper' AND entered_by_resident_id IS NOT NULL THEN 'hancho'
                  WHEN channel = 'paper' THEN 'proxy'
                  ELSE 'line' END AS kind
      FROM survey_answer) AS a
GROUP BY wave_id, question_id, option_id, kind, coalesce(district_id, 0),
         coalesce(association_id, 0)
"""


def upgrade() -> None:
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("association_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_survey_answer_association_id", "association", ["association_id"], ["id"]
        )
    op.create_table(
        "survey_tally",
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("option_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("district_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("association_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["wave_id"], ["survey_wave.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "wave_id", "question_id", "option_id", "channel", "district_id", "association_id"
        ),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("survey_tally")
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.drop_constraint("fk_survey_answer_association_id", type_="foreignkey")
        batch_op.drop_column("association_id")
