"""Re-link a resident's rich menu once the transaction that changed their role commits."""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session

from bot.conversation.richmenu import any_synced
from bot.core import standing
from bot.core.models.residents import Resident
from bot.platform.line import richmenu


def relink_after_commit(
    session: Session,
    resident: Resident,
    *,
    user_id: str | None = None,
    role: str | None = None,
) -> None:
    """Link the menu of the resident's (new) role once `session` commits.

    A no-op where rich menus are not set up. Pass `user_id` when the resident's LINE user
    ID is about to be erased. Works from flows and from the staff web alike.
    """
    linker = richmenu.current()
    target = user_id or resident.line_user_id
    if linker is None or not target or not any_synced(session):
        return
    wanted = role or standing.menu_role(session, resident)
    event.listen(session, "after_commit", lambda _s: linker.request(target, wanted), once=True)
