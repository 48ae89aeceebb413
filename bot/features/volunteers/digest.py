"""Volunteering's figures for the officers' daily digest (the `digest_counts` hook).

Standing figures only (they send no digest by themselves): the association's upcoming open
slots that still have places, and how many places.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.features.volunteers.models import Opportunity, Slot


def counts(
    session: Session, association_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    """`open_slots` and `open_places` of slots starting at or after `until`."""
    rows = session.exec(
        select(Slot.needed, Slot.filled)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(
            Opportunity.association_id == association_id,
            Opportunity.status == "open",
            Slot.status == "open",
            col(Slot.starts_at) >= until,
        )
    ).all()
    gaps = [needed - filled for needed, filled in rows if needed > filled]
    return {"open_slots": len(gaps), "open_places": sum(gaps)}
