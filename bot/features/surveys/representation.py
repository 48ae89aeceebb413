"""How far the answerers of a wave differ from the population, and a post-stratified share.

Answers are self-selected (mostly residents on LINE), so beside each raw share staff see
who answered: by channel (LINE, paper typed in by a 班長, paper typed in by staff on the
respondent's behalf) and by district against the population the city loads
(bot/features/surveys/population.py).

The post-stratified estimate reweights each district's share by its share of the
population: p = Σ W_h p_h with W_h = N_h / Σ N over the districts that have answers, and
variance Σ W_h² p_h (1 − p_h) / n_h (a normal-approximation 95% interval). Districts whose
own figures are suppressed are merged into one stratum, "the rest": the area's row minus
the districts shown (answers with no known district fall in it too), figures anyone can
already subtract from the page, so the estimate reveals no suppressed cell. When the area's
own row is suppressed nothing is shown. Districts without answers are outside the
estimate; `coverage` says what share of the population it stands for. No wave asks age or
household type yet, so age bands are not used as strata. The population is by district, so
an association's page shows its channels and raw share but no strata and no estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.features.surveys.population import Population
from bot.features.surveys.results import (
    CHANNELS,
    CITY,
    Estimate,
    Geography,
    QuestionResult,
    Row,
    estimate,
)

Z95 = 1.959963984540054
REST = "rest"


@dataclass(frozen=True)
class ChannelLine:
    """Answers that came through one channel, and the indicator among them (if not small)."""

    channel: str
    answers: int
    share_of_answers: float
    indicator: Estimate | None


@dataclass(frozen=True)
class Stratum:
    """One district (or the suppressed districts merged) beside its population."""

    key: str  # "district:<id>" or REST
    name: str
    suppressed: bool
    answers: int | None
    answer_share: float | None
    population: int | None
    population_share: float | None
    indicator: Estimate | None


@dataclass(frozen=True)
class Adjusted:
    """The post-stratified share with its 95% interval, and the population it covers."""

    share: float
    low: float
    high: float
    coverage: float


@dataclass(frozen=True)
class Representativeness:
    """Who answered, against the population, for one indicator in one wave and area."""

    channels: list[ChannelLine]
    strata: list[Stratum]
    raw: Estimate | None
    adjusted: Adjusted | None
    population_loaded: bool
    population_sample: bool


def representativeness(
    result: QuestionResult,
    area: str,
    geo: Geography,
    population: Population | None,
    min_cell: int,
) -> Representativeness:
    """Channels and districts of the answerers in `area` (city, ward:<id>, district:<id> or
    association:<id>)."""
    row = result.row(area)
    channels = _channels(row, min_cell)
    if area.startswith("association:"):
        # Population figures are by district: an association has no strata to weight by.
        strata: list[Stratum] = []
        adjusted = None
    else:
        strata, adjusted = _strata(result, row, _districts_in(result, area), geo, population)
    return Representativeness(
        channels,
        strata,
        row.indicator if row is not None else None,
        adjusted,
        population is not None,
        bool(population and population.sample),
    )


def _channels(row: Row | None, min_cell: int) -> list[ChannelLine]:
    if row is None or row.suppressed or not row.channels or not row.answers:
        return []
    lines = []
    for channel in CHANNELS:
        n = row.channels.get(channel, 0)
        lines.append(ChannelLine(channel, n, n / row.answers, None))
    return lines


def _districts_in(result: QuestionResult, area: str) -> list[Row]:
    rows = [r for r in result.rows if r.scope == "district"]
    if area == CITY:
        return rows
    scope, _, ident = area.partition(":")
    if scope == "ward":
        return [r for r in rows if str(r.ward_id) == ident]
    return [r for r in rows if r.key == area]


def _strata(
    result: QuestionResult,
    area_row: Row | None,
    districts: list[Row],
    geo: Geography,
    population: Population | None,
) -> tuple[list[Stratum], Adjusted | None]:
    def people(row: Row) -> int | None:
        if population is None or row.area_id is None:
            return None
        return population.of_district(geo.district_codes.get(row.area_id, ""))

    total_people = sum(people(r) or 0 for r in districts)
    hidden_area = area_row is None or area_row.suppressed or not area_row.answers
    total_answers = 0 if hidden_area or area_row is None else area_row.answers or 0
    strata: list[Stratum] = []
    cells: list[tuple[int, int, int]] = []  # (population, answers, positive) per stratum
    rest_people, rest_answers, rest_positive, rest_count = 0, total_answers, 0, 0
    if not hidden_area and area_row is not None and area_row.indicator is not None:
        rest_positive = area_row.indicator.count
    for row in districts:
        n_people = people(row)
        pop_share = n_people / total_people if n_people is not None and total_people else None
        if row.suppressed or hidden_area:
            rest_count += 1
            rest_people += n_people or 0
            strata.append(Stratum(row.key, row.name, True, None, None, n_people, pop_share, None))
            continue
        n = row.answers or 0
        positive = row.indicator.count if row.indicator else 0
        rest_answers -= n
        rest_positive -= positive
        strata.append(
            Stratum(
                row.key,
                row.name,
                False,
                n,
                n / total_answers if total_answers else None,
                n_people,
                pop_share,
                row.indicator,
            )
        )
        if n_people and n:
            cells.append((n_people, n, positive))
    if hidden_area:
        return strata, None
    # The rest is the area's row minus the districts shown: figures anyone can subtract from
    # the page already, so showing them (and using them) reveals no suppressed cell.
    if rest_answers > 0:
        strata.append(
            Stratum(
                REST,
                "",
                False,
                rest_answers,
                rest_answers / total_answers,
                rest_people if rest_count else None,
                rest_people / total_people if rest_count and total_people else None,
                estimate(rest_positive, rest_answers) if result.indicator else None,
            )
        )
        if rest_people:
            cells.append((rest_people, rest_answers, rest_positive))
    adjusted = _post_stratify(cells, total_people) if result.indicator else None
    return strata, adjusted


def _post_stratify(cells: list[tuple[int, int, int]], total_people: int) -> Adjusted | None:
    covered = sum(n_people for n_people, _, _ in cells)
    if not cells or not covered or len(cells) < 2:
        return None  # one stratum: the estimate would only repeat the raw share
    share = 0.0
    variance = 0.0
    for n_people, n, positive in cells:
        weight, p = n_people / covered, positive / n
        share += weight * p
        variance += weight * weight * p * (1 - p) / n
    half = Z95 * math.sqrt(variance)
    return Adjusted(share, max(0.0, share - half), min(1.0, share + half), covered / total_people)
