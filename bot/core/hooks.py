"""Effects across features: one feature announces what happened, others subscribe.

Features never import each other. When membership changes, volunteering must refresh its
match keys; when an event is cancelled, the notices about it are withdrawn. The feature
where it happens calls `emit_*` here; the features that care declare a subscriber on their
`Feature` record, and `install` (run once when `bot.features` is imported) wires them up.

Questions across features work the same way: the feature that asks calls `ask_*` here, and
the feature that knows the answer declares an answerer on its `Feature` record (surveys ask
events which events just ended; volunteering asks which events an opportunity may help).
With no answerer installed, an `ask_*` returns nothing. Notices ask events how to show the
event a notice invites to; events ask notices to announce an event (published in LINE, or
from the staff web after showing what it would reach and cost);
audiences ask who took part in anything; the events' diversity page asks membership who
arrived through a city counter's QR; わたしの出欠 asks events and volunteering what each
resident has said they will do (`ask_resident_commitments`); the council report asks every
feature for its figures of an area and period (`ask_council_sections`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session

from bot.content import Content
from bot.core.scope import Scope

MembershipChanged = Callable[[Session, int, datetime], None]  # (session, resident id, now)
EventCancelled = Callable[[Session, int, datetime], None]  # (session, event id, now)
# (session, household id, now): a household left the register; drop every row pointing at it.
HouseholdRemoved = Callable[[Session, int, datetime], None]
# (session, association id, since, until) -> named counts for the officers' daily digest
DigestCounts = Callable[[Session, int, datetime, datetime], Mapping[str, int]]


@dataclass(frozen=True)
class EndedEvent:
    """A published event that has ended and had at least one check-in."""

    id: int
    title: str
    ends_at: datetime


@dataclass(frozen=True)
class EventChoice:
    """An event as another feature shows or links it: a name, a time, its association."""

    id: int
    title: str
    starts_at: datetime
    association_id: int | None


# (session, since, until) -> published events with check-ins that ended in [since, until]
EndedEvents = Callable[[Session, datetime, datetime], list[EndedEvent]]
# (session, event id) -> residents checked in at the event
EventAttendees = Callable[[Session, int], list[int]]
# (session, scope, now, limit) -> events not cancelled, starting after now, in scope, soonest first
UpcomingEvents = Callable[[Session, Scope, datetime, int], list[EventChoice]]
# (session, event ids) -> those events that exist, by id
EventsById = Callable[[Session, Collection[int]], dict[int, EventChoice]]


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


@dataclass(frozen=True)
class AnnouncementPreview:
    """What announcing an event would take (or took): answered by the notices feature.

    `recipients`, `api_calls` and `quota_messages` are the cost before sending, as a notice's
    preview shows them; once announced, `announced` is True and `announced_recipients` says
    how many residents the invitation reached."""

    recipients: int
    api_calls: int
    quota_messages: int
    messages_per_recipient: int
    announced: bool
    announced_recipients: int


# (session, event id, content) -> the announcement's reach and cost, or None (not published).
PreviewAnnouncement = Callable[[Session, int, Content], AnnouncementPreview | None]
# Given the column holding a resident id, a condition true when that resident took part in
# something (checked in, said they would come): audiences can reach those who never did.
Participation = Callable[[Any], ColumnElement[bool]]
# (session, resident ids) -> when each first arrived through a city counter's join QR.
CounterArrivals = Callable[[Session, list[int] | None], dict[int, datetime]]


@dataclass(frozen=True)
class Commitment:
    """Something a resident said they will do (an event answered, a shift taken), as わたしの
    出欠 lists it: one line in their language, and the postbacks that change or cancel it."""

    starts_at: datetime
    line: str
    change: str | None = None  # postback data; None when it cannot be changed, only cancelled
    cancel: str | None = None


# (session, resident id, now, content, locale, time zone) -> what the resident has still to do
ResidentCommitments = Callable[[Session, int, datetime, Content, str, Any], list[Commitment]]


@dataclass(frozen=True)
class CouncilQuery:
    """What the council report asks each feature for: the figures of one area and period.

    `scope` is the caller's scope narrowed to the area, so a feature answering with its own
    page's table (built for that scope) gives the numbers its page shows for the area.
    `words` is the staff translator of `locale` (bot.staff.i18n.Translator; core names no
    higher layer); `settings` is bot.settings.Settings.
    """

    scope: Scope
    area: str  # city, ward:<id> or district:<id>
    area_name: str
    since: date | None
    until: date | None
    locale: str
    words: Any
    settings: Any


@dataclass(frozen=True)
class CouncilTrend:
    """A trend the report draws: (label, value, low, high) per period, and reference lines."""

    marks: tuple[tuple[str, float | None, float | None, float | None], ...]
    references: tuple[tuple[float, str], ...] = ()
    y_label: str = ""
    hidden_label: str = ""


@dataclass(frozen=True)
class CouncilTable:
    """One table of the council report, as the feature's own page renders it.

    `columns` are (row key, staff-text key of the header, numeric); `rows` the page's own
    row dicts, so the PDF, the workbook and the page show the same values.
    """

    order: int
    name: str
    title: str
    sheet: str
    columns: tuple[tuple[str, str, bool], ...]
    rows: tuple[Mapping[str, Any], ...]
    note: str = ""
    trend: CouncilTrend | None = None


# (session, query) -> the feature's tables for the council report
CouncilSections = Callable[[Session, CouncilQuery], list[CouncilTable]]


@dataclass(frozen=True)
class OverviewIndicator:
    """One indicator's latest value in one area, for the staff overview.

    Values are already formatted as the indicator page shows them ("" when the plan has no
    baseline or target); `status` is a staff-text key (met, progress, behind or hidden).
    """

    name: str
    area_name: str
    wave: str
    answers: str
    share: str
    interval: str
    baseline: str
    target: str
    status: str
    link: str
    suppressed: bool = False


# (session, scope, words: staff translator, locale, settings) -> indicators for the overview
OverviewIndicators = Callable[[Session, Scope, Any, str, Any], list[OverviewIndicator]]


@dataclass(frozen=True)
class Subscriptions:
    """What one feature wants to hear about."""

    membership_changed: tuple[MembershipChanged, ...] = ()
    event_cancelled: tuple[EventCancelled, ...] = ()
    household_removed: tuple[HouseholdRemoved, ...] = ()
    # Questions it answers for other features (see the `ask_*` functions).
    ended_events: tuple[EndedEvents, ...] = ()
    event_attendees: tuple[EventAttendees, ...] = ()
    upcoming_events: tuple[UpcomingEvents, ...] = ()
    events_by_id: tuple[EventsById, ...] = ()
    describe_event: tuple[DescribeEvent, ...] = ()
    announce_event: tuple[AnnounceEvent, ...] = ()
    preview_announcement: tuple[PreviewAnnouncement, ...] = ()
    participation: tuple[Participation, ...] = ()
    counter_arrivals: tuple[CounterArrivals, ...] = ()
    # Figures for the officers' daily digest, counted by the feature that owns them.
    digest_counts: tuple[DigestCounts, ...] = ()
    # What a resident has said they will do, for わたしの出欠.
    resident_commitments: tuple[ResidentCommitments, ...] = ()
    # Tables for the council report (bot/features/council).
    council_sections: tuple[CouncilSections, ...] = ()
    # Indicators against their targets on the staff overview (membership's start page).
    overview_indicators: tuple[OverviewIndicators, ...] = ()


@dataclass
class _Installed:
    membership_changed: list[MembershipChanged] = field(default_factory=list)
    event_cancelled: list[EventCancelled] = field(default_factory=list)
    household_removed: list[HouseholdRemoved] = field(default_factory=list)
    ended_events: list[EndedEvents] = field(default_factory=list)
    event_attendees: list[EventAttendees] = field(default_factory=list)
    upcoming_events: list[UpcomingEvents] = field(default_factory=list)
    events_by_id: list[EventsById] = field(default_factory=list)
    describe_event: list[DescribeEvent] = field(default_factory=list)
    announce_event: list[AnnounceEvent] = field(default_factory=list)
    preview_announcement: list[PreviewAnnouncement] = field(default_factory=list)
    participation: list[Participation] = field(default_factory=list)
    counter_arrivals: list[CounterArrivals] = field(default_factory=list)
    digest_counts: list[DigestCounts] = field(default_factory=list)
    resident_commitments: list[ResidentCommitments] = field(default_factory=list)
    council_sections: list[CouncilSections] = field(default_factory=list)
    overview_indicators: list[OverviewIndicators] = field(default_factory=list)


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
        _add(_installed.household_removed, subs.household_removed)
        _add(_installed.ended_events, subs.ended_events)
        _add(_installed.event_attendees, subs.event_attendees)
        _add(_installed.upcoming_events, subs.upcoming_events)
        _add(_installed.events_by_id, subs.events_by_id)
        _add(_installed.describe_event, subs.describe_event)
        _add(_installed.announce_event, subs.announce_event)
        _add(_installed.preview_announcement, subs.preview_announcement)
        _add(_installed.participation, subs.participation)
        _add(_installed.counter_arrivals, subs.counter_arrivals)
        _add(_installed.digest_counts, subs.digest_counts)
        _add(_installed.resident_commitments, subs.resident_commitments)
        _add(_installed.council_sections, subs.council_sections)
        _add(_installed.overview_indicators, subs.overview_indicators)


def _add(installed: list[Any], answerers: Iterable[Any]) -> None:
    for fn in answerers:
        if fn not in installed:
            installed.append(fn)


def uninstall(subscriptions: Iterable[Subscriptions]) -> None:
    """Remove what `install` wired (a test installing a stub takes it out again)."""
    for subs in subscriptions:
        for hook in fields(Subscriptions):
            installed: list[Any] = getattr(_installed, hook.name)
            for fn in getattr(subs, hook.name):
                if fn in installed:
                    installed.remove(fn)


def emit_membership_changed(session: Session, resident_id: int, now: datetime) -> None:
    """A resident joined, left, moved or was approved or declined: in the caller's transaction."""
    for fn in _installed.membership_changed:
        fn(session, resident_id, now)


