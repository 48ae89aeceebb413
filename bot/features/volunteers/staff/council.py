"""Volunteering's part of the council report: hours per association and the headline
figures, as the volunteering page shows them for the area."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.hooks import CouncilQuery, CouncilTable
from bot.features.volunteers.staff.routes import volunteer_figures
from bot.staff.tables import council_table, notes_table


def council_sections(session: Session, query: CouncilQuery) -> list[CouncilTable]:
    """Hours, shifts and points per association, and the page's figures beside them."""
    words = query.words
    table, notes = volunteer_figures(session, query.scope)
    return [
        council_table(
            query.words,
            notes_table("volunteer-figures", notes, words),
            order=40,
            title=words("volunteers.title"),
            sheet=words("council.sheet.volunteer_figures"),
        ),
        council_table(
            query.words,
            table,
            order=41,
            title=words("volunteers.hours"),
            sheet=words("council.sheet.hours"),
        ),
    ]
