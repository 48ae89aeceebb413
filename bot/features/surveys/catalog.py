"""Survey definitions from content/surveys/*.yaml: questions per locale, options, audience,
schedule, anonymity, and the city indicators with their baselines and targets.

Loaded and checked once; a survey that LINE could not show (a label over 20 characters, more
than 13 options, a locale missing) stops start-up with the file and the field named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from bot.content import LOCALES, ContentError, read_yaml

LABEL_LIMIT = 20  # LINE's quick-reply label limit
MAX_OPTIONS = 13  # LINE's quick-reply item limit
MAX_QUESTIONS = 3  # one to three questions: a survey answered in a few taps
Every = Literal["month", "quarter", "year"]


@dataclass(frozen=True)
class Choice:
    """One answer option."""

    id: str
    label: Mapping[str, str]  # locale -> label (≤ 20 characters)


@dataclass(frozen=True)
class Question:
    """One question, answered by one tap."""

    id: str
    text: Mapping[str, str]
    options: tuple[Choice, ...]

    def option_index(self, option_id: str) -> int:
        """Position of an option (postback data carries the index, shorter than the id)."""
        return [o.id for o in self.options].index(option_id)


@dataclass(frozen=True)
class Figure:
    """A published figure: its value (percent) and the year it belongs to."""

    value: float
    label: str  # as the city writes it: 令和元年度, H30 …
    year: int | None = None


@dataclass(frozen=True)
class Indicator:
    """A city's indicator measured by one question: the share choosing `positive` options."""

    id: str
    question: str
    positive: frozenset[str]
    name: Mapping[str, str]
    city: str
    source: str
    target: Figure | None
    baseline: Figure | None = None
    latest: Figure | None = None
    note: str = ""


@dataclass(frozen=True)
class FixedWave:
    """A wave with explicit local open/close times (a pilot, a one-off)."""

    key: str
    opens: datetime  # naive local times, read in the city's time zone
    closes: datetime
    nudge: datetime | None = None


@dataclass(frozen=True)
class Schedule:
    """When waves run: a calendar rule, explicit waves, or after each event."""

    every: Every | None = None
    start_month: int = 1
    open_day: int = 1
    send_at: time = time(10, 0)
    days_open: int = 14
    nudge_days_before_close: int | None = 3
    waves: tuple[FixedWave, ...] = ()
    after_event_hours: float | None = None  # post-event survey: hours after the event ends
    event_lookback_days: int = 3  # ignore events that ended longer ago than this


@dataclass(frozen=True)
class Survey:
    """One survey definition."""

    id: str
    enabled: bool
    anonymous: bool
    audience: str
    title: Mapping[str, str]
    questions: tuple[Question, ...]
    schedule: Schedule
    indicators: tuple[Indicator, ...] = ()

    def question(self, question_id: str) -> Question:
        """Look a question up by id."""
        for candidate in self.questions:
            if candidate.id == question_id:
                return candidate
        raise KeyError(question_id)


@dataclass(frozen=True)
class SurveyCatalog:
    """Every survey shipped in content/surveys."""

    surveys: Mapping[str, Survey] = field(default_factory=dict)

    def get(self, survey_id: str) -> Survey | None:
        """A survey by id, or None when its file was removed."""
        return self.surveys.get(survey_id)

    def enabled(self) -> list[Survey]:
        """Surveys that send waves."""
        return [s for s in self.surveys.values() if s.enabled]


def load_catalog(root: Path) -> SurveyCatalog:
    """Read every content/surveys/*.yaml under `root` (the content folder)."""
    return _load_cached(root.resolve())


@lru_cache(maxsize=8)
def _load_cached(root: Path) -> SurveyCatalog:
    surveys: dict[str, Survey] = {}
    for path in sorted((root / "surveys").glob("*.yaml")):
        try:
            survey = parse_survey(path.stem, read_yaml(path))
        except KeyError as exc:
            raise ContentError(f"{path}: key {exc.args[0]!r} is missing") from None
        except (TypeError, ValueError) as exc:
            raise ContentError(f"{path}: {exc}") from None
        surveys[survey.id] = survey
    return SurveyCatalog(surveys)


