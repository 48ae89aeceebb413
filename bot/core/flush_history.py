"""What a row held before the flush in progress: for tallies kept in step with their rows
(a before_flush listener adds the new values and takes away the old)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session


def values_before_flush(session: Session, row: Any, names: Sequence[str]) -> dict[str, Any] | None:
    """The stored values of `names` for a changed row, or None when none of them changed.

    An attribute set without its old value loaded is read from the database (still the old
    value: the flush has not run)."""
    state: Any = inspect(row)
    old: dict[str, Any] = {}
    changed, unknown = False, False
    for name in names:
        history = state.attrs[name].history
        if history.has_changes():
            changed = True
            if history.deleted:
                old[name] = history.deleted[0]
            else:
                unknown = True
        elif history.unchanged:
            old[name] = history.unchanged[0]
        else:
            unknown = True
    if not changed:
        return None
    if unknown:
        table = type(row).__table__
        stored = (
            session.connection()
            .execute(select(*[table.c[name] for name in names]).where(table.c.id == row.id))
            .one()
        )
        return dict(zip(names, stored, strict=True))
    return old


def values_before_delete(row: Any, names: Sequence[str]) -> dict[str, Any]:
    """The stored values of `names` for a row being deleted."""
    committed = inspect(row).committed_state
    return {name: committed.get(name, getattr(row, name)) for name in names}
