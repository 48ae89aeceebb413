"""Participation surveys: who is invited, answering once, paper answers (waves: survey_waves).

No LINE and no HTTP here: the scheduler jobs and the survey flow call these functions.
A respondent's second answer to a question of a wave is refused by a keyed hash of
(wave, question, respondent) in `survey_answer_token`; the answer row itself carries no
resident for anonymous surveys (see bot/features/surveys/models.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.conversation.models import Conversation
from bot.core import hooks
from bot.core.models.areas import Association
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident, ResidentStatus
from bot.features.surveys import tally as _tally  # noqa: F401 - keeps survey_tally in step
from bot.features.surveys import waves as survey_waves
from bot.features.surveys.catalog import Question, Survey, SurveyCatalog
from bot.features.surveys.models import (
    AnswerChannel,
    SurveyAnswer,
    SurveyAnswerToken,
    SurveyInvite,
    SurveyWave,
    WaveStatus,
)

AudienceFn = Callable[[Session, Survey, SurveyWave], list[int]]
DistrictLookup = Callable[[Session, list[int]], dict[int, int]]
AnswerOutcome = Literal["recorded", "duplicate", "not_invited"]


# --- registration points -------------------------------------------------------------------


def _followers(session: Session, survey: Survey, wave: SurveyWave) -> list[int]:
    """Everyone who follows the bot and can be reached."""
    rows = session.execute(
        select(col(Resident.id))
        .where(
            col(Resident.status) == ResidentStatus.ACTIVE,
            col(Resident.line_user_id).is_not(None),
        )
        .order_by(col(Resident.id))
    ).scalars()
    return [int(r) for r in rows]


def _checked_in(session: Session, survey: Survey, wave: SurveyWave) -> list[int]:
    """Residents checked in at the wave's event (the post-event satisfaction question)."""
    if wave.event_id is None:
        return []
    return hooks.ask_event_attendees(session, wave.event_id)


def _members(session: Session, survey: Survey, wave: SurveyWave) -> list[int]:
    """Approved members of any association."""
    rows = session.execute(
        select(col(Membership.resident_id))
        .where(col(Membership.status) == MembershipStatus.APPROVED)
        .distinct()
        .order_by(col(Membership.resident_id))
    ).scalars()
    return [int(r) for r in rows]


def _member_districts(session: Session, resident_ids: list[int]) -> dict[int, int]:
    """Resident → district of the association they are an approved member of."""
    found: dict[int, int] = {}
    for start in range(0, len(resident_ids), 1000):
        rows = session.execute(
            select(col(Membership.resident_id), col(Association.district_id))
            .join(Association, col(Association.id) == col(Membership.association_id))
            .where(
                col(Membership.status) == MembershipStatus.APPROVED,
                col(Membership.resident_id).in_(resident_ids[start : start + 1000]),
            )
        ).all()
        found.update({int(rid): int(district) for rid, district in rows})
    return found


