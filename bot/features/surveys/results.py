"""Survey results per wave: counts, shares, 95% Wilson intervals and response rates for the
whole city, each ward, each district and each association, with small cells suppressed.

Small cells are suppressed and reported as suppressed (never dropped, never shown as 0): an
area with fewer answers than the threshold shows no figures. So that a total minus the areas
shown cannot reveal a suppressed one, the hidden areas of a group (the districts of a ward,
the wards of the city) must together hold no answers or at least the threshold; until they
do, the smallest area still shown is suppressed too. A ward hidden that way hides its
districts as well (they would add up to it). An association's answers are those of its
approved members, so a district's non-members form a cell never shown: the district minus the
associations shown must hold 0 or at least the threshold (`_associations`).
Counts come from the tally `survey_tally`, not from the answers (bot/features/surveys/tally.py).
Every rate comes from residents who answered on LINE (plus paper forms typed in), not from a
random sample of the city; `caveat_key` names the sentence staff screens must show with it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

from sqlalchemy import select
from sqlmodel import Session, col

from bot.core import place_names
from bot.core.models.areas import Association, District, Ward
from bot.features.surveys.catalog import Indicator, Question, Survey
from bot.features.surveys.models import SurveyTally, SurveyWave
from bot.features.surveys.tally import NONE
from bot.features.surveys.waves import invite_tally

CAVEAT_KEY = "survey.caveat_line_respondents"
SUPPRESSED_KEY = "survey.suppressed"
PAPER_KEY = "survey.paper_included"

# How an answer reached us: a tap on LINE, a paper form a 班長 typed in, or a paper form
# city staff typed in on the respondent's behalf (by proxy).
CHANNELS = ("line", "hancho", "proxy")
CITY = "city"
UNKNOWN = "unknown"


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


def estimate(count: int, n: int) -> Estimate:
    """`count` of `n` as a share with its Wilson interval."""
    low, high = wilson_interval(count, n)
    return Estimate(count, count / n, low, high)


@dataclass(frozen=True)
class Row:
    """One line of a results table: the whole wave, a ward, a district, an association, or no
    known district."""

    scope: str  # "all", "ward", "district", "association" or "unknown"
    area_id: int | None
    name: str
    suppressed: bool
    ward_id: int | None = None
    answers: int | None = None
    paper: int | None = None  # of `answers`, typed in from paper forms
    options: dict[str, Estimate] | None = None
    indicator: Estimate | None = None
    invited: int | None = None
    responded: int | None = None  # invited residents who answered on LINE
    response_rate: float | None = None
    channels: dict[str, int] | None = None  # answers per channel (see CHANNELS)

    @property
    def district_id(self) -> int | None:
        """The district's id on a district row."""
        return self.area_id if self.scope == "district" else None

    @property
    def district_name(self) -> str:
        """The area's name (kept for callers written for district rows)."""
        return self.name

    @property
    def key(self) -> str:
        """The area key filters use: city, ward:<id>, district:<id>, association:<id> or
        unknown."""
        if self.scope == "all":
            return CITY
        if self.scope == "unknown":
            return UNKNOWN
        return f"{self.scope}:{self.area_id}"


@dataclass(frozen=True)
class QuestionResult:
    """A question's rows, with the indicator (baseline, target) it measures, if any.

    `raw` keeps every district's true (answers, positive) for the representativeness figures,
    which only ever show them merged above the threshold; pages never read it.
    """

    question_id: str
    indicator: Indicator | None
    rows: list[Row]
    raw: dict[str, tuple[int, int]] = field(default_factory=dict)

    def row(self, area: str) -> Row | None:
        """The row of an area key (city, ward:<id>, district:<id>, unknown)."""
        return next((r for r in self.rows if r.key == area), None)


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

    def question(self, question_id: str) -> QuestionResult | None:
        """One question's result."""
        return next((q for q in self.questions if q.question_id == question_id), None)


@dataclass(frozen=True)
class Geography:
    """Wards, districts and associations by id: names and where each lies."""

    ward_names: dict[int, str]
    district_names: dict[int, str]
    district_ward: dict[int, int]
    district_codes: dict[int, str]
    association_names: dict[int, str] = field(default_factory=dict)
    association_district: dict[int, int] = field(default_factory=dict)

    def districts_of(self, ward_id: int) -> list[int]:
        """The ward's districts, in id order."""
        return sorted(d for d, w in self.district_ward.items() if w == ward_id)


