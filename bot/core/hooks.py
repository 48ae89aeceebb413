"""Effects across features: one feature announces what happened, others subscribe.

Features never import each other. When membership changes, volunteering must refresh its
match keys; when an event is cancelled, the notices about it are withdrawn. The feature
where it happens calls `emit_*` here; the features that care declare a subscriber on their
`Feature` record, and `install` (run once when `bot.features` is imported) wires them up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

MembershipChanged = Callable[[Session, int, datetime], None]  # (session, resident id, now)
EventCancelled = Callable[[Session, int, datetime], None]  # (session, event id, now)
# (session, association id, since, until) -> named counts for the officers' daily digest
DigestCounts = Callable[[Session, int, datetime, datetime], Mapping[str, int]]


@dataclass(frozen=True)
class Subscriptions:
    """What one feature wants to hear about."""

    membership_changed: tuple[MembershipChanged, ...] = ()
    event_cancelled: tuple[EventCancelled, ...] = ()
    # Figures for the officers' daily digest, counted by the feature that owns them.
    digest_counts: tuple[DigestCounts, ...] = ()


@dataclass
class _Installed:
    membership_changed: list[MembershipChanged] = field(default_factory=list)
    event_cancelled: list[EventCancelled] = field(default_factory=list)
    digest_counts: list[DigestCounts] = field(default_factory=list)


_installed = _Installed()


def install(subscriptions: Iterable[Subscriptions]) -> None:
    """Wire every feature's subscribers (idempotent: a subscriber is added once)."""
    for subs in subscriptions:
        for fn in subs.membership_changed:
            if fn not in _installed.membership_changed:
                _installed.membership_changed.append(fn)
        for cancelled in subs.event_cancelled:
            if cancelled not in _installed.event_cancelled:
                _installed.event_cancelled.append(cancelled)
        for counts in subs.digest_counts:
            if counts not in _installed.digest_counts:
                _installed.digest_counts.append(counts)


def uninstall(subscriptions: Iterable[Subscriptions]) -> None:
    """Remove subscribers `install` wired (tests installing a stub take it out again)."""
    for subs in subscriptions:
        for fn in subs.membership_changed:
            if fn in _installed.membership_changed:
                _installed.membership_changed.remove(fn)
        for cancelled in subs.event_cancelled:
            if cancelled in _installed.event_cancelled:
                _installed.event_cancelled.remove(cancelled)
        for counts in subs.digest_counts:
            if counts in _installed.digest_counts:
                _installed.digest_counts.remove(counts)


def emit_membership_changed(session: Session, resident_id: int, now: datetime) -> None:
    """A resident joined, left, moved or was approved or declined: in the caller's transaction."""
    for fn in _installed.membership_changed:
        fn(session, resident_id, now)


def emit_event_cancelled(session: Session, event_id: int, now: datetime) -> None:
    """An event was cancelled: in the caller's transaction."""
    for fn in _installed.event_cancelled:
        fn(session, event_id, now)


def ask_digest_counts(
    session: Session, association_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    """Every subscriber's named counts for one association's window [since, until), merged
    (a name two subscribers give is summed)."""
    merged: dict[str, int] = {}
    for fn in _installed.digest_counts:
        for name, count in fn(session, association_id, since, until).items():
            merged[name] = merged.get(name, 0) + int(count)
    return merged