def member_associations(session: Session, resident_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Resident → (association, its district) of their approved membership now; residents
    without one are left out (their answers record no association)."""
    found: dict[int, tuple[int, int]] = {}
    for start in range(0, len(resident_ids), 1000):
        rows = session.execute(
            select(
                col(Membership.resident_id),
                col(Membership.association_id),
                col(Association.district_id),
            )
            .join(Association, col(Association.id) == col(Membership.association_id))
            .where(
                col(Membership.status) == MembershipStatus.APPROVED,
                col(Membership.resident_id).in_(resident_ids[start : start + 1000]),
            )
            .order_by(col(Membership.id))
        ).all()
        found.update({int(rid): (int(a), int(d)) for rid, a, d in rows})
    return found


_AUDIENCES: dict[str, AudienceFn] = {
    "followers": _followers,
    "members": _members,
    "event_checked_in": _checked_in,
}
_district_lookups: list[DistrictLookup] = [_member_districts]


def register_audience(name: str, resolver: AudienceFn) -> None:
    """Add an audience a survey YAML may name (e.g. "members" from membership)."""
    _AUDIENCES[name] = resolver


def register_district_lookup(lookup: DistrictLookup) -> None:
    """Replace how surveys find each resident's district (default: their approved
    membership's association → district; residents without one are tallied as unknown)."""
    _district_lookups[:] = [lookup]


def audience_of(session: Session, survey: Survey, wave: SurveyWave) -> list[int] | None:
    """Resident ids a wave goes to, or None when the survey names an unknown audience."""
    resolver = _AUDIENCES.get(survey.audience)
    return None if resolver is None else resolver(session, survey, wave)


def districts_of(session: Session, resident_ids: list[int]) -> dict[int, int]:
    """Resident id → district id, where known."""
    return _district_lookups[0](session, resident_ids) if _district_lookups else {}


# --- invitations ---------------------------------------------------------------------------


def not_yet_invited(session: Session, wave: SurveyWave, resident_ids: list[int]) -> list[int]:
    """The residents of `resident_ids` this wave has not invited yet."""
    invited = set(
        session.execute(
            select(col(SurveyInvite.resident_id)).where(col(SurveyInvite.wave_id) == wave.id)
        ).scalars()
    )
    return [rid for rid in resident_ids if rid not in invited]


def not_in_conversation(session: Session, resident_ids: list[int], now: datetime) -> list[int]:
    """The residents of `resident_ids` not in the middle of a flow (a live conversation).

    An invitation's answer chips would replace the chips of the question a resident is
    answering (joining, RSVP headcounts); they are invited at a later run instead, once the
    conversation has ended or expired.
    """
    busy: set[int] = set()
    for start in range(0, len(resident_ids), 1000):
        busy.update(
            int(r)
            for r in session.execute(
                select(col(Resident.id))
                .join(Conversation, col(Conversation.line_user_id) == col(Resident.line_user_id))
                .where(
                    col(Resident.id).in_(resident_ids[start : start + 1000]),
                    col(Conversation.expires_at) > now,
                )
            ).scalars()
        )
    return [rid for rid in resident_ids if rid not in busy]


def record_invites(
    session: Session, wave: SurveyWave, resident_ids: Iterable[int], now: datetime
) -> None:
    """Write invitation rows (with each resident's district, for per-district rates)."""
    ids = list(resident_ids)
    districts = districts_of(session, ids)
    for rid in ids:
        session.add(
            SurveyInvite(
                wave_id=wave.id or 0,
                resident_id=rid,
                district_id=districts.get(rid),
                invited_at=now,
            )
        )
    session.flush()


def nudge_candidates(session: Session, wave: SurveyWave) -> list[int]:
    """Invited residents who have not answered and were not nudged yet."""
    return [
        int(r)
        for r in session.execute(
            select(col(SurveyInvite.resident_id))
            .where(
                col(SurveyInvite.wave_id) == wave.id,
                col(SurveyInvite.responded).is_(False),
                col(SurveyInvite.nudged).is_(False),
            )
            .order_by(col(SurveyInvite.resident_id))
        ).scalars()
    ]


def mark_nudged(session: Session, wave: SurveyWave, resident_ids: list[int]) -> None:
    """Remember who was nudged, so a second run nudges nobody twice."""
    if resident_ids:
        session.execute(
            update(SurveyInvite)
            .where(
                col(SurveyInvite.wave_id) == wave.id,
                col(SurveyInvite.resident_id).in_(resident_ids),
            )
            .values(nudged=True)
        )


def invite_of(session: Session, wave_id: int, resident_id: int) -> SurveyInvite | None:
    """The resident's invitation to a wave, if any."""
    return session.execute(
        select(SurveyInvite).where(
            col(SurveyInvite.wave_id) == wave_id, col(SurveyInvite.resident_id) == resident_id
        )
    ).scalar_one_or_none()


def pending_waves_for(session: Session, resident_id: int, now: datetime) -> list[SurveyWave]:
    """Open waves the resident was invited to and has not finished answering (menu entry)."""
    return list(
        session.execute(
            select(SurveyWave)
            .join(SurveyInvite, col(SurveyInvite.wave_id) == col(SurveyWave.id))
            .where(
                col(SurveyInvite.resident_id) == resident_id,
                col(SurveyWave.status) == WaveStatus.OPEN,
                col(SurveyWave.opens_at) <= now,
                col(SurveyWave.closes_at) > now,
            )
            .order_by(col(SurveyWave.closes_at))
        ).scalars()
    )


def invite_on_request(
    session: Session, catalog: SurveyCatalog, resident_id: int, now: datetime
) -> list[SurveyWave]:
    """Invite the resident, who asked for a survey from the menu, to the open waves whose
    audience takes them in but that the dispatch job has not reached them for (they followed
    since its last run, or their weekly push budget held the invitation back); the waves.

    Asked for, so nothing is pushed and no budget is spent; the dispatch then skips them.
    """
    invited: list[SurveyWave] = []
    for wave in survey_waves.open_waves(session, now):
        survey = catalog.get(wave.survey_id)
        if survey is None or not survey.enabled:
            continue
        if invite_of(session, wave.id or 0, resident_id) is not None:
            continue
        if resident_id not in set(audience_of(session, survey, wave) or ()):
            continue
        try:
            with session.begin_nested():
                record_invites(session, wave, [resident_id], now)
        except IntegrityError:  # the dispatch job invited them in the meantime
            pass
        invited.append(wave)
    return invited


def purge_old_invites(session: Session, now: datetime, keep_days: int) -> int:
    """Forget who was invited to waves closed long ago (their counts stay in the tally)."""
    old = select(col(SurveyWave.id)).where(
        col(SurveyWave.status) == WaveStatus.CLOSED,
        col(SurveyWave.closed_at) < now - timedelta(days=keep_days),
    )
    result = session.exec(delete(SurveyInvite).where(col(SurveyInvite.wave_id).in_(old)))
    return int(result.rowcount or 0)


# --- answers -------------------------------------------------------------------------------


def respondent_of_resident(resident_id: int) -> str:
    """The respondent key of a resident (the same for a LINE tap and a paper form)."""
    return f"resident:{resident_id}"


def answer_token(secret: str, wave_id: int, question_id: str, respondent: str) -> str:
    """HMAC-SHA256 of (wave, question, respondent): unlinkable without the secret."""
    message = f"{wave_id}|{question_id}|{respondent}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def has_answered(
    session: Session, wave_id: int, question_id: str, respondent: str, secret: str
) -> bool:
    """Whether the respondent already answered this question of this wave."""
    token = answer_token(secret, wave_id, question_id, respondent)
    return session.get(SurveyAnswerToken, (wave_id, question_id, token)) is not None