def emit_event_cancelled(session: Session, event_id: int, now: datetime) -> None:
    """An event was cancelled: in the caller's transaction."""
    for fn in _installed.event_cancelled:
        fn(session, event_id, now)


def emit_household_removed(session: Session, household_id: int, now: datetime) -> None:
    """A household left the register (the officer removed it, or its last LINE member left):
    in the caller's transaction, before its row goes."""
    for fn in _installed.household_removed:
        fn(session, household_id, now)


def ask_ended_events(session: Session, since: datetime, until: datetime) -> list[EndedEvent]:
    """Published events with at least one check-in that ended between `since` and `until`."""
    return [event for fn in _installed.ended_events for event in fn(session, since, until)]


def ask_event_attendees(session: Session, event_id: int) -> list[int]:
    """Residents checked in at the event, by resident id."""
    return sorted({rid for fn in _installed.event_attendees for rid in fn(session, event_id)})


def ask_upcoming_events(
    session: Session, scope: Scope, now: datetime, limit: int
) -> list[EventChoice]:
    """Events in `scope` starting after `now` and not cancelled, soonest first."""
    found = [event for fn in _installed.upcoming_events for event in fn(session, scope, now, limit)]
    return sorted(found, key=lambda e: e.starts_at)[:limit]


def ask_events_by_id(session: Session, event_ids: Collection[int]) -> dict[int, EventChoice]:
    """The events of `event_ids` that exist, by id."""
    ids = {int(i) for i in event_ids}
    found: dict[int, EventChoice] = {}
    if ids:
        for fn in _installed.events_by_id:
            found.update(fn(session, ids))
    return found


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


