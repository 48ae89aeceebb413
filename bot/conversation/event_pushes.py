"""Pushes about events and notices: rendered per locale, enqueued once per stable key.

Everything here goes through the delivery outbox (never straight to LINE); one outbox message
per locale, keyed `<key>:<locale>`, so the same cause enqueued twice sends once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session, col, select

from bot.content import Content, load_content
from bot.conversation.engine import Say
from bot.conversation.render import Renderer
from bot.core.models.residents import Resident
from bot.platform.delivery import outbox

SaysFor = Callable[[str], list[Say]]


@lru_cache(maxsize=4)
def _renderer_at(root: Path) -> Renderer:
    return Renderer(load_content(root))


def default_renderer() -> Renderer:
    """The renderer over the configured content (for scheduler jobs without an app)."""
    from bot.settings import get_settings

    return _renderer_at(get_settings().content_dir)


_BY_CONTENT: dict[int, Renderer] = {}


def renderer_for(content: Content) -> Renderer:
    """A renderer over `content`, built once per loaded content."""
    renderer = _BY_CONTENT.get(id(content))
    if renderer is None or renderer.content is not content:
        renderer = Renderer(content)
        _BY_CONTENT[id(content)] = renderer
    return renderer


def locales_of(session: Session, resident_ids: Iterable[int]) -> dict[int, str]:
    """Resident id → locale, for residents reachable by LINE (with a LINE user id)."""
    ids = list(dict.fromkeys(resident_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 1000):
        rows = session.exec(
            select(Resident.id, Resident.locale).where(
                col(Resident.id).in_(ids[start : start + 1000]),
                col(Resident.line_user_id).is_not(None),
            )
        ).all()
        found.update({int(rid): str(locale) for rid, locale in rows})
    return found


def enqueue_says(
    session: Session,
    *,
    renderer: Renderer,
    key: str,
    kind: str,
    recipients: dict[int, str],
    says_for: SaysFor,
    now: datetime,
    urgent: bool = False,
    not_before: datetime | None = None,
) -> int:
    """Enqueue `says_for(locale)` to `recipients` (id → locale); returns outbox messages made."""
    by_locale: dict[str, list[int]] = defaultdict(list)
    for resident_id, locale in recipients.items():
        by_locale[locale].append(resident_id)
    for locale, ids in sorted(by_locale.items()):
        outbox.enqueue(
            session,
            key=f"{key}:{locale}",
            kind=kind,
            recipient_ids=ids,
            messages=renderer.messages(says_for(locale), locale),
            urgent=urgent,
            not_before=not_before,
            now=now,
        )
    return len(by_locale)


def tell(
    session: Session,
    *,
    renderer: Renderer,
    key: str,
    kind: str,
    resident_ids: Iterable[int],
    says_for: SaysFor,
    now: datetime,
) -> int:
    """Enqueue to residents by id, each in their own locale; residents without LINE are skipped."""
    recipients = locales_of(session, resident_ids)
    if not recipients:
        return 0
    return enqueue_says(
        session,
        renderer=renderer,
        key=key,
        kind=kind,
        recipients=recipients,
        says_for=says_for,
        now=now,
    )
