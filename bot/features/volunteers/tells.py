"""Who volunteering must tell what: plain facts the services return and their callers push.

Services (volunteers.py, shifts.py, cancel.py) never word or push anything: they return a
`Tell` per resident to reach, and the caller (a job, the flow, a staff page) hands them to
`messages.tell`, which words them in each resident's language and pushes them through the
Notifier. The kind names the words (messages.py) and the outbox kind; the key makes a
repeated cause send once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.features.volunteers.models import Opportunity, Slot

OFFER = "volunteer_offer"  # an ask for a slot, with accept/decline chips
FILLED = "volunteer_filled"  # the slot filled before they answered: the ask is withdrawn
REMINDER = "volunteer_reminder"  # their shift is soon
THANKS = "volunteer_thanks"  # hours and points recorded after a shift
LATE_CANCEL = "volunteer_late_cancel"  # to the organiser: a place reopened shortly before
SLOT_CANCELLED = "volunteer_slot_cancelled"  # the organiser called the slot off


@dataclass(frozen=True)
class Tell:
    """One resident to tell one thing about one slot; `facts` are the words' extra values
    (offer_id and answer_hours for an ask, hours/points/total for thanks, left for a late
    cancellation)."""

    kind: str
    key: str
    resident_id: int
    slot: Slot
    opportunity: Opportunity
    facts: Mapping[str, Any] = field(default_factory=dict)
