"""The moving-in funnel: QR follows → consented → applied → approved, per source.

A source is a moving-in counter, an association's poster or a campaign (all its codes,
retired ones included, are summed). A resident counts once per source at each stage they
reached after first arriving through it; approvals stay counted after the member leaves or
erases their data, since only bare ids and statuses are read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.models.areas import Association, District, MovingInCounter
from bot.core.models.consent import ConsentDecision, ConsentRecord, ConsentScope
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.features.membership.models import JoinCode, JoinCodeKind, ResidentSource

_APPROVED = (MembershipStatus.APPROVED, MembershipStatus.ENDED)  # ENDED only follows approval


@dataclass
class FunnelRow:
    """One source's funnel."""

    kind: str  # counter, association or campaign
    source_id: int  # counter id, association id, or the campaign code's id
    name: str
    ward_id: int | None
    codes: list[str] = field(default_factory=list)
    follows: int = 0
    new_friends: int = 0  # of the follows, those who were not friends of the bot before
    consented: int = 0
    applied: int = 0
    approved: int = 0

    def rate(self, stage: str) -> float | None:
        """A stage as a share of follows (None when nobody followed)."""
        return getattr(self, stage) / self.follows if self.follows else None


def funnel(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    ward_id: int | None = None,
) -> list[FunnelRow]:
    """Funnel rows for every source with a code, residents first seen in [since, until)."""
    counts = _counts_per_code(session, since, until)
    rows: dict[tuple[str, int], FunnelRow] = {}
    for code in session.exec(select(JoinCode).order_by(col(JoinCode.id))):
        row = rows.get(_source_key(code)) or _new_row(session, code)
        if ward_id is not None and row.ward_id != ward_id:
            continue
        rows[_source_key(code)] = row
        row.codes.append(code.code)
        _add(row, counts.get(code.id or 0))
    # Counters first: the moving-in desk is where most new residents meet the bot.
    return sorted(rows.values(), key=lambda r: (_KIND_ORDER.get(r.kind, 9), r.name))


_KIND_ORDER: dict[str, int] = {
    JoinCodeKind.COUNTER: 0,
    JoinCodeKind.ASSOCIATION: 1,
    JoinCodeKind.CAMPAIGN: 2,
}
NO_QR = "none"  # the kind of the row for residents who came without scanning any QR


def without_qr(session: Session, association_ids: list[int] | None) -> FunnelRow:
    """Residents who reached the bot without a QR (search, a friend's share…): how many
    applied and were approved, to the associations given (None: all). Follows and consents
    belong to no ward, so they are counted only city-wide (None) and left 0 otherwise."""
    unsourced = ~exists().where(col(ResidentSource.resident_id) == col(Resident.id))
    row = FunnelRow(NO_QR, 0, "", None)
    if association_ids is None:
        everyone = sa_select(func.count()).select_from(Resident)
        row.follows = int(session.execute(everyone.where(unsourced)).scalar() or 0)
        consented = exists().where(
            col(ConsentRecord.resident_id) == col(Resident.id),
            col(ConsentRecord.scope) == ConsentScope.ASSOCIATION,
            col(ConsentRecord.decision) == ConsentDecision.AGREED,
        )
        row.consented = int(session.execute(everyone.where(unsourced, consented)).scalar() or 0)
    applied = (
        sa_select(func.count(func.distinct(col(Membership.resident_id))))
        .join(Resident, col(Resident.id) == col(Membership.resident_id))
        .where(unsourced)
    )
    if association_ids is not None:
        applied = applied.where(col(Membership.association_id).in_(association_ids))
    row.applied = int(session.execute(applied).scalar() or 0)
    approved = applied.where(col(Membership.status).in_(_APPROVED))
    row.approved = int(session.execute(approved).scalar() or 0)
    return row


def _counts_per_code(
    session: Session, since: datetime | None, until: datetime | None
) -> dict[int, tuple[int, ...]]:
    src = ResidentSource
    consented = exists().where(
        col(ConsentRecord.resident_id) == col(src.resident_id),
        col(ConsentRecord.scope) == ConsentScope.ASSOCIATION,
        col(ConsentRecord.decision) == ConsentDecision.AGREED,
    )
    applied_after = and_(
        col(Membership.resident_id) == col(src.resident_id),
        col(Membership.applied_at) >= col(src.first_seen_at),
    )
    applied = exists().where(applied_after)
    approved = exists().where(applied_after, col(Membership.status).in_(_APPROVED))
    # SQLAlchemy's select: SQLModel's is typed for at most four columns
    query = sa_select(
        col(src.join_code_id),
        func.count(),
        _count_if(col(src.new_friend).is_(True)),
        _count_if(consented),
        _count_if(applied),
        _count_if(approved),
    ).group_by(col(src.join_code_id))
    if since is not None:
        query = query.where(col(src.first_seen_at) >= since)
    if until is not None:
        query = query.where(col(src.first_seen_at) < until)
    return {int(r[0]): tuple(int(v or 0) for v in r[1:]) for r in session.execute(query)}


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _source_key(code: JoinCode) -> tuple[str, int]:
    if code.kind == JoinCodeKind.COUNTER and code.counter_id is not None:
        return (code.kind, code.counter_id)
    if code.kind == JoinCodeKind.ASSOCIATION and code.association_id is not None:
        return (code.kind, code.association_id)
    return (JoinCodeKind.CAMPAIGN, code.id or 0)


def _new_row(session: Session, code: JoinCode) -> FunnelRow:
    kind, source_id = _source_key(code)
    if kind == JoinCodeKind.COUNTER:
        counter = session.get(MovingInCounter, source_id)
        return FunnelRow(
            kind, source_id, counter.name if counter else "?", counter.ward_id if counter else None
        )
    if kind == JoinCodeKind.ASSOCIATION:
        association = session.get(Association, source_id)
        district = session.get(District, association.district_id) if association else None
        return FunnelRow(
            kind,
            source_id,
            association.name if association else "?",
            district.ward_id if district else None,
        )
    return FunnelRow(kind, source_id, code.label or code.code, None)


def _add(row: FunnelRow, counts: Iterable[int] | None) -> None:
    if counts is None:
        return
    follows, new_friends, consented, applied, approved = counts
    row.follows += follows
    row.new_friends += new_friends
    row.consented += consented
    row.applied += applied
    row.approved += approved
