"""When a push may go: quiet hours, each resident's weekly budget, LINE's monthly quota.

`decide` is a pure function of the push, the resident's budget, the time and the quota; the
sender calls it right before a LINE call and scheduler jobs call it before enqueueing. The
few queries it needs (pushes this week, the month's quota) are below it, kept apart.

Replies are not pushes: they cost no quota and never pass through here.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.platform.delivery.models import (
    OutboxMessage,
    OutboxRecipient,
    QuotaSnapshot,
    RecipientStatus,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

HoldReason = Literal["quota", "budget"]
BUDGET_WINDOW = timedelta(days=7)
# Pushes an officer receives for their role, not as a resident: they neither spend nor count
# against the weekly budget (a daily digest would otherwise use it up by Wednesday).
BUDGET_EXEMPT_KINDS: tuple[str, ...] = ("officer_digest",)


@dataclass(frozen=True)
class SendNow:
    """Call LINE now."""


@dataclass(frozen=True)
class DeferUntil:
    """Keep the push queued until `at` (UTC); decide again then."""

    at: datetime


@dataclass(frozen=True)
class Hold:
    """Do not send: the quota share is past the hold line, or the resident's budget is spent.

    `recheck_at` is when asking again may give another answer (None: not this week/month).
    """

    reason: HoldReason
    recheck_at: datetime | None = None


Decision = SendNow | DeferUntil | Hold
SEND_NOW = SendNow()


@dataclass(frozen=True)
class Push:
    """What the policy needs to know about one push (an outbox message or batch)."""

    urgent: bool
    spread_key: str  # stable per push (outbox key or batch retry key): same key, same slot
    recipients: int = 1  # messages LINE will count against the quota


@dataclass(frozen=True)
class Budget:
    """A resident's non-urgent pushes over the last seven days, and how many are allowed."""

    sent_this_week: int
    weekly_limit: int

    @property
    def exhausted(self) -> bool:
        """True when one more push would exceed the weekly allowance."""
        return self.sent_this_week >= self.weekly_limit


@dataclass(frozen=True)
class Quota:
    """This month's quota as last read from LINE."""

    limit: int | None  # None: the plan has no monthly limit
    used: int

    @property
    def share(self) -> float | None:
        """Used / limit, or None when unlimited."""
        if self.limit is None:
            return None
        return self.used / self.limit if self.limit > 0 else 1.0


@dataclass(frozen=True)
class Policy:
    """The knobs, from settings; defaults are the documented ones."""

    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    spread: timedelta = timedelta(minutes=30)
    weekly_budget: int = 3
    warn_share: float = 0.8
    hold_share: float = 0.95
    quota_recheck: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """The policy a deployment configured."""
        return cls(
            quiet_start=_parse_hhmm(settings.quiet_hours_start),
            quiet_end=_parse_hhmm(settings.quiet_hours_end),
            spread=timedelta(minutes=settings.quiet_spread_minutes),
            weekly_budget=settings.weekly_push_budget,
            warn_share=settings.quota_warn_share,
            hold_share=settings.quota_hold_share,
        )


def decide(
    push: Push,
    budget: Budget | None,
    now: datetime,
    tz: ZoneInfo,
    quota: Quota | None,
    policy: Policy | None = None,
) -> Decision:
    """Send now, defer past quiet hours, or hold. Urgent pushes (disaster notices) always go.

    Order matters: a hold is final for now, so it wins over a deferral that would only
    postpone the same refusal to 08:00.
    """
    policy = policy or Policy()
    if push.urgent:
        return SEND_NOW
    if quota is not None and quota_holds(quota, push, policy):
        return Hold("quota", now + policy.quota_recheck)
    if budget is not None and budget.exhausted:
        return Hold("budget")
    if in_quiet_hours(now, tz, policy):
        return DeferUntil(
            quiet_hours_end(now, tz, policy) + spread_offset(push.spread_key, policy.spread)
        )
    return SEND_NOW


def in_quiet_hours(now: datetime, tz: ZoneInfo, policy: Policy) -> bool:
    """True between quiet_start and quiet_end in the city's time zone (across midnight)."""
    start, end = policy.quiet_start, policy.quiet_end
    local = now.astimezone(tz).time()
    if start == end:
        return False
    if start > end:
        return local >= start or local < end
    return start <= local < end


