"""SQLModel tables, one module per domain; importing this package registers them all."""

from bot.models.areas import Association, District, MovingInCounter, Town, Ward  # noqa: F401
from bot.models.core import Conversation, Resident, ResidentStatus, WebhookEvent
from bot.models.delivery import OutboxBatch, OutboxMessage, OutboxRecipient  # noqa: F401

__all__ = ["Conversation", "Resident", "ResidentStatus", "WebhookEvent"]
