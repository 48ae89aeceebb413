"""What every scheduler job receives, and the retention job the shared layers need.

`JobDeps` carries the settings and the one `Notifier`; features' jobs push through
`deps.notifier`. `overrides` lets a test hand a feature's job a catalog of its own
(for example `{"survey_catalog": ...}`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.content import Content
from bot.conversation import held
from bot.conversation import store as flow_store
from bot.conversation.notifier import Notifier
from bot.conversation.render import Renderer
from bot.core import erasure
from bot.platform import inbox
from bot.platform.delivery.send_policy import Policy
from bot.platform.scheduler.jobs import DailyAt, Every, JobSpec
from bot.settings import Settings

Purge = Callable[[Session, datetime, Settings], int]  # (session, now, settings) -> rows removed


@dataclass(frozen=True)
class JobDeps:
    """What jobs need besides the clock and the session."""

    settings: Settings
    notifier: Notifier
    purges: Sequence[Purge] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, content: Content, **kwargs: Any) -> JobDeps:
        """Deps over `content` with the settings' send policy."""
        return cls(settings=settings, notifier=Notifier.build(content, settings), **kwargs)

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        return self.settings.tz

    @property
    def policy(self) -> Policy:
        """The send policy (quiet hours, budgets, quota shares)."""
        return self.notifier.policy

    @property
    def renderer(self) -> Renderer:
        """The renderer pushes are drawn with."""
        return self.notifier.renderer

    @property
    def content(self) -> Content:
        """The loaded content."""
        return self.notifier.content


def retention_job(settings: Settings) -> JobSpec:
    """Daily: forget what is no longer needed (see `retention_purge`)."""
    return JobSpec(
        "retention_purge", retention_purge, DailyAt(time.fromisoformat(settings.retention_purge_at))
    )


def retention_purge(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Forget handled webhook events, stale conversations, residents unfollowed past their
    retention period, and whatever each feature's purges remove."""
    settings = deps.settings
    removed = inbox.purge_processed(session, now - timedelta(days=settings.webhook_retention_days))
    # A day's grace so a resident coming back is still told their session timed out.
    removed += flow_store.purge_expired(session, now - timedelta(days=1))
    removed += erasure.purge_due(session, now)
    for purge in deps.purges:
        removed += purge(session, now, settings)
    return removed


def held_release_job() -> JobSpec:
    """Every minute: pushes that waited for a conversation which has since expired go out."""
    return JobSpec("held_push_release", held.release_job, Every(held.RELEASE_EVERY))
