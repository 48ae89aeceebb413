"""Each 班's progress for the officer: households, on LINE, on paper only, not reached yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.households import natural_key
from bot.core.models.households import Household, Reach


@dataclass(frozen=True)
class HanProgress:
    """One 班 of an association (han="" : households not yet in a 班)."""

    han: str
    households: int
    line: int  # on LINE (alone or with paper)
    paper_only: int
    not_reached: int

    @property
    def line_rate(self) -> float:
        """Share of the 班's households on LINE, 0..1."""
        return self.line / self.households if self.households else 0.0


def by_han(session: Session, *, association_id: int) -> list[HanProgress]:
    """Per 班 (in 班 order), from one grouped query."""
    counts: dict[str, dict[str, int]] = {}
    for han, reach, n in session.exec(
        select(Household.han, Household.reach, func.count())
        .where(Household.association_id == association_id)
        .group_by(col(Household.han), col(Household.reach))
    ).all():
        counts.setdefault(han, {})[reach] = int(n)
    return [
        HanProgress(
            han=han,
            households=sum(c.values()),
            line=c.get(Reach.LINE, 0) + c.get(Reach.BOTH, 0),
            paper_only=c.get(Reach.PAPER, 0),
            not_reached=c.get(Reach.NONE, 0),
        )
        for han, c in sorted(counts.items(), key=lambda kv: (kv[0] == "", natural_key(kv[0])))
    ]


def not_on_line(session: Session, *, association_id: int, han: str | None) -> list[Household]:
    """Households of the association (of one 班) not on LINE: the join worklist."""
    query = select(Household).where(
        Household.association_id == association_id,
        col(Household.reach).in_([Reach.PAPER, Reach.NONE]),
    )
    if han is not None:
        query = query.where(Household.han == han)
    return sorted(session.exec(query), key=lambda h: (natural_key(h.han), natural_key(h.key)))