def ask_preview_announcement(
    session: Session, event_id: int, content: Content
) -> AnnouncementPreview | None:
    """Reach and cost of announcing a published event (None: not announceable, or no feature
    announces events)."""
    for answer in _installed.preview_announcement:
        found = answer(session, event_id, content)
        if found is not None:
            return found
    return None


def participation_conditions(resident_id: Any) -> list[ColumnElement[bool]]:
    """Conditions, one per feature that records taking part, each true when the resident in
    the column `resident_id` took part."""
    return [condition(resident_id) for condition in _installed.participation]


def ask_counter_arrivals(session: Session, resident_ids: list[int] | None) -> dict[int, datetime]:
    """When each resident first arrived through a city counter's join QR (absent: not so);
    None: every resident who did (far fewer than a city's attendees)."""
    found: dict[int, datetime] = {}
    for answer in _installed.counter_arrivals:
        found.update(answer(session, resident_ids))
    return found


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


def ask_resident_commitments(
    session: Session, resident_id: int, now: datetime, content: Content, locale: str, tz: Any
) -> list[Commitment]:
    """Everything the resident has said they will do and that has not ended, soonest first."""
    found = [
        one
        for fn in _installed.resident_commitments
        for one in fn(session, resident_id, now, content, locale, tz)
    ]
    return sorted(found, key=lambda c: c.starts_at)


def ask_council_sections(session: Session, query: CouncilQuery) -> list[CouncilTable]:
    """Every feature's tables for the council report of one area and period, in order."""
    found = [table for fn in _installed.council_sections for table in fn(session, query)]
    return sorted(found, key=lambda t: t.order)


def ask_overview_indicators(
    session: Session, scope: Scope, words: Any, locale: str, settings: Any
) -> list[OverviewIndicator]:
    """Every indicator's latest value in the areas the caller's pages show (none: no surveys)."""
    return [
        one
        for fn in _installed.overview_indicators
        for one in fn(session, scope, words, locale, settings)
    ]