def quiet_hours_end(now: datetime, tz: ZoneInfo, policy: Policy) -> datetime:
    """The next moment quiet hours end (UTC), e.g. the coming 08:00 local."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), policy.quiet_end, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), policy.quiet_end, tzinfo=tz)
    return candidate.astimezone(UTC)


def spread_offset(key: str, spread: timedelta) -> timedelta:
    """A stable offset in [0, spread) from `key`, so deferred pushes don't all fire at 08:00:00.

    Deterministic: deciding again for the same push gives the same moment, and a restart
    does not reshuffle the queue.
    """
    span_ms = int(spread.total_seconds() * 1000)
    if span_ms <= 0:
        return timedelta(0)
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return timedelta(milliseconds=int.from_bytes(digest, "big") % span_ms)


def quota_holds(quota: Quota, push: Push, policy: Policy) -> bool:
    """True when a non-urgent push must wait: past the hold share, or it would not fit."""
    if quota.limit is None:
        return False
    share = (quota.used + push.recipients) / quota.limit if quota.limit > 0 else 1.0
    return share > policy.hold_share


def quota_warns(quota: Quota, policy: Policy) -> bool:
    """True when staff should be warned (80% of the month's quota by default)."""
    share = quota.share
    return share is not None and share >= policy.warn_share


# --- queries -------------------------------------------------------------------------------


def decide_for_send(
    session: Session,
    *,
    urgent: bool,
    spread_key: str,
    recipients: int,
    now: datetime,
    settings: Settings,
) -> Decision:
    """`decide_for_batch` reading this month's quota first, for a caller that holds none.

    The sender keeps a recent reading instead and calls `decide_for_batch` with the batch's
    retry key as `spread_key` and its reachable recipients' count.
    """
    quota = current_quota(session, now, settings.tz)
    return decide_for_batch(
        quota,
        urgent=urgent,
        spread_key=spread_key,
        recipients=recipients,
        now=now,
        tz=settings.tz,
        policy=Policy.from_settings(settings),
    )


def decide_for_batch(
    quota: Quota | None,
    *,
    urgent: bool,
    spread_key: str,
    recipients: int,
    now: datetime,
    tz: ZoneInfo,
    policy: Policy,
) -> Decision:
    """`decide` for a batch, given the quota reading the sender already holds."""
    push = Push(urgent=urgent, spread_key=spread_key, recipients=recipients)
    return decide(push, None, now, tz, quota, policy)


def pushes_this_week(session: Session, resident_ids: list[int], now: datetime) -> dict[int, int]:
    """Resident id → non-urgent pushes queued or sent to them in the last seven days."""
    counts: dict[int, int] = {}
    for start in range(0, len(resident_ids), 1000):
        chunk = resident_ids[start : start + 1000]
        rows = session.execute(
            select(col(OutboxRecipient.resident_id), func.count())
            .join(OutboxMessage, col(OutboxMessage.id) == col(OutboxRecipient.message_id))
            .where(
                col(OutboxRecipient.resident_id).in_(chunk),
                col(OutboxMessage.urgent).is_(False),
                col(OutboxMessage.kind).not_in(BUDGET_EXEMPT_KINDS),
                col(OutboxMessage.created_at) >= now - BUDGET_WINDOW,
                col(OutboxRecipient.status) != RecipientStatus.UNREACHABLE,
            )
            .group_by(col(OutboxRecipient.resident_id))
        ).all()
        counts.update({int(rid): int(n) for rid, n in rows})
    return counts


def within_budget(
    session: Session, resident_ids: list[int], now: datetime, policy: Policy
) -> list[int]:
    """The residents who may receive one more non-urgent push this week, in the given order."""
    counts = pushes_this_week(session, resident_ids, now)
    return [
        rid
        for rid in resident_ids
        if not Budget(counts.get(rid, 0), policy.weekly_budget).exhausted
    ]


def month_of(now: datetime, tz: ZoneInfo) -> str:
    """The quota month (LINE counts calendar months) in the city's time zone."""
    return now.astimezone(tz).strftime("%Y-%m")


def current_quota(session: Session, now: datetime, tz: ZoneInfo) -> Quota | None:
    """This month's quota as last read, or None before the first read of the month."""
    row = session.get(QuotaSnapshot, month_of(now, tz))
    return Quota(row.limit, row.used) if row is not None else None


@dataclass(frozen=True)
class QuotaStatus:
    """What the staff web shows: the numbers, and whether we warn or hold."""

    month: str
    limit: int | None
    used: int
    share: float | None
    warn: bool
    holding: bool
    newly_warned: bool  # this reading crossed the warning line (notify staff once)
    taken_at: datetime


def record_quota(
    session: Session,
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int | None,
    used: int,
    policy: Policy,
) -> QuotaStatus:
    """Store a reading of LINE's quota; marks the month warned the first time it passes 80%."""
    month = month_of(now, tz)
    row = session.get(QuotaSnapshot, month) or QuotaSnapshot(month=month, taken_at=now)
    row.limit, row.used, row.taken_at = limit, used, now
    quota = Quota(limit, used)
    warn = quota_warns(quota, policy)
    holding = quota.share is not None and quota.share > policy.hold_share
    newly_warned = warn and row.warned_at is None
    if newly_warned:
        row.warned_at = now
    row.holding_since = (row.holding_since or now) if holding else None
    session.add(row)
    return QuotaStatus(month, limit, used, quota.share, warn, holding, newly_warned, now)


def quota_status(
    session: Session, now: datetime, tz: ZoneInfo, policy: Policy
) -> QuotaStatus | None:
    """The month's quota for the staff web banner, or None before the first reading."""
    row = session.get(QuotaSnapshot, month_of(now, tz))
    if row is None:
        return None
    quota = Quota(row.limit, row.used)
    holding = quota.share is not None and quota.share > policy.hold_share
    return QuotaStatus(
        row.month,
        row.limit,
        row.used,
        quota.share,
        quota_warns(quota, policy),
        holding,
        False,
        row.taken_at,
    )


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