def geography(session: Session, locale: str = "ja") -> Geography:
    """Every ward, district and association (a few hundred rows at most), named in `locale`
    (English: the English name, romaji, or the Japanese one in 「」)."""
    wards = {
        int(w.id or 0): place_names.ward_name(w, locale) for w in session.scalars(select(Ward))
    }
    names: dict[int, str] = {}
    wards_of: dict[int, int] = {}
    codes: dict[int, str] = {}
    for district in session.scalars(select(District)):
        did = int(district.id or 0)
        names[did] = place_names.district_name(district, locale)
        wards_of[did], codes[did] = int(district.ward_id), str(district.code)
    association_names: dict[int, str] = {}
    association_district: dict[int, int] = {}
    for association in session.scalars(select(Association)):
        aid = int(association.id or 0)
        association_names[aid] = place_names.association_name(association, locale)
        association_district[aid] = int(association.district_id)
    return Geography(wards, names, wards_of, codes, association_names, association_district)


# (option id, channel) → answers
Cell = dict[tuple[str, str], int]
# wave id → question id → district key ("<id>" or "-") → association id (0: none) → cell
Counts = dict[int, dict[str, dict[str, dict[int, Cell]]]]


def answer_counts(session: Session, wave_ids: Iterable[int]) -> Counts:
    """Answers by wave, question, district, association, option and channel, read from the
    tally `survey_tally` (kept in step with the answers by bot/features/surveys/tally.py)."""
    ids = sorted(set(wave_ids))
    counts: Counts = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    )
    if not ids:
        return counts
    rows = session.execute(
        select(
            col(SurveyTally.wave_id),
            col(SurveyTally.question_id),
            col(SurveyTally.district_id),
            col(SurveyTally.association_id),
            col(SurveyTally.option_id),
            col(SurveyTally.channel),
            col(SurveyTally.answers),
        ).where(col(SurveyTally.wave_id).in_(ids), col(SurveyTally.answers) != 0)
    ).all()
    for wave_id, question_id, district_id, association_id, option_id, channel, number in rows:
        key = "-" if district_id == NONE else str(district_id)
        cell = counts[int(wave_id)][str(question_id)][key][int(association_id)]
        kind = (str(option_id), str(channel))
        cell[kind] = cell.get(kind, 0) + int(number)
    return counts


def wave_results(
    session: Session,
    survey: Survey,
    wave: SurveyWave,
    *,
    min_cell: int,
    geo: Geography | None = None,
    counts: Counts | None = None,
) -> WaveResults:
    """Tally a wave for the city, each ward and each district; small cells are suppressed."""
    geo = geo or geography(session)
    wave_id = wave.id or 0
    tally = wave.tally if wave.tally is not None else invite_tally(session, wave_id)
    if counts is None:
        counts = answer_counts(session, [wave_id])
    per_question = counts.get(wave_id, {})
    questions = []
    for question in survey.questions:
        indicator = next((i for i in survey.indicators if i.question == question.id), None)
        by_place = per_question.get(question.id, {})
        questions.append(_question(geo, question, indicator, by_place, tally, min_cell))
    return WaveResults(survey.id, wave_id, wave.wave_key, survey.anonymous, min_cell, questions)


def _question(
    geo: Geography,
    question: Question,
    indicator: Indicator | None,
    by_place: Mapping[str, Mapping[int, Cell]],
    tally: Mapping[str, Mapping[str, int]],
    min_cell: int,
) -> QuestionResult:
    by_district = {k: _merge(cells.values()) for k, cells in by_place.items()}
    keys = set(by_district) | set(tally)
    answers = {k: sum(by_district.get(k, {}).values()) for k in keys}
    hidden = {k for k in keys if answers[k] < min_cell}
    wards: dict[int, list[str]] = defaultdict(list)
    for key in sorted(k for k in keys if k != "-"):
        wards[geo.district_ward.get(int(key), 0)].append(key)
    for districts in wards.values():
        _protect(districts, answers, hidden, min_cell)
    ward_answers = {f"w{w}": sum(answers[k] for k in ds) for w, ds in wards.items()}
    ward_hidden = {w for w, n in ward_answers.items() if n < min_cell}
    top = list(ward_answers) + (["-"] if "-" in keys else [])
    top_answers = {**ward_answers, "-": answers.get("-", 0)}
    top_hidden = ward_hidden | ({"-"} if "-" in hidden else set())
    before = set(top_hidden)
    _protect(top, top_answers, top_hidden, min_cell)
    if "-" in top_hidden:
        hidden.add("-")
    for ward_key in top_hidden - before:  # hidden to protect another: its districts add up
        hidden.update(wards.get(int(ward_key[1:]), []))

    associations = _associations(by_place, hidden, min_cell)

    def row(
        scope: str,
        area_id: int | None,
        name: str,
        cells: list[str],
        ward_id: int | None,
        suppressed: bool,
        cell: Cell | None = None,
    ) -> Row:
        merged = cell if cell is not None else _merge(by_district.get(k, {}) for k in cells)
        return _row(
            scope,
            area_id,
            name,
            ward_id,
            merged,
            _sum_tally(tally, cells),
            question,
            indicator,
            suppressed,
        )

    city_cells = sorted(keys)
    total = row("all", None, "", city_cells, None, sum(answers.values()) < min_cell)
    rows = [total]
    for ward_id in sorted(wards):
        districts = sorted(wards[ward_id], key=int)
        rows.append(
            row(
                "ward",
                ward_id,
                geo.ward_names.get(ward_id, ""),
                districts,
                ward_id,
                f"w{ward_id}" in top_hidden,
            )
        )
        for key in districts:
            rows.append(
                row(
                    "district",
                    int(key),
                    geo.district_names.get(int(key), ""),
                    [key],
                    ward_id,
                    key in hidden,
                )
            )
            for association_id, (cell, suppressed) in associations.get(key, {}).items():
                name = geo.association_names.get(association_id, "")
                rows.append(row("association", association_id, name, [], ward_id, suppressed, cell))
    if "-" in keys:
        rows.append(row("unknown", None, "", ["-"], None, "-" in hidden))
    raw = {k: (answers[k], _positive(by_district.get(k, {}), indicator)) for k in keys}
    return QuestionResult(question.id, indicator, rows, raw)


