"""Survey results for staff: indicators per wave against their targets, one indicator's trend
and how representative its answerers are, and one wave by ward and district.

Figures come from bot/features/surveys/results.py (shares with 95% Wilson intervals, small
cells suppressed) and representation.py. Everyone with tallies sees the whole-city row;
ward and district rows are cut to the caller's wards or associations. A suppressed cell
reads 「少数のため非表示」 (surveys.suppressed) on the page, in the CSV, the workbook, the PDF
and the API alike: they all render the Tables built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.core import report_areas
from bot.core.report_areas import Area
from bot.core.scope import Scope
from bot.features.surveys.catalog import Indicator, Question, Survey, load_catalog
from bot.features.surveys.models import SurveyWave
from bot.features.surveys.population import load_population
from bot.features.surveys.representation import REST, Representativeness, representativeness
from bot.features.surveys.results import (
    CITY,
    UNKNOWN,
    Counts,
    Estimate,
    Geography,
    QuestionResult,
    Row,
    WaveResults,
    answer_counts,
    geography,
    wave_results,
)
from bot.staff.charts import ReferenceLine, TrendMark
from bot.staff.i18n import Translator
from bot.staff.tables import Column, Table

SUPPRESSED = "surveys.suppressed"

TREND_COLUMNS = [
    Column("indicator", "col.indicator"),
    Column("wave", "col.wave"),
    Column("answers", "col.answers", numeric=True),
    Column("share", "col.share", numeric=True),
    Column("interval", "col.interval"),
    Column("target", "col.target", numeric=True),
    Column("baseline", "col.baseline", numeric=True),
]

SERIES_COLUMNS = [
    Column("wave", "col.wave"),
    Column("opened", "col.opened"),
    Column("answers", "col.answers", numeric=True),
    Column("share", "col.share", numeric=True),
    Column("interval", "col.interval"),
    Column("paper", "col.paper_answers", numeric=True),
    Column("response_rate", "col.response_rate", numeric=True),
]

WAVE_COLUMNS = [
    Column("question", "col.question"),
    Column("option", "col.option"),
    Column("level", "col.level"),
    Column("area", "col.area"),
    Column("answers", "col.answers", numeric=True),
    Column("share", "col.share", numeric=True),
    Column("interval", "col.interval"),
    Column("response_rate", "col.response_rate", numeric=True),
]

CHANNEL_COLUMNS = [
    Column("channel", "col.channel"),
    Column("answers", "col.answers", numeric=True),
    Column("answer_share", "col.answer_share", numeric=True),
]

STRATA_COLUMNS = [
    Column("area", "col.district"),
    Column("answers", "col.answers", numeric=True),
    Column("answer_share", "col.answer_share", numeric=True),
    Column("population", "col.population", numeric=True),
    Column("population_share", "col.population_share", numeric=True),
    Column("share", "col.share", numeric=True),
]

ESTIMATE_COLUMNS = [
    Column("method", "col.method"),
    Column("share", "col.share", numeric=True),
    Column("interval", "col.interval"),
    Column("coverage", "col.coverage", numeric=True),
]


class WaveNotFound(Exception):
    """No such wave, or its survey file is gone (the web answers 404)."""


class AreaNotAllowed(Exception):
    """The area asked for is unknown or outside the caller's scope (the web answers 404)."""


