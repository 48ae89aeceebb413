"""Pushes from flows: render `Say`s per recipient locale and queue them in the outbox.

Anything that is not the reply to the resident's own event is a push and goes through the
delivery outbox in the event's transaction, keyed so that a repeated cause sends once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.content import Content
from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.render import Renderer
from bot.core.models.residents import Resident
from bot.platform.delivery import outbox

_renderers: dict[int, Renderer] = {}


def renderer_for(content: Content) -> Renderer:
    """One renderer per loaded content (its Jinja environment is reused)."""
    found = _renderers.get(id(content))
    if found is None or found.content is not content:
        found = _renderers[id(content)] = Renderer(content)
    return found


def push(
    ctx: FlowContext,
    *,
    key: str,
    kind: str,
    resident_ids: Iterable[int],
    says: Callable[[str], Sequence[Say]],
) -> int:
    """Queue `says(locale)` for each recipient in their own language; returns recipients."""
    return push_in(
        ctx.session, ctx.content, ctx.now, key=key, kind=kind, resident_ids=resident_ids, says=says
    )


def push_in(
    session: Session,
    content: Content,
    now: datetime,
    *,
    key: str,
    kind: str,
    resident_ids: Iterable[int],
    says: Callable[[str], Sequence[Say]],
) -> int:
    """`push` for callers without a flow context (the staff web, jobs)."""
    by_locale = locales_of(session, resident_ids)
    renderer = renderer_for(content)
    for locale, ids in sorted(by_locale.items()):
        outbox.enqueue(
            session,
            key=f"{key}:{locale}",
            kind=kind,
            recipient_ids=ids,
            messages=renderer.messages(says(locale), locale),
            now=now,
        )
    return sum(len(ids) for ids in by_locale.values())


def locales_of(session: Session, resident_ids: Iterable[int]) -> dict[str, list[int]]:
    """Recipients grouped by the language they chose."""
    ids = list(dict.fromkeys(resident_ids))
    grouped: dict[str, list[int]] = defaultdict(list)
    if not ids:
        return grouped
    rows = session.exec(select(Resident.id, Resident.locale).where(col(Resident.id).in_(ids)))
    for resident_id, locale in rows:
        grouped[locale].append(int(resident_id))
    return grouped
