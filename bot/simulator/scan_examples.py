"""The moving-in counters' join QR links, offered in the simulator's scan dialog.

A demo user "scans" a counter's poster with one click instead of typing its link; the
links are the very ones `tsunagari qr` prints, read from the live join codes.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.content import Content
from bot.core.models.areas import MovingInCounter
from bot.features.membership import join_codes, qr
from bot.features.membership.models import JoinCodeKind
from bot.settings import Settings


def counter_qr_links(settings: Settings, engine: Engine, content: Content) -> list[dict[str, str]]:
    """``[{"label": "<counter>のQR", "url": oaMessage link}]`` for each counter with a live code."""
    links: list[dict[str, str]] = []
    with Session(engine) as session:
        counters = session.exec(select(MovingInCounter).order_by(col(MovingInCounter.id))).all()
        for counter in counters:
            code = join_codes.active_for(session, JoinCodeKind.COUNTER, counter_id=counter.id)
            if code is None:
                continue
            url = qr.join_url(content, settings.line_bot_basic_id, code.code)
            links.append({"label": f"{counter.name}のQR", "url": url})
    return links
