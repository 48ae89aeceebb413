"""Effects across features: one feature announces what happened, others subscribe.

Features never import each other. When membership changes, volunteering must refresh its
match keys; when an event is cancelled, the notices about it are withdrawn. The feature
where it happens calls `emit_*` here; the features that care declare a subscriber on their
`Feature` record, and `install` (run once when `bot.features` is imported) wires them up.

A few hooks are questions rather than news (`ask_*`): one feature answers them for another,
and the asker copes with no answer (the answering feature switched off).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session

from bot.content import Content

MembershipChanged = Callable[[Session, int, datetime], None]  # (session, resident id, now)
EventCancelled = Callable[[Session, int, datetime], None]  # (session, event id, now)


@dataclass(frozen=True)
class EventBrief:
    """An event as a notice about it shows it: answered by the events feature.

    `info` holds its texts in one locale (title, when, place, deadline, category) and
    `card_params` the parameters of its card (a flex message with 参加/未定/不参加), to be
    shown as `Say(card_key, card_params, flex=card_flex)`.
    """

    event_id: int
    title: str
    description: str
    association_id: int | None
    audience: Mapping[str, Any]
    published: bool
    info: Mapping[str, Any]
    card_key: str
    card_flex: str
    card_params: Mapping[str, Any]


# (session, event id, content, locale, public base URL) -> the event, or None when unknown.
DescribeEvent = Callable[[Session, int, Content, str, str], EventBrief | None]
# (session, event id, notifier, now, public base URL, author resident id) -> residents invited.
# The notifier is bot.conversation.notifier.Notifier (core names no higher layer).
AnnounceEvent = Callable[[Session, int, Any, datetime, str, int | None], int]
# Given the column holding a resident id, a condition true when that resident took part in
# something (checked in, said they would come): audiences can reach those who never did.
Participation = Callable[[Any], ColumnElement[bool]]
# (session, resident ids) -> when each first arrived through a city counter's join QR.
CounterArrivals = Callable[[Session, list[int]], dict[int, datetime]]


@dataclass(frozen=True)
class Subscriptions:
    """What one feature wants to hear about."""

    membership_changed: tuple[MembershipChanged, ...] = ()
    event_cancelled: tuple[EventCancelled, ...] = ()
    # Questions it answers for others (see `ask_*`).
    describe_event: tuple[DescribeEvent, ...] = ()
    announce_event: tuple[AnnounceEvent, ...] = ()
    participation: tuple[Participation, ...] = ()
    counter_arrivals: tuple[CounterArrivals, ...] = ()


@dataclass
class _Installed:
    membership_changed: list[MembershipChanged] = field(default_factory=list)
    event_cancelled: list[EventCancelled] = field(default_factory=list)
    describe_event: list[DescribeEvent] = field(default_factory=list)
    announce_event: list[AnnounceEvent] = field(default_factory=list)
    participation: list[Participation] = field(default_factory=list)
    counter_arrivals: list[CounterArrivals] = field(default_factory=list)


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
        for name in ("describe_event", "announce_event", "participation", "counter_arrivals"):
            installed: list[Any] = getattr(_installed, name)
            for answer in getattr(subs, name):
                if answer not in installed:
                    installed.append(answer)


def emit_membership_changed(session: Session, resident_id: int, now: datetime) -> None:
    """A resident joined, left, moved or was approved or declined: in the caller's transaction."""
    for fn in _installed.membership_changed:
        fn(session, resident_id, now)


def emit_event_cancelled(session: Session, event_id: int, now: datetime) -> None:
    """An event was cancelled: in the caller's transaction."""
    for fn in _installed.event_cancelled:
        fn(session, event_id, now)


def ask_describe_event(
    session: Session, event_id: int, content: Content, locale: str, base_url: str
) -> EventBrief | None:
    """The event a notice points at, as the notice shows it (None: unknown, or no events)."""
    for answer in _installed.describe_event:
        brief = answer(session, event_id, content, locale, base_url)
        if brief is not None:
            return brief
    return None


def ask_announce_event(
    session: Session,
    event_id: int,
    notifier: Any,
    now: datetime,
    base_url: str,
    author_resident_id: int | None = None,
) -> int | None:
    """Invite a published event's audience with its card (once per event); residents invited,
    or None when no feature announces events."""
    for answer in _installed.announce_event:
        return answer(session, event_id, notifier, now, base_url, author_resident_id)
    return None


def participation_conditions(resident_id: Any) -> list[ColumnElement[bool]]:
    """Conditions, one per feature that records taking part, each true when the resident in
    the column `resident_id` took part."""
    return [condition(resident_id) for condition in _installed.participation]


def ask_counter_arrivals(session: Session, resident_ids: list[int]) -> dict[int, datetime]:
    """When each resident first arrived through a city counter's join QR (absent: not so)."""
    found: dict[int, datetime] = {}
    for answer in _installed.counter_arrivals:
        found.update(answer(session, resident_ids))
    return found
