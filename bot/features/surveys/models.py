"""Participation surveys: waves, invitations, answers and the tokens of anonymous answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime
from bot.core.models import areas as _areas  # noqa: F401 - answers point at districts
from bot.core.models import residents as _residents  # noqa: F401 - invites point at residents


class WaveStatus(StrEnum):
    """Whether a wave still takes answers."""

    OPEN = "open"
    CLOSED = "closed"


class SurveyWave(SQLModel, table=True):
    """One round of a survey (a quarter, a year, one event): invited, answered, tallied."""

    __tablename__ = "survey_wave"
    __table_args__ = (
        UniqueConstraint("survey_id", "wave_key", name="uq_survey_wave_key"),
        Index("ix_survey_wave_status_opens", "status", "opens_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str = Field(max_length=60)  # file name under content/surveys
    wave_key: str = Field(max_length=40)  # "2026-04", "2026", "event-12"
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    nudge_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=WaveStatus.OPEN, max_length=16)
    # A post-event wave's event: named by table, the events feature's model is not imported.
    event_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("event.id", ondelete="SET NULL"), nullable=True),
    )
    # Words shown with the invitation (an event's title), kept so a later edit does not
    # change what residents were asked about.
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # At close: {"<district id or ->": {"invited": n, "responded": m}}, so the per-resident
    # invitation rows can be purged later and response rates still be reported.
    tally: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class SurveyInvite(SQLModel, table=True):
    """A resident invited to a wave: the response-rate denominator and the nudge list."""

    __tablename__ = "survey_invite"
    __table_args__ = (UniqueConstraint("wave_id", "resident_id", name="uq_survey_invite"),)

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(
        sa_column=Column(ForeignKey("survey_wave.id", ondelete="CASCADE"), nullable=False)
    )
    resident_id: int = Field(
        sa_column=Column(ForeignKey("resident.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    district_id: int | None = Field(default=None, foreign_key="district.id")
    invited_at: datetime = Field(sa_type=UTCDateTime)
    # Whether they answered at least one question: that they took part, never what they said.
    responded: bool = False
    nudged: bool = False


class AnswerChannel(StrEnum):
    """How an answer reached us."""

    LINE = "line"  # one tap on a quick reply
    PAPER = "paper"  # a paper form typed in by a team leader or staff on the respondent's behalf


def _answer_id() -> str:
    return uuid.uuid4().hex


class SurveyAnswer(SQLModel, table=True):
    """One answer to one question. Random key and no time column: see the module docstring."""

    __tablename__ = "survey_answer"
    __table_args__ = (Index("ix_survey_answer_wave_question", "wave_id", "question_id"),)

    id: str = Field(default_factory=_answer_id, primary_key=True, max_length=32)
    wave_id: int = Field(
        sa_column=Column(ForeignKey("survey_wave.id", ondelete="CASCADE"), nullable=False)
    )
    question_id: str = Field(max_length=40)
    option_id: str = Field(max_length=40)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    # The association the respondent was an approved member of when answering (None for
    # non-members and unknown paper respondents); its district is then `district_id`.
    association_id: int | None = Field(default=None, foreign_key="association.id")
    channel: str = Field(default=AnswerChannel.LINE, max_length=8)
    # Only for surveys not marked anonymous; always None for anonymous ones.
    resident_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("resident.id", ondelete="SET NULL"), nullable=True),
    )
    # Paper answers: who typed them in (a team leader in LINE, or a staff account).
    entered_by_resident_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("resident.id", ondelete="SET NULL"), nullable=True),
    )
    entered_by_staff_id: int | None = None


class SurveyTally(SQLModel, table=True):
    """Answers per (wave, question, option, channel, district, association), kept in step with
    `survey_answer` by bot/features/surveys/tally.py so result pages never regroup the answers.

    `channel` is the reporting channel (line, hancho, proxy: see results.CHANNELS). A missing
    district or association is 0 (key columns cannot be NULL), hence no foreign keys on them.
    """

    __tablename__ = "survey_tally"

    wave_id: int = Field(
        sa_column=Column(
            ForeignKey("survey_wave.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    question_id: str = Field(primary_key=True, max_length=40)
    option_id: str = Field(primary_key=True, max_length=40)
    channel: str = Field(primary_key=True, max_length=8)
    district_id: int = Field(
        sa_column=Column(Integer, primary_key=True, nullable=False, autoincrement=False)
    )
    association_id: int = Field(
        sa_column=Column(Integer, primary_key=True, nullable=False, autoincrement=False)
    )
    answers: int = 0


class SurveyAnswerToken(SQLModel, table=True):
    """A keyed hash of (wave, question, respondent): a second answer collides and is refused."""

    __tablename__ = "survey_answer_token"

    wave_id: int = Field(
        sa_column=Column(
            ForeignKey("survey_wave.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    question_id: str = Field(primary_key=True, max_length=40)
    token: str = Field(primary_key=True, max_length=64)
