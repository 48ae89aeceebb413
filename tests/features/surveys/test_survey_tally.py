"""The running tally `survey_tally` equals a fresh GROUP BY of the answers after answers are
stored, changed, deleted and their residents erased, and after the migration's backfill; an
answer records its respondent's association; association rows are suppressed like districts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.erasure import erase_resident
from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.features.surveys import surveys, tally
from bot.features.surveys.models import AnswerChannel, SurveyAnswer, SurveyTally, SurveyWave
from bot.features.surveys.results import wave_results
from bot.features.surveys.surveys import AnswerInput
from bot.platform.migrate import alembic_config
from tests.scheduler_support import T0, add_residents, invite, make_wave, one_survey

SECRET = "tally-test-secret"
NAMED = one_survey(anonymous=False).get("probe")
assert NAMED is not None


def _stored(session: Session) -> dict[tuple[Any, ...], int]:
    """The tally's non-zero rows (a row whose answers all went stays at 0)."""
    t = SurveyTally.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(t)).all()
    return {tuple(r[:6]): int(r[6]) for r in rows if r[6] != 0}


def _fresh(session: Session) -> dict[tuple[Any, ...], int]:
    return {tuple(r[:6]): int(r[6]) for r in session.execute(tally.regroup()).all()}


def _same(engine: Engine) -> dict[tuple[Any, ...], int]:
    with Session(engine) as session:
        stored, fresh = _stored(session), _fresh(session)
    assert stored == fresh
    return stored


def _city(engine: Engine) -> dict[str, int]:
    """A ward with districts d1, d2; association a1 in d1, a2 in d2."""
    with session_scope(engine) as db:
        ward = Ward(code="w", name="北")
        db.add(ward)
        db.flush()
        ids: dict[str, int] = {}
        for code in ("d1", "d2"):
            district = District(code=code, ward_id=ward.id, name=f"{code}地区")  # type: ignore[arg-type]
            db.add(district)
            db.flush()
            ids[code] = int(district.id or 0)
        for code, district_code in (("a1", "d1"), ("a2", "d2")):
            association = Association(code=code, district_id=ids[district_code], name=code)
            db.add(association)
            db.flush()
            ids[code] = int(association.id or 0)
    return ids


def _member(engine: Engine, resident_id: int, association_id: int, status: str) -> None:
    with session_scope(engine) as db:
        db.add(
            Membership(
                resident_id=resident_id,
                association_id=association_id,
                status=status,
                full_name="試験",
                household_size=1,
                contact_method="line",
                applied_at=T0,
            )
        )


