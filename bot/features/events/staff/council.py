"""Events' part of the council report: events held with participants, first-timers and
newcomers, and the busiest 10%'s share, as the 参加の広がり page shows them for the area."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.hooks import CouncilQuery, CouncilTable
from bot.features.events.staff.diversity_view import busiest_share, diversity_table
from bot.staff.tables import council_table, notes_table


def council_sections(session: Session, query: CouncilQuery) -> list[CouncilTable]:
    """The diversity page's figures and table (the page's own formatting)."""
    words = query.words
    table = diversity_table(session, query.scope, query.settings.tz)
    share, people, attendances = busiest_share(session, query.scope)
    notes = {
        "events_held": f"{len(table.rows):,}",
        "busiest_share": f"{share:.0%}" if share is not None else "-",
        "participants": f"{people:,}",
        "attendances": f"{attendances:,}",
    }
    return [
        council_table(
            query.words,
            notes_table("participation-figures", notes, words),
            order=30,
            title=words("diversity.title"),
            sheet=words("council.sheet.participation"),
        ),
        council_table(
            query.words,
            table,
            order=31,
            title=words("diversity.title"),
            sheet=words("council.sheet.events"),
        ),
    ]
