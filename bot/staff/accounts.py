"""Staff accounts as the city admin manages them: the list, and the April officer hand-over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.models.areas import Association, Ward
from bot.core.models.staff import ApiToken, StaffAccount, StaffScope


class HandoverError(ValueError):
    """The hand-over cannot be made as asked (the message says why)."""


@dataclass(frozen=True)
class AccountRow:
    """An account with the names of what it covers."""

    account: StaffAccount
    covers: list[str]


def account_rows(session: Session) -> list[AccountRow]:
    """Every account, active first, with its wards and associations by name."""
    names = {("w", w.id): w.name for w in session.exec(select(Ward)).all()}
    names |= {("a", a.id): a.name for a in session.exec(select(Association)).all()}
    covers: dict[int, list[str]] = {}
    for scope in session.exec(select(StaffScope).order_by(col(StaffScope.id))).all():
        key = ("w", scope.ward_id) if scope.ward_id is not None else ("a", scope.association_id)
        covers.setdefault(scope.account_id, []).append(names.get(key, "?"))
    accounts = session.exec(
        select(StaffAccount).order_by(col(StaffAccount.active).desc(), col(StaffAccount.login))
    ).all()
    return [AccountRow(a, covers.get(a.id or 0, [])) for a in accounts]


def hand_over(
    session: Session,
    *,
    outgoing_login: str,
    incoming_login: str,
    actor_id: int | None,
    now: datetime,
) -> int:
    """Move every ward and association of the outgoing account to the incoming one, at once.

    The outgoing account is kept (deactivated, sessions and tokens ended) so the audit log
    still names who approved and sent what before April; returns how many scopes moved.
    """
    outgoing = _by_login(session, outgoing_login)
    incoming = _by_login(session, incoming_login)
    if outgoing.id == incoming.id or outgoing.role != incoming.role or not incoming.active:
        raise HandoverError("hand over between two different active accounts of the same role")
    held = {
        (s.ward_id, s.association_id)
        for s in session.exec(select(StaffScope).where(StaffScope.account_id == incoming.id))
    }
    moved = []
    for scope in session.exec(select(StaffScope).where(StaffScope.account_id == outgoing.id)).all():
        if (scope.ward_id, scope.association_id) in held:
            session.delete(scope)
        else:
            scope.account_id = incoming.id  # type: ignore[assignment]  # stored: id is set
            session.add(scope)
        moved.append(scope.association_id or scope.ward_id)
    outgoing.active, outgoing.session_epoch = False, outgoing.session_epoch + 1
    session.add(outgoing)
    for token in session.exec(
        select(ApiToken).where(
            ApiToken.account_id == outgoing.id, col(ApiToken.revoked_at).is_(None)
        )
    ).all():
        token.revoked_at = now
        session.add(token)
    audit.record(
        session,
        account_id=actor_id,
        action="handover",
        now=now,
        target_type="staff_account",
        target_id=incoming.id,
        from_account=outgoing.id,
        scopes=sorted(x for x in moved if x is not None),
    )
    return len(moved)


def _by_login(session: Session, login: str) -> StaffAccount:
    account = session.exec(select(StaffAccount).where(StaffAccount.login == login)).first()
    if account is None:
        raise HandoverError(f"no account {login!r}")
    return account
