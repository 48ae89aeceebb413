"""Helpers for the join and membership tests: the sample city, taps on what the bot sent,
pushes delivered through the real sender, and a look into every table."""

from __future__ import annotations

import asyncio
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
from tests.delivery_support import sender_for
from tests.factories import postback_event, text_event

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


def text_of(message: dict[str, Any]) -> str:
    """What a message says: its text, or a flex message's alternative text."""
    return str(message.get("text") or message.get("altText") or "")


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


def say(bot: Any, user: str, text: str) -> None:
    """The resident types `text` and the bot answers."""
    assert bot.post(text_event(user, text)).status_code == 200
    bot.drain()


def last(bot: Any, user: str) -> dict[str, Any]:
    """The newest message the user received."""
    return bot.standin.messages_to(user)[-1]


def chips(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Quick-reply actions of a message by label."""
    items = (message.get("quickReply") or {}).get("items", [])
    return {item["action"]["label"]: item["action"] for item in items}


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Postback buttons anywhere in a flex message, by label."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            action = node.get("action")
            if node.get("type") == "button" and isinstance(action, dict):
                found[action["label"]] = action
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("contents"))
    return found


def tap(bot: Any, user: str, label: str, message: dict[str, Any] | None = None) -> None:
    """The user taps the chip or button labelled `label` on the newest message holding it."""
    candidates = [message] if message else reversed(bot.standin.messages_to(user))
    for candidate in candidates:
        action = chips(candidate).get(label) or buttons(candidate).get(label)
        if action is not None:
            assert action["type"] == "postback", action
            assert bot.post(postback_event(user, action["data"])).status_code == 200
            bot.drain()
            return
    raise AssertionError(f"no chip or button {label!r} was sent to {user}")


def deliver(bot: Any, engine: Engine) -> None:
    """Send whatever the outbox holds, through the real sender, to the stand-in."""

    async def run() -> None:
        sender = sender_for(engine, bot.standin, bot.app.state.settings)  # needs the loop
        try:
            await sender.run(until_idle=True)
        finally:
            await sender.gateway.close()  # type: ignore[attr-defined]

    asyncio.run(run())


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
    say(bot, user, code_message(bot, code))
    tap(bot, user, "同意する")
    tap(bot, user, "上田")
    say(bot, user, "上田3丁目")
    say(bot, user, name)
    tap(bot, user, "2人")
    say(bot, user, "メゾン上田 305号室")
    tap(bot, user, "電話")
    say(bot, user, phone)
    tap(bot, user, "送信する")
    assert "申し込みました" in bot.texts_to(user)[-1]


def link_officer(bot: Any, engine: Engine, user: str, association: str, now: datetime) -> None:
    """Make `user` an officer by sending a staff-issued code, as in the chat."""
    say(bot, user, f"役員登録 {link_code(engine, association, now)}")
    assert association_name(engine, association) in bot.texts_to(user)[-1]
