"""SQLModel tables, one module per domain; importing this package registers them all."""

from bot.models import membership_tally as _membership_tally  # noqa: F401 - its flush hook
from bot.models.areas import Association, District, MovingInCounter, Town, Ward  # noqa: F401
from bot.models.core import Conversation, Resident, ResidentStatus, WebhookEvent
from bot.models.delivery import OutboxBatch, OutboxMessage, OutboxRecipient  # noqa: F401
from bot.models.events import CheckIn, Event, Rsvp, WaitlistOffer, WalkIn  # noqa: F401
from bot.models.membership import ConsentRecord, JoinCode, Membership, Officer  # noqa: F401
from bot.models.notices import (  # noqa: F401
    HanLeader,
    Notice,
    NoticeAck,
    NoticeRecipient,
    PaperDelivery,
)
from bot.models.scheduling import JobRun, QuotaSnapshot, SurveyAnswer, SurveyWave  # noqa: F401
from bot.models.staff import ApiToken, AuditLog, StaffAccount, StaffScope  # noqa: F401
from bot.models.volunteers import (  # noqa: F401
    Opportunity,
    Shift,
    Slot,
    VolunteerMatchKey,
    VolunteerMonth,
    VolunteerOffer,
    VolunteerProfile,
)

__all__ = ["Conversation", "Resident", "ResidentStatus", "WebhookEvent"]
