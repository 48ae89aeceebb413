"""Event reminders: when residents going to an event hear about it again, per category.

Derived every run from the event as it stands: its start time and status. A moved event
gets reminders at its new time (the key names the start), a cancelled one none; a rule is
sent once (the outbox key), and when several rules are due at once (a scheduler that was
down, an event published late) only the latest is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import Session, col, select

from bot.content import ContentError
from bot.features.events.models import Event, EventStatus, Rsvp, RsvpAnswer

RULES_FILE = "reminders.yaml"


@dataclass(frozen=True)
class Rule:
    """One reminder: the day before at a local time, or some hours before the start."""

    id: str
    day_before_at: time | None = None
    hours_before: float | None = None

    def fire_at(self, starts_at: datetime, tz: ZoneInfo) -> datetime:
        """When this reminder is due for an event starting at `starts_at` (UTC)."""
        if self.hours_before is not None:
            return starts_at - timedelta(hours=self.hours_before)
        assert self.day_before_at is not None
        day = starts_at.astimezone(tz).date() - timedelta(days=1)
        return datetime.combine(day, self.day_before_at, tzinfo=tz).astimezone(UTC)

    @property
    def lead(self) -> timedelta:
        """The longest time before the start this rule can fire."""
        return timedelta(hours=self.hours_before) if self.hours_before else timedelta(hours=48)


@dataclass(frozen=True)
class Rules:
    """Rules per event category, with a default for the rest."""

    default: tuple[Rule, ...]
    categories: Mapping[str, tuple[Rule, ...]]

    def for_category(self, category: str) -> tuple[Rule, ...]:
        """The rules of a category."""
        return self.categories.get(category, self.default)

    @property
    def horizon(self) -> timedelta:
        """How far ahead events can have a due reminder."""
        rules = [*self.default, *(r for rs in self.categories.values() for r in rs)]
        return max((r.lead for r in rules), default=timedelta(0))


def load_rules(content_root: Path) -> Rules:
    """content/reminders.yaml, read once per content folder."""
    return _load(content_root.resolve())


@lru_cache(maxsize=4)
def _load(root: Path) -> Rules:
    path = root / RULES_FILE
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    try:
        default = _rules(raw.get("default") or [])
        categories = {str(k): _rules(v or []) for k, v in (raw.get("categories") or {}).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise ContentError(f"{path}: {exc}") from None
    return Rules(default, categories)


def _rules(raw: list[dict[str, Any]]) -> tuple[Rule, ...]:
    rules = []
    for entry in raw:
        if "day_before_at" in entry:
            at = time.fromisoformat(str(entry["day_before_at"]))
            rules.append(Rule(f"day_before_{at:%H%M}", day_before_at=at))
        elif "hours_before" in entry:
            hours = float(entry["hours_before"])
            if hours <= 0:
                raise ValueError("hours_before must be positive")
            rules.append(Rule(f"hours_before_{hours:g}", hours_before=hours))
        else:
            raise ValueError(f"a rule needs day_before_at or hours_before, got {entry}")
    return tuple(rules)


@dataclass(frozen=True)
class DueReminder:
    """A reminder to enqueue now."""

    event: Event
    rule: Rule
    key: str
    resident_ids: list[int]


def due_reminders(session: Session, rules: Rules, now: datetime, tz: ZoneInfo) -> list[DueReminder]:
    """Reminders due at `now` for published events that have not started."""
    events = session.exec(
        select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            col(Event.starts_at) > now,
            col(Event.starts_at) <= now + rules.horizon,
        )
        .order_by(col(Event.starts_at))
    ).all()
    found = []
    for event in events:
        rule = _latest_due(event, rules.for_category(event.category), now, tz)
        if rule is None:
            continue
        going = session.exec(
            select(Rsvp.resident_id)
            .where(Rsvp.event_id == event.id, Rsvp.answer == RsvpAnswer.GOING)
            .order_by(col(Rsvp.resident_id))
        ).all()
        key = f"event-reminder:{event.id}:{rule.id}:{event.starts_at:%Y%m%dT%H%MZ}"
        found.append(DueReminder(event, rule, key, [int(r) for r in going]))
    return found


def _latest_due(event: Event, rules: tuple[Rule, ...], now: datetime, tz: ZoneInfo) -> Rule | None:
    # A rule whose moment passed before the event was published would only repeat what the
    # resident just read, so it is skipped.
    published = event.published_at or event.created_at
    due = [(r.fire_at(event.starts_at, tz), r) for r in rules]
    due = [(at, r) for at, r in due if at <= now and at >= published]
    return max(due, key=lambda pair: pair[0])[1] if due else None
