"""Helpers for the join and membership tests: the sample city, taps on what the bot sent,
pushes delivered through the real sender, and a look into every table."""

from __future__ import annotations

import functools
import re
import string
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content import Content
from bot.core import areas
from bot.core.models.areas import Association, District, MovingInCounter
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.features.membership import join_codes, officers, qr
from bot.features.membership.models import JoinCode, JoinCodeKind
from bot.settings import REPO_ROOT

AREAS = REPO_ROOT / "content" / "areas"


def seed_city(engine: Engine) -> None:
    """Load the sample city (wards, districts, counters, associations, 町丁目)."""
    with session_scope(engine) as session:
        areas.import_city_structure(session, AREAS / "city.yaml")
        areas.import_area_table(session, AREAS / "towns.csv")


def counter_code(engine: Engine, counter: str, now: datetime) -> str:
    """A live join code for a moving-in counter."""
    with session_scope(engine) as session:
        row = session.execute(
            select(MovingInCounter).where(MovingInCounter.code == counter)  # type: ignore[arg-type]
        ).scalar_one()
        return join_codes.create(
            session, kind=JoinCodeKind.COUNTER, counter_id=row.id, now=now
        ).code


def association_code(engine: Engine, association: str, now: datetime) -> str:
    """A live join code for an association's own poster."""
    with session_scope(engine) as session:
        found = areas.association(session, association)
        assert found is not None
        return join_codes.create(
            session, kind=JoinCodeKind.ASSOCIATION, association_id=found.id, now=now
        ).code


def association_id(engine: Engine, code: str) -> int:
    """An association's id by its code."""
    with session_scope(engine) as session:
        found = areas.association(session, code)
        assert found is not None and found.id is not None
        return found.id


def district_id(engine: Engine, code: str) -> int:
    """A district's id by its code."""
    with session_scope(engine) as session:
        row = session.execute(
            select(District).where(District.code == code)  # type: ignore[arg-type]
        ).scalar_one()
        return int(row.id)


def link_code(engine: Engine, association: str, now: datetime) -> str:
    """A one-time officer code, as the staff web would show it."""
    with session_scope(engine) as session:
        return officers.issue_link_code(session, association_id(engine, association), now)


def code_message(bot: Any, code: str) -> str:
    """The text a join QR pre-fills in the resident's chat."""
    return qr.prefilled_text(bot.app.state.content, code)


def key_of(content: Content, text: str, locale: str = "ja") -> str | None:
    """The content key whose template renders as `text` (placeholders match anything); of
    several, the one with the most fixed words (a bare "{item}" matches every text)."""
    found = [
        (len(literal), key)
        for key, template in content.texts[locale].items()
        for pattern, literal in [_pattern(template)]
        if pattern.fullmatch(text)
    ]
    return max(found)[1] if found else None


@functools.cache
def _pattern(template: str) -> tuple[re.Pattern[str], str]:
    parts, literal = [], ""
    for text, field, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(text))
        literal += text
        if field is not None:
            parts.append(".*?")
    return re.compile("".join(parts), re.DOTALL), literal.strip()


def resident(session: Session, user: str) -> Resident:
    """The resident row of a LINE user."""
    return session.execute(
        select(Resident).where(Resident.line_user_id == user)  # type: ignore[arg-type]
    ).scalar_one()


def every_value(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null cell of every table."""
    metadata = MetaData()
    metadata.reflect(engine)
    cells = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for column, value in zip(table.columns, row, strict=True):
                    if value is not None:
                        cells.append((table.name, column.name, str(value)))
    return cells


def association_name(engine: Engine, code: str) -> str:
    """An association's display name."""
    with session_scope(engine) as session:
        row = session.get(Association, association_id(engine, code))
        assert row is not None
        return row.name


def join_code_row(engine: Engine, code: str) -> JoinCode:
    """A join code's row."""
    with session_scope(engine) as session:
        row = join_codes.by_code(session, code)
        assert row is not None
        return row


def apply_through_chat(
    bot: Any,
    engine: Engine,
    user: str,
    code: str,
    name: str = "山田 花子",
    phone: str = "090-1111-2222",
) -> None:
    """Scan a counter QR, agree, find 上田三丁目 by typing, fill the form and send it."""
    bot.say(user, code_message(bot, code))
    bot.tap(user, "同意する")
    bot.tap(user, "上田")
    bot.say(user, "上田3丁目")
    bot.say(user, name)
    bot.tap(user, "2人")
    bot.say(user, "メゾン上田 305号室")
    bot.tap(user, "電話")
    bot.say(user, phone)
    bot.tap(user, "送信する")
    assert "申し込みました" in bot.texts_to(user)[-1]


def link_officer(bot: Any, engine: Engine, user: str, association: str, now: datetime) -> None:
    """Make `user` an officer by sending a staff-issued code, as in the chat."""
    bot.say(user, f"役員登録 {link_code(engine, association, now)}")
    assert association_name(engine, association) in bot.texts_to(user)[-1]
