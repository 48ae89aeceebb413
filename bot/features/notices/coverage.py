"""Read coverage of a notice per association and 班, counting LINE and paper together.

An association that keeps its household register (世帯名簿) is counted per household of the
register, paper-only households included (bot/features/notices/household_coverage.py).
For the others: a household counts as covered when a member household acknowledged
(確認しました) on LINE — or, for a notice that asks for no acknowledgement, when LINE
accepted the push for it — or when a 班長 ticked it as handed the paper copy. The
denominator is the 班's household count from `HanHouseholds` when an officer set it, else
the households we know of (LINE + paper).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.models.han import HanHouseholds
from bot.features.notices import household_coverage
from bot.features.notices.models import Notice, NoticeAck, NoticeRecipient, PaperDelivery
from bot.platform.delivery import outcomes
from bot.platform.delivery.models import OutboxMessage

Key = tuple[int | None, str]


@dataclass(frozen=True)
class CoverageRow:
    """One association (han=None: all its 班) or one 班 of it."""

    association_id: int | None
    han: str | None
    households: int
    line_households: int
    line_reached: int
    paper: int

    @property
    def covered(self) -> int:
        """Households reached by LINE or paper (never more than there are)."""
        return min(self.line_reached + self.paper, self.households)

    @property
    def rate(self) -> float:
        """Share of households covered, 0..1 (0 when no household is known)."""
        return self.covered / self.households if self.households else 0.0


def read_coverage(
    session: Session, *, notice_id: int, association_ids: list[int] | None = None
) -> list[CoverageRow]:
    """Rows per 班 and per association (association rows first within each association),
    for the associations of `association_ids` (None: every association it reached)."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        return []
    if association_ids is not None and all(
        household_coverage.has_register(session, a) for a in association_ids
    ):
        # Every association asked for keeps its register: count households only.
        return _registered_only(session, notice, association_ids)
    line = _line_households(session, notice_id)
    reached = _acked(session, notice_id) if notice.ack_requested else _delivered(session, notice)
    paper = _paper(session, notice_id)
    keys = set(line) | set(paper)
    associations = {a for a, _ in keys} | ({notice.association_id} - {None})
    if association_ids is not None:
        associations &= set(association_ids)
    registered = {
        a for a in associations if a is not None and household_coverage.has_register(session, a)
    }
    sizes = _sizes(session, {a for a in associations if a is not None} - registered)
    rows: list[CoverageRow] = []
    for association_id in sorted(associations, key=lambda a: (a is None, a or 0)):
        if association_id in registered:
            assert association_id is not None
            per_han = _register_rows(session, notice, association_id)
        else:
            hans = sorted(h for a, h in keys if a == association_id)
            per_han = [_row(association_id, han, line, reached, paper, sizes) for han in hans]
        rows.append(_total(association_id, per_han))
        rows.extend(per_han)
    return rows


def _registered_only(
    session: Session, notice: Notice, association_ids: list[int]
) -> list[CoverageRow]:
    rows: list[CoverageRow] = []
    for association_id in sorted(association_ids):
        if household_coverage.reached_association(session, notice, association_id):
            per_han = _register_rows(session, notice, association_id)
            rows.append(_total(association_id, per_han))
            rows.extend(per_han)
    return rows


def _total(association_id: int | None, per_han: list[CoverageRow]) -> CoverageRow:
    return CoverageRow(
        association_id,
        None,
        sum(r.households for r in per_han),
        sum(r.line_households for r in per_han),
        sum(r.line_reached for r in per_han),
        sum(r.paper for r in per_han),
    )


def _register_rows(session: Session, notice: Notice, association_id: int) -> list[CoverageRow]:
    """Per 班 of the register: paper counts only households LINE did not reach already."""
    counts = household_coverage.counts_by_han(session, notice, association_id)
    return [
        CoverageRow(association_id, han, total, sent, reached, paper)
        for han, (total, sent, reached, paper) in sorted(
            counts.items(), key=lambda kv: (kv[0] == "", kv[0])
        )
    ]


def _row(
    association_id: int | None,
    han: str,
    line: dict[Key, set[str]],
    reached: set[str],
    paper: dict[Key, int],
    sizes: dict[Key, int],
) -> CoverageRow:
    key = (association_id, han)
    households = line.get(key, set())
    known = len(households) + paper.get(key, 0)
    return CoverageRow(
        association_id,
        han,
        max(sizes.get(key, 0), known) if key in sizes else known,
        len(households),
        len(households & reached),
        paper.get(key, 0),
    )


def _line_households(session: Session, notice_id: int) -> dict[Key, set[str]]:
    found: dict[Key, set[str]] = defaultdict(set)
    for association_id, han, household in session.exec(
        select(
            NoticeRecipient.association_id, NoticeRecipient.han, NoticeRecipient.household_key
        ).where(NoticeRecipient.notice_id == notice_id)
    ).all():
        found[(association_id, han)].add(household)
    return found


def _acked(session: Session, notice_id: int) -> set[str]:
    return set(
        session.exec(
            select(NoticeRecipient.household_key)
            .join(
                NoticeAck,
                (col(NoticeAck.notice_id) == col(NoticeRecipient.notice_id))
                & (col(NoticeAck.resident_id) == col(NoticeRecipient.resident_id)),
            )
            .where(NoticeRecipient.notice_id == notice_id)
        ).all()
    )


def _delivered(session: Session, notice: Notice) -> set[str]:
    sent = outcomes.sent_resident_ids(
        select(OutboxMessage.id).where(col(OutboxMessage.key).like(f"notice:{notice.id}:%"))
    )
    return set(
        session.exec(
            select(NoticeRecipient.household_key).where(
                NoticeRecipient.notice_id == notice.id, col(NoticeRecipient.resident_id).in_(sent)
            )
        ).all()
    )


def _paper(session: Session, notice_id: int) -> dict[Key, int]:
    return {
        (association_id, han): int(n)
        for association_id, han, n in session.exec(
            select(PaperDelivery.association_id, PaperDelivery.han, func.count())
            .where(PaperDelivery.notice_id == notice_id)
            .group_by(col(PaperDelivery.association_id), col(PaperDelivery.han))
        ).all()
    }


def _sizes(session: Session, association_ids: set[int]) -> dict[Key, int]:
    if not association_ids:
        return {}
    return {
        (row.association_id, row.han): row.households
        for row in session.exec(
            select(HanHouseholds).where(
                col(HanHouseholds.association_id).in_(list(association_ids))
            )
        )
    }


def set_han_households(
    session: Session, *, association_id: int, han: str, households: int
) -> HanHouseholds:
    """Record how many households a 班 has (paper and LINE), for the coverage denominator."""
    row = session.exec(
        select(HanHouseholds).where(
            HanHouseholds.association_id == association_id, HanHouseholds.han == han
        )
    ).first()
    row = row or HanHouseholds(association_id=association_id, han=han)
    row.households = max(households, 0)
    session.add(row)
    return row