def parse_survey(stem: str, raw: dict[str, Any]) -> Survey:
    """One survey from its YAML mapping; raises ValueError naming what is wrong."""
    if raw.get("id", stem) != stem:
        raise ValueError(f"id {raw.get('id')!r} must equal the file name {stem!r}")
    questions = tuple(_question(q) for q in raw["questions"])
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise ValueError(f"a survey has 1 to {MAX_QUESTIONS} questions, not {len(questions)}")
    _unique([q.id for q in questions], "question id")
    survey = Survey(
        id=stem,
        enabled=bool(raw.get("enabled", True)),
        anonymous=bool(raw.get("anonymous", True)),
        audience=str(raw.get("audience", "followers")),
        title=_localised(raw["title"], "title"),
        questions=questions,
        schedule=_schedule(raw["schedule"]),
        indicators=tuple(_indicator(i) for i in raw.get("indicators") or ()),
    )
    for indicator in survey.indicators:
        question = survey.question(indicator.question)
        unknown = indicator.positive - {o.id for o in question.options}
        if unknown:
            raise ValueError(f"indicator {indicator.id}: unknown options {sorted(unknown)}")
    return survey


def _question(raw: dict[str, Any]) -> Question:
    options = tuple(
        Choice(str(o["id"]), _localised(o["label"], f"option {o['id']}", LABEL_LIMIT))
        for o in raw["options"]
    )
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise ValueError(f"question {raw['id']}: 2 to {MAX_OPTIONS} options")
    _unique([o.id for o in options], "option id")
    return Question(str(raw["id"]), _localised(raw["text"], f"question {raw['id']}"), options)


def _schedule(raw: dict[str, Any]) -> Schedule:
    waves = tuple(
        FixedWave(
            key=str(w["key"]),
            opens=_local(w["opens"]),
            closes=_local(w["closes"]),
            nudge=_local(w["nudge"]) if w.get("nudge") else None,
        )
        for w in raw.get("waves") or ()
    )
    nudge = raw.get("nudge_days_before_close", 3)
    schedule = Schedule(
        every=raw.get("every"),
        start_month=int(raw.get("start_month", 1)),
        open_day=int(raw.get("open_day", 1)),
        send_at=time.fromisoformat(str(raw.get("send_at", "10:00"))),
        days_open=int(raw.get("days_open", 14)),
        nudge_days_before_close=None if nudge is None else int(nudge),
        waves=waves,
        after_event_hours=_optional_float(raw.get("after_event_hours")),
        event_lookback_days=int(raw.get("event_lookback_days", 3)),
    )
    if schedule.every not in (None, "month", "quarter", "year"):
        raise ValueError(f"schedule.every must be month, quarter or year, not {schedule.every}")
    if not 1 <= schedule.open_day <= 28 or not 1 <= schedule.start_month <= 12:
        raise ValueError("schedule.open_day must be 1-28 and start_month 1-12")
    return schedule


def _indicator(raw: dict[str, Any]) -> Indicator:
    return Indicator(
        id=str(raw["id"]),
        question=str(raw["question"]),
        positive=frozenset(str(p) for p in raw["positive"]),
        name=_localised(raw["name"], f"indicator {raw['id']}"),
        city=str(raw["city"]),
        source=str(raw["source"]),
        target=_figure(raw.get("target")),
        baseline=_figure(raw.get("baseline")),
        latest=_figure(raw.get("latest")),
        note=str(raw.get("note", "")),
    )


def _figure(raw: dict[str, Any] | None) -> Figure | None:
    if raw is None:
        return None
    year = raw.get("year")
    return Figure(float(raw["value"]), str(raw["label"]), int(year) if year else None)


def _localised(raw: Any, what: str, limit: int | None = None) -> Mapping[str, str]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{what} needs a text per locale ({', '.join(LOCALES)})")
    texts = {locale: str(raw.get(locale, "")).strip() for locale in LOCALES}
    for locale, text in texts.items():
        if not text:
            raise ValueError(f"{what} has no {locale} text")
        if limit is not None and len(text) > limit:
            raise ValueError(f"{what} {locale} label {text!r} exceeds {limit} characters")
    return texts


def _local(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        raise ValueError("wave times are local times without a zone")
    return moment


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _unique(ids: list[str], what: str) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate {what} in {ids}")