def _associations(
    by_place: Mapping[str, Mapping[int, Cell]], hidden_districts: set[str], min_cell: int
) -> dict[str, dict[int, tuple[Cell, bool]]]:
    """Each district's associations: (cell, suppressed), suppressed like districts in a ward.

    A district's answers from non-members (no association) are never shown on their own, so
    they count as a hidden member of the district's group: the district's row minus the
    associations shown must hold 0 or at least `min_cell` answers. A hidden district hides
    its associations (they would add up to it).
    """
    found: dict[str, dict[int, tuple[Cell, bool]]] = {}
    for key, cells in by_place.items():
        if key == "-":
            continue
        members = {f"a{a}": sum(c.values()) for a, c in cells.items() if a != NONE}
        if not members:
            continue
        group = sorted(members) + ["rest"]
        answers = {**members, "rest": sum(cells.get(NONE, {}).values())}
        hidden = {"rest"} | {k for k, n in members.items() if n < min_cell}
        if key in hidden_districts:
            hidden |= set(members)
        _protect(group, answers, hidden, min_cell)
        found[key] = {
            a: (dict(c), f"a{a}" in hidden) for a, c in sorted(cells.items()) if a != NONE
        }
    return found


def _protect(group: list[str], answers: Mapping[str, int], hidden: set[str], min_cell: int) -> None:
    """Hide the smallest shown members of `group` until its hidden ones hold 0 or ≥ min_cell."""
    while True:
        hidden_sum = sum(answers[k] for k in group if k in hidden)
        shown = [k for k in group if k not in hidden]
        if not 0 < hidden_sum < min_cell or not shown:
            return
        hidden.add(min(shown, key=lambda k: (answers[k], k)))


def _positive(cell: Mapping[tuple[str, str], int], indicator: Indicator | None) -> int:
    if indicator is None:
        return 0
    return sum(n for (option, _), n in cell.items() if option in indicator.positive)


def _row(
    scope: str,
    area_id: int | None,
    name: str,
    ward_id: int | None,
    cell: Cell,
    tally: dict[str, int] | None,
    question: Question,
    indicator: Indicator | None,
    suppressed: bool,
) -> Row:
    answers = sum(cell.values())
    if suppressed or answers == 0:
        return Row(scope, area_id, name, suppressed=True, ward_id=ward_id)
    by_option: dict[str, int] = defaultdict(int)
    channels = dict.fromkeys(CHANNELS, 0)
    for (option_id, channel), number in cell.items():
        by_option[option_id] += number
        channels[channel] += number
    options = {o.id: estimate(by_option.get(o.id, 0), answers) for o in question.options}
    positive = _positive(cell, indicator)
    invited = tally["invited"] if tally else None
    responded = tally["responded"] if tally else None
    rate = tally["responded"] / tally["invited"] if tally and tally["invited"] else None
    return Row(
        scope,
        area_id,
        name,
        suppressed=False,
        ward_id=ward_id,
        answers=answers,
        paper=channels["hancho"] + channels["proxy"],
        options=options,
        indicator=estimate(positive, answers) if indicator else None,
        invited=invited,
        responded=responded,
        response_rate=rate,
        channels=channels,
    )


def _merge(cells: Iterable[Cell]) -> Cell:
    merged: Cell = defaultdict(int)
    for cell in cells:
        for key, number in cell.items():
            merged[key] += number
    return dict(merged)


def _sum_tally(
    tally: Mapping[str, Mapping[str, int]], keys: Iterable[str]
) -> dict[str, int] | None:
    present = [tally[k] for k in keys if k in tally]
    if not present:
        return None
    return {field: sum(t[field] for t in present) for field in ("invited", "responded")}
