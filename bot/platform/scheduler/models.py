"""The scheduler's table: each periodic job's watermark."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime


class JobRun(SQLModel, table=True):
    """One periodic job's watermark: the latest due slot a scheduler claimed and ran."""

    __tablename__ = "job_run"

    name: str = Field(primary_key=True, max_length=60)
    # Claimed in the same transaction as the job's effects, so a crash re-runs the slot.
    slot_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    runs: int = 0
    last_result: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
