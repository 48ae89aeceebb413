"""Survey results per wave and district: counts, shares, 95% Wilson intervals, response rates.

Small cells are suppressed and reported as suppressed (never dropped): a district with fewer
answers than the threshold shows no figures, and when exactly one district is suppressed the
next smallest is suppressed too, so the total minus the others cannot reveal it.
Every rate comes from residents who answered on LINE (plus paper forms typed in), not from a
random sample of the city; `caveat_key` names the sentence staff screens must show with it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.core.models.areas import District
from bot.features.surveys.catalog import Indicator, Question, Survey
from bot.features.surveys.models import AnswerChannel, SurveyAnswer, SurveyWave
from bot.features.surveys.waves import invite_tally

CAVEAT_KEY = "survey.caveat_line_respondents"
SUPPRESSED_KEY = "survey.suppressed"
PAPER_KEY = "survey.paper_included"


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (no continuity correction).

    Wilson (1927); method 3 in Newcombe, Statistics in Medicine 17:857-872 (1998), whose
    Table I the tests reproduce. Unlike the normal approximation it stays inside [0, 1] and
    behaves at 0 and n successes, which small district cells produce.
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError("need 0 <= successes <= n and n > 0")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0 or n successes a bound is exactly 0 or 1; rounding would leave it 1e-17 off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Estimate:
    """A share with its 95% Wilson interval."""

    count: int
    share: float
    low: float
    high: float


@dataclass(frozen=True)
class Row:
    """One line of a results table: the whole wave, one district, or no known district."""

    scope: str  # "all", "district" or "unknown"
    district_id: int | None
    district_name: str
    suppressed: bool
    answers: int | None = None
    paper: int | None = None  # of `answers`, typed in from paper forms
    options: dict[str, Estimate] | None = None
    indicator: Estimate | None = None
    invited: int | None = None
    responded: int | None = None  # invited residents who answered on LINE
    response_rate: float | None = None


@dataclass(frozen=True)
class QuestionResult:
    """A question's rows, with the indicator (baseline, target) it measures, if any."""

    question_id: str
    indicator: Indicator | None
    rows: list[Row]


@dataclass(frozen=True)
class WaveResults:
    """Everything the staff web shows for one wave."""

    survey_id: str
    wave_id: int
    wave_key: str
    anonymous: bool
    min_cell: int
    questions: list[QuestionResult]
    caveat_key: str = CAVEAT_KEY
    suppressed_key: str = SUPPRESSED_KEY
    paper_key: str = PAPER_KEY


def wave_results(
    session: Session, survey: Survey, wave: SurveyWave, *, min_cell: int
) -> WaveResults:
    """Tally a wave per district; cells under `min_cell` answers are suppressed."""
    tally = wave.tally if wave.tally is not None else invite_tally(session, wave.id or 0)
    counts = _answer_counts(session, wave.id or 0)
    names = _district_names(session, counts, tally)
    questions = []
    for question in survey.questions:
        indicator = next((i for i in survey.indicators if i.question == question.id), None)
        by_district = counts.get(question.id, {})
        rows = [
            _row(
                key, names, by_district.get(key, {}), tally.get(key), question, indicator, min_cell
            )
            for key in sorted(set(by_district) | set(tally), key=_order)
        ]
        rows = _secondary_suppression(rows, min_cell)
        total = _row(
            "all",
            names,
            _merge(by_district.values()),
            _sum_tally(tally),
            question,
            indicator,
            min_cell,
        )
        questions.append(QuestionResult(question.id, indicator, [total, *rows]))
    return WaveResults(
        survey.id, wave.id or 0, wave.wave_key, survey.anonymous, min_cell, questions
    )


# (question id → district key → (option id, channel) → count)
Counts = dict[str, dict[str, dict[tuple[str, str], int]]]


def _answer_counts(session: Session, wave_id: int) -> Counts:
    rows = session.execute(
        select(
            col(SurveyAnswer.question_id),
            col(SurveyAnswer.district_id),
            col(SurveyAnswer.option_id),
            col(SurveyAnswer.channel),
            func.count(),
        )
        .where(col(SurveyAnswer.wave_id) == wave_id)
        .group_by(
            col(SurveyAnswer.question_id),
            col(SurveyAnswer.district_id),
            col(SurveyAnswer.option_id),
            col(SurveyAnswer.channel),
        )
    ).all()
    counts: Counts = defaultdict(lambda: defaultdict(dict))
    for question_id, district_id, option_id, channel, number in rows:
        key = "-" if district_id is None else str(district_id)
        counts[question_id][key][(option_id, channel)] = int(number)
    return counts


def _row(
    key: str,
    names: dict[str, str],
    cell: dict[tuple[str, str], int],
    tally: dict[str, int] | None,
    question: Question,
    indicator: Indicator | None,
    min_cell: int,
) -> Row:
    scope = "all" if key == "all" else "unknown" if key == "-" else "district"
    district_id = int(key) if scope == "district" else None
    name = names.get(key, "")
    answers = sum(cell.values())
    if answers < min_cell:
        return Row(scope, district_id, name, suppressed=True)
    by_option: dict[str, int] = defaultdict(int)
    for (option_id, _channel), number in cell.items():
        by_option[option_id] += number
    options = {o.id: _estimate(by_option.get(o.id, 0), answers) for o in question.options}
    positive = sum(by_option.get(o, 0) for o in indicator.positive) if indicator else 0
    invited = tally["invited"] if tally else None
    responded = tally["responded"] if tally else None
    rate = tally["responded"] / tally["invited"] if tally and tally["invited"] else None
    return Row(
        scope,
        district_id,
        name,
        suppressed=False,
        answers=answers,
        paper=sum(n for (_, channel), n in cell.items() if channel == AnswerChannel.PAPER),
        options=options,
        indicator=_estimate(positive, answers) if indicator else None,
        invited=invited,
        responded=responded,
        response_rate=rate,
    )


def _estimate(count: int, n: int) -> Estimate:
    low, high = wilson_interval(count, n)
    return Estimate(count, count / n, low, high)


def _secondary_suppression(rows: list[Row], min_cell: int) -> list[Row]:
    """If one district alone is suppressed, also hide the smallest other one."""
    if sum(r.suppressed for r in rows) != 1:
        return rows
    shown = [r for r in rows if not r.suppressed]
    if not shown:
        return rows
    smallest = min(shown, key=lambda r: r.answers or 0)
    return [
        Row(r.scope, r.district_id, r.district_name, suppressed=True) if r is smallest else r
        for r in rows
    ]


def _merge(cells: Iterable[dict[tuple[str, str], int]]) -> dict[tuple[str, str], int]:
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for cell in cells:
        for key, number in cell.items():
            merged[key] += number
    return merged


def _sum_tally(tally: dict[str, dict[str, int]]) -> dict[str, int] | None:
    if not tally:
        return None
    return {field: sum(t[field] for t in tally.values()) for field in ("invited", "responded")}


def _district_names(
    session: Session, counts: Counts, tally: dict[str, dict[str, int]]
) -> dict[str, str]:
    keys = {k for per_question in counts.values() for k in per_question} | set(tally)
    ids = [int(k) for k in keys if k not in ("-", "all")]
    if not ids:
        return {}
    rows = session.execute(
        select(col(District.id), col(District.name)).where(col(District.id).in_(ids))
    ).all()
    return {str(rid): str(name) for rid, name in rows}


def _order(key: str) -> tuple[int, int]:
    return (1, 0) if key == "-" else (0, int(key))
