"""Join QR codes as staff see them: which codes are theirs, and issuing new ones.

Association posters belong to the association (and to the ward it lies in), counter codes
to the counter's ward, campaign codes to the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.models.areas import Association, District, MovingInCounter
from bot.core.scope import Scope, ScopeDenied
from bot.features.membership import join_codes
from bot.features.membership.models import JoinCode, JoinCodeKind


class CodeNotFound(Exception):
    """No such join code (the web answers 404)."""


@dataclass(frozen=True)
class CodeView:
    """A code with the name and ward of what it belongs to."""

    code: JoinCode
    name: str
    ward_id: int | None
    association_id: int | None


def _view(session: Session, code: JoinCode) -> CodeView:
    if code.kind == JoinCodeKind.ASSOCIATION and code.association_id is not None:
        row = session.exec(
            select(Association.name, District.ward_id)
            .join(District, col(District.id) == col(Association.district_id))
            .where(Association.id == code.association_id)
        ).first()
        return CodeView(code, row[0] if row else "", row[1] if row else None, code.association_id)
    if code.kind == JoinCodeKind.COUNTER and code.counter_id is not None:
        counter = session.get(MovingInCounter, code.counter_id)
        return CodeView(
            code, counter.name if counter else "", counter.ward_id if counter else None, None
        )
    return CodeView(code, code.label or code.code, None, None)


def _covered(scope: Scope, view: CodeView) -> bool:
    return scope.covers(ward_id=view.ward_id, association_id=view.association_id)


def codes_in_scope(session: Session, scope: Scope) -> list[CodeView]:
    """Live codes the caller may print, newest first."""
    rows = session.exec(
        select(JoinCode)
        .where(col(JoinCode.retired_at).is_(None))
        .order_by(col(JoinCode.created_at).desc(), col(JoinCode.id).desc())
    ).all()
    views = (_view(session, code) for code in rows)
    return [view for view in views if _covered(scope, view)]


def scoped_code(session: Session, scope: Scope, code_id: int) -> CodeView:
    """One code, when it exists and is the caller's (ScopeDenied otherwise)."""
    code = session.get(JoinCode, code_id)
    if code is None:
        raise CodeNotFound(code_id)
    view = _view(session, code)
    if not _covered(scope, view):
        raise ScopeDenied(f"join code {code_id}")
    return view


def counters_in_scope(session: Session, scope: Scope) -> list[MovingInCounter]:
    """Moving-in counters of the caller's wards (the city's for the admin)."""
    counters = session.exec(select(MovingInCounter).order_by(col(MovingInCounter.code))).all()
    return [c for c in counters if scope.covers(ward_id=c.ward_id)]


def issue_code(
    session: Session,
    scope: Scope,
    *,
    association_id: int | None,
    counter_id: int | None,
    now: datetime,
) -> JoinCode:
    """A new code for an association or a counter within scope."""
    if association_id is not None:
        scope.require_association(session, association_id)
        return join_codes.create(
            session, kind=JoinCodeKind.ASSOCIATION, now=now, association_id=association_id
        )
    counter = session.get(MovingInCounter, counter_id) if counter_id is not None else None
    if counter is None or not scope.covers(ward_id=counter.ward_id):
        raise ScopeDenied(f"counter {counter_id}")
    return join_codes.create(session, kind=JoinCodeKind.COUNTER, now=now, counter_id=counter.id)
