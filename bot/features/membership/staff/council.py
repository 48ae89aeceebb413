"""Membership's part of the council report: the overview's members per association and the
join funnel, as their pages show them for the area."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.hooks import CouncilQuery, CouncilTable
from bot.features.membership.staff.funnel_view import funnel_table
from bot.features.membership.staff.overview import overview_table
from bot.staff.tables import council_table


def council_sections(session: Session, query: CouncilQuery) -> list[CouncilTable]:
    """Members and households per association, and the join funnel per QR source."""
    words = query.words
    funnel = funnel_table(session, query.scope)
    return [
        council_table(
            query.words,
            overview_table(session, query.scope),
            order=20,
            title=words("overview.table"),
            sheet=words("council.sheet.members"),
        ),
        council_table(
            query.words,
            funnel,
            order=21,
            title=words("funnel.title"),
            sheet=words("council.sheet.funnel"),
        ),
    ]