def test_tally_follows_answers_stored_changed_and_erased(engine: Engine) -> None:
    ids = _city(engine)
    r1, r2, r3, r4, hancho = add_residents(engine, 5)
    _member(engine, r1, ids["a1"], "approved")
    _member(engine, r2, ids["a2"], "approved")
    _member(engine, r3, ids["a1"], "pending")  # not a member yet: no association
    w1 = make_wave(engine, "probe")
    w2 = make_wave(engine, "probe", key="w2", opens=T0 + timedelta(days=1))
    # r2's invitation says d1, but answers count where their association is (d2).
    invite(engine, w1, [r1, r2, r3], {r1: ids["d1"], r2: ids["d1"], r3: ids["d1"]})
    with session_scope(engine) as db:
        wave1, wave2 = db.get_one(SurveyWave, w1), db.get_one(SurveyWave, w2)
        q1, q2 = NAMED.questions
        for rid, option in ((r1, "a"), (r2, "b"), (r3, "a")):
            outcome = surveys.answer_on_line(db, NAMED, wave1, rid, q1, option, SECRET)
            assert outcome == "recorded"
        surveys.answer_on_line(db, NAMED, wave1, r1, q2, "c", SECRET)
        # Paper: an unknown respondent typed in by a 班長, a non-member and a member by staff.
        surveys.enter_paper_answers(
            db,
            NAMED,
            wave1,
            {"q1": "b", "q2": "d"},
            respondent_ref="sheet-1",
            district_id=ids["d2"],
            secret=SECRET,
            entered_by_resident_id=hancho,
        )
        surveys.enter_paper_answers(
            db,
            NAMED,
            wave2,
            {"q1": "a"},
            respondent_ref="sheet-2",
            district_id=None,
            secret=SECRET,
            respondent_resident_id=r4,
            entered_by_staff_id=1,
        )
        surveys.enter_paper_answers(
            db,
            NAMED,
            wave2,
            {"q1": "b"},
            respondent_ref="sheet-3",
            district_id=ids["d2"],
            secret=SECRET,
            respondent_resident_id=r1,
            entered_by_staff_id=1,
        )
    with Session(engine) as db:
        placed = {
            (a.resident_id, a.wave_id, a.question_id): (a.district_id, a.association_id)
            for a in db.execute(select(SurveyAnswer)).scalars()
        }
    assert placed[(r1, w1, "q1")] == (ids["d1"], ids["a1"])
    assert placed[(r2, w1, "q1")] == (ids["d2"], ids["a2"])  # the association's district
    assert placed[(r3, w1, "q1")] == (ids["d1"], None)  # pending: not a member
    assert placed[(r4, w2, "q1")] == (None, None)
    assert placed[(r1, w2, "q1")] == (ids["d1"], ids["a1"])  # paper for a member: theirs
    assert placed[(None, w1, "q1")] == (ids["d2"], None)
    stored = _same(engine)
    assert stored[(w1, "q1", "a", "line", ids["d1"], ids["a1"])] == 1
    assert stored[(w1, "q1", "b", "hancho", ids["d2"], 0)] == 1
    assert stored[(w2, "q1", "a", "proxy", 0, 0)] == 1
    assert sum(stored.values()) == 8

    # Changed: an option corrected, a district moved (its old value not loaded), a channel
    # turned from a 班長's entry into staff's.
    with session_scope(engine) as db:
        answers = {
            (a.resident_id, a.wave_id, a.question_id): a
            for a in db.execute(select(SurveyAnswer)).scalars()
        }
        answers[(r3, w1, "q1")].option_id = "b"
        moved = answers[(r2, w1, "q1")]
        db.expire(moved, ["district_id"])
        moved.district_id = ids["d1"]
        typed = answers[(None, w1, "q1")]
        typed.entered_by_resident_id = None
        typed.entered_by_staff_id = 1
    stored = _same(engine)
    assert stored[(w1, "q1", "b", "line", ids["d1"], 0)] == 1
    assert stored[(w1, "q1", "b", "proxy", ids["d2"], 0)] == 1
    assert (w1, "q1", "b", "hancho", ids["d2"], 0) not in stored

    # Deleted one by one through the ORM.
    with session_scope(engine) as db:
        gone = db.execute(
            select(SurveyAnswer).where(SurveyAnswer.resident_id == r1, SurveyAnswer.wave_id == w2)
        ).scalar_one()
        db.delete(gone)
    assert sum(_same(engine).values()) == 7

    # A resident erased: their named answers are unlinked but still counted, and so are the
    # forms the erased 班長 typed in.
    with session_scope(engine) as db:
        erase_resident(db, db.get_one(Resident, r1), T0 + timedelta(days=2))
        erase_resident(db, db.get_one(Resident, hancho), T0 + timedelta(days=2))
    with Session(engine) as db:
        assert (
            db.execute(select(SurveyAnswer).where(SurveyAnswer.resident_id == r1)).first() is None
        )
    stored = _same(engine)
    assert sum(stored.values()) == 7
    assert stored[(w1, "q1", "a", "line", ids["d1"], ids["a1"])] == 1

    # A wave deleted: its answers and tally rows go together (ON DELETE CASCADE).
    with session_scope(engine) as db:
        db.delete(db.get_one(SurveyWave, w2))
    assert sum(_same(engine).values()) == 6

    # Bulk rows bypass the flush hook: `rebuild` recounts.
    with engine.begin() as conn:
        conn.execute(
            insert(SurveyAnswer.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": f"bulk{i}",
                    "wave_id": w1,
                    "question_id": "q1",
                    "option_id": "a",
                    "channel": "line",
                    "district_id": ids["d2"],
                    "association_id": ids["a2"],
                }
                for i in range(3)
            ],
        )
        tally.rebuild(conn)
    assert _same(engine)[(w1, "q1", "a", "line", ids["d2"], ids["a2"])] == 3


