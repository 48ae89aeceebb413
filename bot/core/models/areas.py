"""The city's geography: wards, community districts, associations and their 町丁目."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow

KEY_LENGTH = 120
# Prefix lookups are range scans (key >= 'x' AND key < 'x\uffff'), which need code-point
# order. SQLite's default BINARY collation has it; PostgreSQL needs the "C" collation, or a
# locale collation would order Japanese differently and the range would miss rows.
MatchKey = String(KEY_LENGTH).with_variant(String(KEY_LENGTH, collation="C"), "postgresql")


class Ward(SQLModel, table=True):
    """A ward (区) or, in a city without wards, an area grouping districts (盛岡・都南・玉山)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=60)
    name_en: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class District(SQLModel, table=True):
    """A community district (コミュニティ推進地区 / 連合町内会の区域) within a ward."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    ward_id: int = Field(foreign_key="ward.id", index=True)
    name: str = Field(max_length=60)
    name_kana: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Association(SQLModel, table=True):
    """A neighbourhood association (町内会・自治会) residents join."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    district_id: int = Field(foreign_key="district.id", index=True)
    name: str = Field(max_length=80)
    name_en: str | None = Field(default=None, max_length=120)
    # Invented demo data; screens label it so nobody mistakes it for a real association.
    is_sample: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Town(SQLModel, table=True):
    """One row of the area table: a 町丁目 and the association that covers it."""

    __table_args__ = (
        Index("ix_town_key", "key"),
        Index("ix_town_kana_key", "kana_key"),
        Index("ix_town_district_key", "district_id", "key"),
        Index("ix_town_district_kana_key", "district_id", "kana_key"),
        Index("ix_town_romaji_key", "romaji_key"),
        Index("ix_town_district_romaji_key", "district_id", "romaji_key"),
        Index("ix_town_lat_lon", "latitude", "longitude"),
        Index("ix_town_district_lat", "district_id", "latitude"),
        Index("ix_town_association_name", "association_id", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id")
    # Copies of the association's district and ward, so lookups filter without joins.
    district_id: int = Field(foreign_key="district.id")
    ward_id: int = Field(foreign_key="ward.id", index=True)
    name: str = Field(max_length=80)
    chome: int | None = None
    label: str = Field(max_length=100)
    reading: str = Field(default="", max_length=120)
    key: str = Field(sa_type=MatchKey)
    kana_key: str = Field(default="", sa_type=MatchKey)
    # The reading in Hepburn romaji, long vowels shortened ("nakanohashidori1"), so
    # "Nakanohashi-dōri 1" finds the town (bot.core.readings.romaji_key).
    romaji_key: str = Field(default="", sa_type=MatchKey)
    latitude: float | None = None
    longitude: float | None = None


class MovingInCounter(SQLModel, table=True):
    """A moving-in counter (転入窓口) whose QR code sends new residents to the bot."""

    __tablename__ = "moving_in_counter"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    ward_id: int = Field(foreign_key="ward.id", index=True)
    name: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
