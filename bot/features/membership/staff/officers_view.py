"""Officers as city and ward staff onboard them: who has a staff-web account, who has linked
LINE, and the two things staff hand a new officer (an account, a one-time LINE link code)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.core.models.membership import Officer
from bot.core.models.staff import StaffAccount, StaffRole, StaffScope
from bot.core.scope import Scope, visible_associations
from bot.features.membership import officers
from bot.features.membership.staff.members import counts_by_association
from bot.staff.auth import create_account
from bot.staff.tables import Column, Table

# Short-lived: the staff member hands it over in person or by phone the same week.
WEB_LINK_CODE_TTL = timedelta(hours=72)
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")

OFFICER_COLUMNS = [
    Column("ward", "col.ward"),
    Column("association", "col.association"),
    Column("line_officers", "col.line_officers", numeric=True),
    Column("accounts", "col.officer_accounts", numeric=True),
    Column("pending", "col.pending", numeric=True),
]


class OfficerFormError(ValueError):
    """The form cannot be done as filled in; `reason` is a staff-text key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewAccount:
    """An officer account just made; the password is shown once and stored only hashed."""

    login: str
    password: str
    association: str


@dataclass(frozen=True)
class NewLinkCode:
    """A LINE link code just issued; shown once, only its hash is stored."""

    code: str
    association: str
    expires_at: datetime


def officers_table(session: Session, scope: Scope) -> Table:
    """Each association in scope with its LINE-linked officers and officer accounts."""
    visible = visible_associations(session, scope)
    ids = [a.id for a, _d, _w in visible if a.id is not None]
    linked = dict(
        session.exec(
            select(Officer.association_id, func.count())
            .where(col(Officer.association_id).in_(ids), col(Officer.revoked_at).is_(None))
            .group_by(col(Officer.association_id))
        ).all()
    )
    accounts = dict(
        session.exec(
            select(StaffScope.association_id, func.count())
            .join(StaffAccount, col(StaffAccount.id) == col(StaffScope.account_id))
            .where(
                col(StaffScope.association_id).in_(ids),
                col(StaffAccount.active).is_(True),
                StaffAccount.role == StaffRole.ASSOCIATION_OFFICER.value,
            )
            .group_by(col(StaffScope.association_id))
        ).all()
    )
    counts = counts_by_association(session, scope)
    rows: list[dict[str, object]] = [
        {
            "association_id": a.id,
            "ward": w.name,
            "association": a.name,
            "line_officers": int(linked.get(a.id or 0, 0)),
            "accounts": int(accounts.get(a.id or 0, 0)),
            "pending": counts[a.id].pending if a.id in counts else 0,
        }
        for a, _d, w in visible
    ]
    # Associations nobody in LINE is told of first: they are the ones to onboard.
    rows.sort(key=lambda r: r["line_officers"] != 0)
    return Table("officers", OFFICER_COLUMNS, rows)


def _association(session: Session, scope: Scope, association_id: int) -> tuple[int, str, str]:
    """(id, code, name) of an association in scope (ScopeDenied otherwise)."""
    scope.require_association(session, association_id)
    for a, _d, _w in visible_associations(session, scope):
        if a.id == association_id:
            return association_id, a.code, a.name
    raise OfficerFormError("inactive")


def create_officer_account(
    session: Session, scope: Scope, association_id: int, *, login: str, display_name: str
) -> NewAccount:
    """An association-officer account for one association in scope, with a fresh password."""
    _id, code, name = _association(session, scope, association_id)
    login, display_name = login.strip().lower(), display_name.strip()
    if not LOGIN_PATTERN.match(login):
        raise OfficerFormError("bad_login")
    if not display_name:
        raise OfficerFormError("no_name")
    if session.exec(select(StaffAccount.id).where(StaffAccount.login == login)).first():
        raise OfficerFormError("login_taken")
    password = secrets.token_urlsafe(12)  # 16 characters; the officer changes it later
    create_account(
        session,
        login=login,
        display_name=display_name[:80],
        role=StaffRole.ASSOCIATION_OFFICER,
        password=password,
        association_codes=[code],
    )
    return NewAccount(login, password, name)


def issue_link_code(
    session: Session, scope: Scope, association_id: int, now: datetime, staff: str
) -> NewLinkCode:
    """A one-time LINE link code for an association in scope, valid for three days."""
    _id, _code, name = _association(session, scope, association_id)
    code = officers.issue_link_code(
        session, association_id, now, ttl=WEB_LINK_CODE_TTL, created_by=staff
    )
    return NewLinkCode(code, name, now + WEB_LINK_CODE_TTL)