def test_migration_backfills_the_tally(engine: Engine, db_url: str) -> None:
    """Answers stored before revision 0013 are counted by its backfill."""
    config = alembic_config(db_url)
    command.downgrade(config, "0013_survey_tally-1")
    # Tables 0013 leaves alone are written through their models; answers by hand.
    with session_scope(engine) as db:
        ward = Ward(code="w", name="W")
        db.add(ward)
        db.flush()
        district = District(code="d", ward_id=ward.id, name="D")  # type: ignore[arg-type]
        hancho_row = Resident(locale="ja", created_at=T0)
        wave = SurveyWave(
            survey_id="probe", wave_key="w1", opens_at=T0, closes_at=T0, created_at=T0
        )
        db.add_all([district, hancho_row, wave])
        db.flush()
        district_id, hancho, wave_id = district.id, hancho_row.id, wave.id
    with engine.begin() as conn:
        rows = [
            ("q1", "a", "line", None, district_id),
            ("q1", "a", "line", None, district_id),
            ("q1", "b", "paper", None, district_id),
            ("q1", "b", "paper", 1, None),
            ("q2", "c", "line", None, None),
        ]
        for n, (question, option, channel, by_resident, district) in enumerate(rows):
            conn.execute(
                text(
                    "INSERT INTO survey_answer (id, wave_id, question_id, option_id, "
                    "district_id, channel, entered_by_resident_id) "
                    "VALUES (:id, :w, :q, :o, :d, :c, :r)"
                ),
                {
                    "id": f"old{n}",
                    "w": wave_id,
                    "q": question,
                    "o": option,
                    "d": district,
                    "c": channel,
                    "r": by_resident and hancho,
                },
            )
    engine.dispose()
    command.upgrade(config, "head")
    stored = _same(engine)
    assert stored == {
        (wave_id, "q1", "a", "line", district_id, 0): 2,
        (wave_id, "q1", "b", "proxy", district_id, 0): 1,
        (wave_id, "q1", "b", "hancho", 0, 0): 1,
        (wave_id, "q2", "c", "line", 0, 0): 1,
    }


def test_association_rows_are_suppressed_like_districts(engine: Engine) -> None:
    """With a threshold of 5: an association under it is hidden, and so is the smallest other
    one of its district unless the district's non-members make the hidden part 5 or more."""
    ids = _city(engine)
    with session_scope(engine) as db:
        extra = Association(code="a3", district_id=ids["d1"], name="a3")
        db.add(extra)
        db.flush()
        a3 = int(extra.id or 0)
    wave_id = make_wave(engine, "probe")

    def answers(db: Session, district: str, association: int | None, n: int, ref: str) -> None:
        wave = db.get_one(SurveyWave, wave_id)
        for i in range(n):
            surveys.record_answer(
                db,
                NAMED,
                wave,
                AnswerInput(
                    "q1",
                    "a" if i % 2 == 0 else "b",
                    f"paper:{ref}{i}",
                    ids[district],
                    AnswerChannel.LINE,
                    association_id=association,
                ),
                SECRET,
            )

    with session_scope(engine) as db:
        answers(db, "d1", ids["a1"], 8, "a1-")
        answers(db, "d1", a3, 2, "a3-")  # under 5
        answers(db, "d2", ids["a2"], 6, "a2-")
        answers(db, "d2", None, 6, "d2-")  # non-members of d2
    with Session(engine) as db:
        rows = {
            r.key: r
            for r in wave_results(db, NAMED, db.get_one(SurveyWave, wave_id), min_cell=5)
            .questions[0]
            .rows
        }
    a1, a2 = rows[f"association:{ids['a1']}"], rows[f"association:{ids['a2']}"]
    # d1 has no non-members: a3's 2 would be d1 − a1, so a1 is hidden too.
    assert rows[f"association:{a3}"].suppressed and a1.suppressed
    assert rows[f"district:{ids['d1']}"].answers == 10
    # d2: a2 shown, as d2 − a2 is the 6 non-members (never shown on their own).
    assert (a2.suppressed, a2.answers) == (False, 6)
    assert a2.indicator is not None and a2.indicator.count == 3
    assert a2.ward_id == rows[f"district:{ids['d2']}"].ward_id