@dataclass(frozen=True)
class Period:
    """Waves opened on a local day in [since, until]; either end may be open."""

    since: date | None = None
    until: date | None = None

    def holds(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether a wave opening at `moment` falls in the period."""
        day = moment.astimezone(tz).date()
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


@dataclass(frozen=True)
class IndicatorRef:
    """An indicator and the survey whose question measures it."""

    survey: Survey
    indicator: Indicator

    @property
    def question(self) -> Question:
        """The question whose answers make the indicator."""
        return self.survey.question(self.indicator.question)


@dataclass
class Figures:
    """Every wave in a period, tallied once per request: pages, exports and reports share it."""

    geo: Geography
    min_cell: int
    waves: list[tuple[Survey, SurveyWave, WaveResults]] = field(default_factory=list)

    def series(self, ref: IndicatorRef, area: str) -> list[tuple[SurveyWave, Row | None]]:
        """The indicator's row in `area` for each wave of its survey, oldest first."""
        out: list[tuple[SurveyWave, Row | None]] = []
        for survey, wave, results in self.waves:
            if survey.id != ref.survey.id:
                continue
            question = results.question(ref.indicator.question)
            out.append((wave, question.row(area) if question else None))
        return out

    def latest(self, ref: IndicatorRef) -> tuple[SurveyWave, QuestionResult] | None:
        """The newest wave of the indicator's survey with answers, and its question's result."""
        for survey, wave, results in reversed(self.waves):
            question = results.question(ref.indicator.question)
            if survey.id == ref.survey.id and question and any(question.raw.values()):
                return wave, question
        return None


def figures(
    session: Session,
    content_dir: Path,
    min_cell: int,
    period: Period,
    tz: ZoneInfo,
    survey_ids: set[str] | None = None,
    *,
    locale: str = "ja",
) -> Figures:
    """Tally every wave in the period (of `survey_ids`, or of every survey) in one query;
    areas named in `locale` (the CSV and API keep the Japanese names)."""
    catalog = load_catalog(content_dir)
    query = select(SurveyWave).order_by(col(SurveyWave.opens_at), col(SurveyWave.id))
    if survey_ids is not None:
        query = query.where(col(SurveyWave.survey_id).in_(sorted(survey_ids)))
    waves = [w for w in session.exec(query).all() if period.holds(w.opens_at, tz)]
    geo = geography(session, locale)
    counts: Counts = answer_counts(session, [w.id or 0 for w in waves])
    found = Figures(geo, min_cell)
    for wave in waves:
        survey = catalog.get(wave.survey_id)
        if survey is not None:
            results = wave_results(session, survey, wave, min_cell=min_cell, geo=geo, counts=counts)
            found.waves.append((survey, wave, results))
    return found


def indicators(session: Session, content_dir: Path) -> list[IndicatorRef]:
    """Indicators of enabled surveys and of surveys that have run, in catalog order."""
    ran = set(session.exec(select(SurveyWave.survey_id).distinct()).all())
    return [
        IndicatorRef(survey, indicator)
        for survey in load_catalog(content_dir).surveys.values()
        if survey.enabled or survey.id in ran
        for indicator in survey.indicators
    ]


def find_indicator(session: Session, content_dir: Path, indicator_id: str) -> IndicatorRef | None:
    """One indicator by id."""
    return next(
        (r for r in indicators(session, content_dir) if r.indicator.id == indicator_id), None
    )


def areas_in_scope(session: Session, scope: Scope, words: Translator) -> list[Area]:
    """The city, then each ward in scope followed by its districts in scope."""
    return report_areas.areas_in_scope(session, scope, words("surveys.whole_city"), words.locale)


def check_area(session: Session, scope: Scope, area: str, words: Translator) -> Area:
    """The area of `area`'s key if the caller may see it; raises AreaNotAllowed otherwise."""
    for candidate in areas_in_scope(session, scope, words):
        if candidate.key == area:
            return candidate
    raise AreaNotAllowed(area)


# --- formatting ----------------------------------------------------------------------------


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal ("" when absent)."""
    return f"{value * 100:.1f}" if value is not None else ""


def interval(estimate: Estimate | None) -> str:
    """A Wilson interval as "low–high" in percent."""
    return f"{estimate.low * 100:.1f}–{estimate.high * 100:.1f}" if estimate else ""


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def indicator_name(ref: IndicatorRef, locale: str) -> str:
    """The indicator's name in the reader's language (from content/surveys)."""
    return ref.indicator.name.get(locale) or ref.indicator.name.get("ja", ref.indicator.id)


def row_cells(row: Row | None, words: Translator) -> dict[str, object]:
    """answers, share, interval of a row, or the suppressed text in each."""
    if row is None or row.suppressed or row.indicator is None:
        hidden = words(SUPPRESSED)
        return {"answers": hidden, "share": hidden, "interval": hidden, "suppressed": True}
    return {
        "answers": row.answers,
        "share": pct(row.indicator.share),
        "interval": interval(row.indicator),
        "suppressed": False,
    }


# --- tables --------------------------------------------------------------------------------


def trend_table(
    fig: Figures, refs: list[IndicatorRef], area: str, words: Translator, locale: str
) -> Table:
    """Every indicator's share in `area` per wave, beside its target and baseline."""
    rows = []
    for ref in refs:
        target = ref.indicator.target.value if ref.indicator.target else None
        baseline = ref.indicator.baseline.value if ref.indicator.baseline else None
        for wave, row in fig.series(ref, area):
            rows.append(
                {
                    "indicator_id": ref.indicator.id,
                    "wave_id": wave.id,
                    "indicator": indicator_name(ref, locale),
                    "wave": wave.wave_key,
                    **row_cells(row, words),
                    "target": _figure(target),
                    "baseline": _figure(baseline),
                }
            )
    return Table("indicators", TREND_COLUMNS, rows)


def series_table(
    fig: Figures, ref: IndicatorRef, area: str, words: Translator, tz: ZoneInfo
) -> Table:
    """One indicator in one area: each wave's value, interval, paper answers, response rate."""
    rows = []
    for wave, row in fig.series(ref, area):
        cells = row_cells(row, words)
        shown = row is not None and not cells["suppressed"]
        rows.append(
            {
                "wave_id": wave.id,
                "wave": wave.wave_key,
                "opened": wave.opens_at.astimezone(tz).strftime("%Y-%m-%d"),
                **cells,
                "paper": row.paper if shown and row else words(SUPPRESSED),
                "response_rate": pct(row.response_rate) if shown and row else words(SUPPRESSED),
            }
        )
    return Table(f"indicator-{ref.indicator.id}", SERIES_COLUMNS, rows)


def trend_marks(fig: Figures, ref: IndicatorRef, area: str) -> list[TrendMark]:
    """The chart's points (percent) for one indicator in one area."""
    marks = []
    for wave, row in fig.series(ref, area):
        est = row.indicator if row is not None and not row.suppressed else None
        marks.append(
            TrendMark(
                wave.wave_key,
                est.share * 100 if est else None,
                est.low * 100 if est else None,
                est.high * 100 if est else None,
            )
        )
    return marks


def reference_lines(ref: IndicatorRef, words: Translator) -> list[ReferenceLine]:
    """The plan's target and baseline as lines across the chart."""
    lines = []
    if ref.indicator.target:
        lines.append(
            ReferenceLine(ref.indicator.target.value, words("col.target_short"), "chart-target")
        )
    if ref.indicator.baseline:
        lines.append(
            ReferenceLine(
                ref.indicator.baseline.value, words("col.baseline_short"), "chart-baseline"
            )
        )
    return lines


def representation_of(
    fig: Figures, ref: IndicatorRef, area: str, content_dir: Path
) -> tuple[SurveyWave, Representativeness] | None:
    """Who answered the indicator's latest wave in the period, against the population."""
    latest = fig.latest(ref)
    if latest is None:
        return None
    wave, question = latest
    population = load_population(content_dir)
    return wave, representativeness(question, area, fig.geo, population, fig.min_cell)


def channel_table(rep: Representativeness, words: Translator, name: str) -> Table:
    """Answers by channel (LINE, paper by a 班長, proxy)."""
    rows = [
        {
            "channel": words(f"surveys.channel.{line.channel}"),
            "answers": line.answers,
            "answer_share": pct(line.share_of_answers),
        }
        for line in rep.channels
    ]
    return Table(f"{name}-channels", CHANNEL_COLUMNS, rows)


def strata_table(rep: Representativeness, words: Translator, name: str) -> Table:
    """Answerers by district against the population, with each district's share."""
    hidden = words(SUPPRESSED)
    rows = []
    for stratum in rep.strata:
        label = words("surveys.rest") if stratum.key == REST else stratum.name
        rows.append(
            {
                "area": label,
                "answers": hidden if stratum.suppressed else stratum.answers,
                "answer_share": hidden if stratum.suppressed else pct(stratum.answer_share),
                "population": "" if stratum.population is None else stratum.population,
                "population_share": pct(stratum.population_share),
                "share": hidden
                if stratum.suppressed or stratum.indicator is None
                else pct(stratum.indicator.share),
            }
        )
    return Table(f"{name}-districts", STRATA_COLUMNS, rows)


def estimate_table(rep: Representativeness, words: Translator, name: str) -> Table:
    """The raw share beside the post-stratified one."""
    rows: list[dict[str, object]] = []
    if rep.raw is not None:
        rows.append(
            {
                "method": words("surveys.raw_share"),
                "share": pct(rep.raw.share),
                "interval": interval(rep.raw),
                "coverage": "",
            }
        )
    if rep.adjusted is not None:
        adjusted = rep.adjusted
        rows.append(
            {
                "method": words("surveys.adjusted_share"),
                "share": pct(adjusted.share),
                "interval": f"{adjusted.low * 100:.1f}–{adjusted.high * 100:.1f}",
                "coverage": pct(adjusted.coverage),
            }
        )
    return Table(f"{name}-estimates", ESTIMATE_COLUMNS, rows)


def wave_table(
    session: Session,
    scope: Scope,
    content_dir: Path,
    wave_id: int,
    min_cell: int,
    words: Translator,
    locale: str,
) -> tuple[Table, Survey, SurveyWave]:
    """One wave: per question, the city, each ward and district in scope (and, for the city,
    answers with no known district)."""
    wave = session.get(SurveyWave, wave_id)
    survey = load_catalog(content_dir).get(wave.survey_id) if wave else None
    if wave is None or survey is None:
        raise WaveNotFound(wave_id)
    geo = geography(session, locale)
    results = wave_results(session, survey, wave, min_cell=min_cell, geo=geo)
    allowed = {a.key for a in areas_in_scope(session, scope, words)}
    rows = []
    for question_result in results.questions:
        question = survey.question(question_result.question_id)
        text = question.text.get(locale) or question.text["ja"]
        indicator = question_result.indicator
        options: list[tuple[str, str | None]]
        if indicator is not None:
            options = [
                (
                    words(
                        "surveys.positive_options",
                        options="・".join(
                            o.label.get(locale) or o.label["ja"]
                            for o in question.options
                            if o.id in indicator.positive
                        ),
                    ),
                    None,
                )
            ]
        else:
            options = [(o.label.get(locale) or o.label["ja"], o.id) for o in question.options]
        for row in question_result.rows:
            if row.key == UNKNOWN and not scope.city_wide:
                continue
            if row.key not in (CITY, UNKNOWN) and row.key not in allowed:
                continue
            for label, option_id in options:
                rows.append(_wave_row(text, label, option_id, row, words))
    return Table(f"survey-{wave_id}", WAVE_COLUMNS, rows), survey, wave


def _wave_row(
    question: str, option: str, option_id: str | None, row: Row, words: Translator
) -> dict[str, object]:
    name = {
        "all": words("surveys.whole_city"),
        "unknown": words("surveys.unknown_district"),
    }.get(row.scope, row.name)
    est = row.indicator if option_id is None else (row.options or {}).get(option_id)
    hidden = words(SUPPRESSED)
    shown = not row.suppressed and est is not None
    return {
        "question": question,
        "option": option,
        "level": words(f"surveys.level.{row.scope}"),
        "area": name,
        "suppressed": not shown,
        "answers": row.answers if shown else hidden,
        "share": pct(est.share) if shown and est else hidden,
        "interval": interval(est) if shown else hidden,
        "response_rate": pct(row.response_rate) if shown else hidden,
    }