@dataclass(frozen=True)
class AnswerInput:
    """One answer to store, whoever typed it in."""

    question_id: str
    option_id: str
    respondent: str
    district_id: int | None
    channel: AnswerChannel = AnswerChannel.LINE
    resident_id: int | None = None  # kept only when the survey is not anonymous
    entered_by_resident_id: int | None = None
    entered_by_staff_id: int | None = None
    # The respondent's association (approved membership at answer time); see `placed`.
    association_id: int | None = None


def placed(
    session: Session, resident_id: int | None, district_id: int | None
) -> tuple[int | None, int | None]:
    """(district, association) an answer of `resident_id` is counted in: a member's
    association and its district, so association rows nest in their district's; otherwise
    the given district (the invitation's) and no association."""
    if resident_id is not None:
        membership = member_associations(session, [resident_id]).get(resident_id)
        if membership is not None:
            association_id, association_district = membership
            return association_district, association_id
    return district_id, None


def record_answer(
    session: Session, survey: Survey, wave: SurveyWave, answer: AnswerInput, secret: str
) -> bool:
    """Store one answer unless the respondent answered that question before; True if stored."""
    question = survey.question(answer.question_id)
    if answer.option_id not in {o.id for o in question.options}:
        raise ValueError(f"{answer.option_id!r} is not an option of {question.id}")
    wave_id = wave.id or 0
    token = answer_token(secret, wave_id, question.id, answer.respondent)
    if session.get(SurveyAnswerToken, (wave_id, question.id, token)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(SurveyAnswerToken(wave_id=wave_id, question_id=question.id, token=token))
    except IntegrityError:  # the same tap processed concurrently: the first one counts
        return False
    session.add(
        SurveyAnswer(
            wave_id=wave_id,
            question_id=question.id,
            option_id=answer.option_id,
            district_id=answer.district_id,
            association_id=answer.association_id,
            channel=answer.channel,
            resident_id=None if survey.anonymous else answer.resident_id,
            entered_by_resident_id=answer.entered_by_resident_id,
            entered_by_staff_id=answer.entered_by_staff_id,
        )
    )
    return True


def answer_on_line(
    session: Session,
    survey: Survey,
    wave: SurveyWave,
    resident_id: int,
    question: Question,
    option_id: str,
    secret: str,
) -> AnswerOutcome:
    """A resident's tap: only invited residents answer; the first answer per question counts."""
    invite = invite_of(session, wave.id or 0, resident_id)
    if invite is None:
        return "not_invited"
    district_id, association_id = placed(session, resident_id, invite.district_id)
    stored = record_answer(
        session,
        survey,
        wave,
        AnswerInput(
            question.id,
            option_id,
            respondent_of_resident(resident_id),
            district_id,
            resident_id=resident_id,
            association_id=association_id,
        ),
        secret,
    )
    if stored and not invite.responded:
        invite.responded = True
        session.add(invite)
    return "recorded" if stored else "duplicate"


def next_unanswered(
    session: Session, survey: Survey, wave: SurveyWave, resident_id: int, secret: str
) -> int | None:
    """Index of the first question the resident has not answered, or None when done."""
    respondent = respondent_of_resident(resident_id)
    for index, question in enumerate(survey.questions):
        if not has_answered(session, wave.id or 0, question.id, respondent, secret):
            return index
    return None


def enter_paper_answers(
    session: Session,
    survey: Survey,
    wave: SurveyWave,
    answers: Mapping[str, str],
    *,
    respondent_ref: str,
    district_id: int | None,
    secret: str,
    respondent_resident_id: int | None = None,
    entered_by_resident_id: int | None = None,
    entered_by_staff_id: int | None = None,
) -> int:
    """Type in a paper form on the respondent's behalf; returns answers stored (not repeats).

    A known resident is keyed like their LINE taps, so answering on paper and on LINE counts
    once; an unknown respondent is keyed by the form's reference (sheet number).
    """
    if entered_by_resident_id is None and entered_by_staff_id is None:
        raise ValueError("a paper answer records who entered it")
    respondent = (
        respondent_of_resident(respondent_resident_id)
        if respondent_resident_id is not None
        else f"paper:{respondent_ref}"
    )
    district_id, association_id = placed(session, respondent_resident_id, district_id)
    stored = 0
    for question_id, option_id in answers.items():
        stored += record_answer(
            session,
            survey,
            wave,
            AnswerInput(
                question_id,
                option_id,
                respondent,
                district_id,
                AnswerChannel.PAPER,
                resident_id=respondent_resident_id,
                entered_by_resident_id=entered_by_resident_id,
                entered_by_staff_id=entered_by_staff_id,
                association_id=association_id,
            ),
            secret,
        )
    return stored


def forget_resident(session: Session, resident_id: int, now: datetime) -> None:
    """Erasure hook (`erasure.register_eraser`): unlink a resident from named-survey answers.

    The answers stay (they are counts in a tally); invitations keep only the bare id, as
    other domains' counted rows do.
    """
    session.execute(
        update(SurveyAnswer)
        .where(col(SurveyAnswer.resident_id) == resident_id)
        .values(resident_id=None)
    )


def known_audiences() -> frozenset[str]:
    """Audience names a survey YAML may use (checked at start-up, bot/wiring.py)."""
    return frozenset(_AUDIENCES)
