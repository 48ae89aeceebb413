"""Survey results: Wilson intervals against references, per-district rows, suppression."""

from __future__ import annotations

import math
from datetime import timedelta
from statistics import NormalDist

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.models.areas import District, Ward
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.features.surveys import surveys
from bot.features.surveys import waves as survey_waves
from bot.features.surveys.models import AnswerChannel, SurveyInvite, SurveyWave
from bot.features.surveys.results import wave_results, wilson_interval
from bot.features.surveys.surveys import AnswerInput
from tests.scheduler_support import T0, make_wave, one_survey

# Newcombe RG (1998) Two-sided confidence intervals for the single proportion: comparison of
# seven methods. Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no CC).
NEWCOMBE_TABLE_I = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
]


@pytest.mark.parametrize("successes,n,low,high", NEWCOMBE_TABLE_I)
def test_wilson_matches_newcombe_table(successes: int, n: int, low: float, high: float) -> None:
    got_low, got_high = wilson_interval(successes, n)
    assert (round(got_low, 4), round(got_high, 4)) == (low, high)


def _score_bound(successes: int, n: int, upper: bool) -> float:
    """Invert the score test by bisection: an independent route to the Wilson bounds."""
    z = NormalDist().inv_cdf(0.975)
    p_hat = successes / n

    def outside(p: float) -> bool:
        return (p_hat - p) ** 2 > z * z * p * (1 - p) / n

    lo, hi = (p_hat, 1.0) if upper else (0.0, p_hat)
    if upper and not outside(1.0) or not upper and not outside(0.0):
        return 1.0 if upper else 0.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if outside(mid) == upper:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    )
)
def test_wilson_inverts_the_score_test(pair: tuple[int, int]) -> None:
    successes, n = pair
    low, high = wilson_interval(successes, n)
    assert math.isclose(low, _score_bound(successes, n, upper=False), abs_tol=1e-9)
    assert math.isclose(high, _score_bound(successes, n, upper=True), abs_tol=1e-9)
    assert 0.0 <= low <= successes / n <= high <= 1.0


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def _districts(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        ward = Ward(code="W1", name="中央区")
        session.add(ward)
        session.flush()
        rows = [
            District(code=f"D{i}", ward_id=ward.id or 0, name=name)
            for i, name in enumerate(["仁王", "桜城", "上田"])
        ]
        session.add_all(rows)
        session.flush()
        return [int(d.id or 0) for d in rows]


def _answers(
    engine: Engine,
    wave_id: int,
    district: int,
    options: str,
    *,
    channel: str = "line",
    start: int = 0,
) -> None:
    survey = one_survey().surveys["probe"]
    with session_scope(engine) as session:
        wave = session.get_one(SurveyWave, wave_id)
        for n, option in enumerate(options):
            respondent = f"resident:{district * 1000 + start + n}"
            surveys.record_answer(
                session,
                survey,
                wave,
                AnswerInput(
                    "q1",
                    option,
                    respondent,
                    district,
                    AnswerChannel(channel),
                    entered_by_staff_id=1 if channel == "paper" else None,
                ),
                "s",
            )


def _invites(engine: Engine, wave_id: int, district: int, invited: int, responded: int) -> None:
    with session_scope(engine) as session:
        for n in range(invited):
            session.add(
                SurveyInvite(
                    wave_id=wave_id,
                    resident_id=_resident(session, n, district),
                    district_id=district,
                    invited_at=T0,
                    responded=n < responded,
                )
            )


def _resident(session: Session, n: int, district: int) -> int:
    row = Resident(line_user_id=f"U{district:08d}{n:024d}", created_at=T0)
    session.add(row)
    session.flush()
    return int(row.id or 0)


def test_results_per_district_with_suppression_rates_and_target(engine: Engine) -> None:
    a, b, c = _districts(engine)
    wave_id = make_wave(engine, "probe")
    _answers(engine, wave_id, a, "aaaaabbb")  # 8 on LINE, 5 positive
    _answers(engine, wave_id, a, "ab", channel="paper", start=100)  # 2 typed in from paper
    _answers(engine, wave_id, b, "aabbbb")  # 6
    _answers(engine, wave_id, c, "ab")  # 2: under the threshold
    _invites(engine, wave_id, a, invited=12, responded=8)
    _invites(engine, wave_id, b, invited=6, responded=6)
    _invites(engine, wave_id, c, invited=9, responded=2)
    survey = one_survey().surveys["probe"]
    with session_scope(engine) as session:
        results = wave_results(session, survey, session.get_one(SurveyWave, wave_id), min_cell=5)
    q1 = results.questions[0]
    assert q1.indicator is not None and q1.indicator.target.value == 56.5  # type: ignore[union-attr]
    total, *rows = q1.rows
    assert (total.scope, total.answers, total.paper) == ("all", 18, 2)
    assert total.indicator is not None and total.indicator.count == 9
    assert (total.indicator.low, total.indicator.high) == wilson_interval(9, 18)
    assert (total.invited, total.responded) == (27, 16)
    by_name = {r.district_name: r for r in rows}
    assert by_name["仁王"].answers == 10 and by_name["仁王"].paper == 2
    assert by_name["仁王"].response_rate == pytest.approx(8 / 12)
    assert by_name["仁王"].options["a"].count == 6  # type: ignore[index]
    # 上田 (2 answers) is suppressed and shown as such; 桜城 too, or total − 仁王 would reveal it.
    assert by_name["上田"].suppressed and by_name["上田"].answers is None
    assert by_name["桜城"].suppressed and by_name["桜城"].indicator is None
    assert results.caveat_key == "survey.caveat_line_respondents"
    # A question without an indicator still gets shares per option, all rows suppressed here.
    assert results.questions[1].indicator is None


def test_a_closed_wave_reports_rates_after_its_invitations_are_purged(engine: Engine) -> None:
    (a, *_) = _districts(engine)
    wave_id = make_wave(engine, "probe", days=1)
    _answers(engine, wave_id, a, "aaab")
    _invites(engine, wave_id, a, invited=8, responded=4)
    closed_at = T0 + timedelta(days=1)
    with session_scope(engine) as session:
        survey_waves.close_due_waves(session, closed_at)
    with session_scope(engine) as session:
        assert surveys.purge_old_invites(session, closed_at + timedelta(days=91), 90) == 8
    survey = one_survey().surveys["probe"]
    with session_scope(engine) as session:
        results = wave_results(session, survey, session.get_one(SurveyWave, wave_id), min_cell=3)
    total = results.questions[0].rows[0]
    assert (total.invited, total.responded, total.response_rate) == (8, 4, 0.5)


def test_complementary_suppression_across_wards_and_unknown_district(engine: Engine) -> None:
    """Hidden cells of a group hold 0 or at least the threshold: ward 1's big district goes
    with its small one; the unknown-district answers (4) take ward 2 down with them, and
    ward 2's district with it (it alone would add up to the ward)."""
    with session_scope(engine) as session:
        w1, w2 = Ward(code="W1", name="北区"), Ward(code="W2", name="南区")
        session.add_all([w1, w2])
        session.flush()
        rows = [
            District(code="A", ward_id=w1.id or 0, name="甲"),
            District(code="B", ward_id=w1.id or 0, name="乙"),
            District(code="C", ward_id=w2.id or 0, name="丙"),
        ]
        session.add_all(rows)
        session.flush()
        a, b, c = (int(d.id or 0) for d in rows)
    wave_id = make_wave(engine, "probe")
    _answers(engine, wave_id, a, "aaaaabbbbb")  # 10
    _answers(engine, wave_id, b, "aab")  # 3: under 5
    _answers(engine, wave_id, c, "aaaaaabbbbbb")  # 12
    survey = one_survey().surveys["probe"]
    with session_scope(engine) as session:
        wave = session.get_one(SurveyWave, wave_id)
        for n in range(4):  # no known district
            surveys.record_answer(
                session, survey, wave, AnswerInput("q1", "a", f"x:{n}", None), "s"
            )
    with session_scope(engine) as session:
        results = wave_results(session, survey, session.get_one(SurveyWave, wave_id), min_cell=5)
    q1 = results.questions[0]
    shown = {r.key: (r.suppressed, r.answers) for r in q1.rows}
    assert shown == {
        "city": (False, 29),
        f"ward:{w1.id}": (False, 13),
        f"district:{a}": (True, None),
        f"district:{b}": (True, None),
        f"ward:{w2.id}": (True, None),
        f"district:{c}": (True, None),
        "unknown": (True, None),
    }
    city = q1.row("city")
    assert city is not None and city.indicator is not None
    assert (city.indicator.count, city.indicator.share) == (5 + 2 + 6 + 4, 17 / 29)
    assert city.channels == {"line": 29, "hancho": 0, "proxy": 0}
