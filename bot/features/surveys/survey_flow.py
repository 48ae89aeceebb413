"""One-tap participation surveys: each question is a quick reply; a tap answers it.

Stateless on purpose: every chip carries its wave, question and option (`a=sv&w=&q=&o=`), so
an invitation pushed days ago still works and no conversation has to be kept or expire.
The menu entry (`a=sv_open`) brings back the next unanswered question of an open wave, and
invites a resident of its audience whom the dispatch job has not reached yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.conversation.actions import Action, wire
from bot.conversation.context import FlowContext
from bot.conversation.engine import Option, Say
from bot.conversation.registry import Registry
from bot.features.surveys import surveys
from bot.features.surveys import waves as survey_waves
from bot.features.surveys.catalog import Survey, SurveyCatalog, load_catalog
from bot.features.surveys.models import SurveyWave


@dataclass(frozen=True)
class AnswerTap(Action, prefix="sv"):
    """One option of one question of one wave."""

    wave_id: int = wire("w")
    question: int = wire("q", minimum=0)
    option: int = wire("o", minimum=0)


@dataclass(frozen=True)
class OpenSurvey(Action, prefix="sv_open"):
    """アンケート from the menu."""


ANSWER_ACTION, OPEN_ACTION = AnswerTap.PREFIX, OpenSurvey.PREFIX


def register(registry: Registry) -> None:
    """Add the survey's postback actions to the registry."""
    registry.on(AnswerTap, answer_tap)
    registry.on(OpenSurvey, show_next_question)


def catalog_for(content: Content) -> SurveyCatalog:
    """The surveys shipped with this content."""
    return load_catalog(content.root)


def question_say(survey: Survey, wave: SurveyWave, index: int, locale: str) -> Say:
    """Question `index` of `survey` with one chip per option."""
    question = survey.questions[index]
    options = tuple(
        Option(
            label_key="survey.question_one",
            label=choice.label[locale],
            value=AnswerTap(wave.id or 0, index, position).encode(),
        )
        for position, choice in enumerate(question.options)
    )
    if len(survey.questions) == 1:
        return Say("survey.question_one", {"question": question.text[locale]}, options)
    params = {
        "question": question.text[locale],
        "number": index + 1,
        "total": len(survey.questions),
    }
    return Say("survey.question_of", params, options)


def invite_says(survey: Survey, wave: SurveyWave, locale: str, tz: ZoneInfo) -> list[Say]:
    """The invitation push: a line of why, then the first question."""
    params = {"title": survey.title[locale], **_closing(wave.closes_at, tz)}
    event = wave.context.get("event")
    intro = (
        Say("survey.invite_event", {**params, "event": event})
        if event
        else Say("survey.invite", params)
    )
    return [intro, question_say(survey, wave, 0, locale)]


def nudge_says(survey: Survey, wave: SurveyWave, locale: str, tz: ZoneInfo) -> list[Say]:
    """The closing reminder to those who have not answered."""
    params = {"title": survey.title[locale], **_closing(wave.closes_at, tz)}
    return [Say("survey.nudge", params), question_say(survey, wave, 0, locale)]


def answer_tap(ctx: FlowContext, tap: AnswerTap) -> list[Say]:
    """Record a tapped answer and ask the next question, or thank the resident."""
    found = _resolve(ctx, tap)
    if found is None:
        return [Say("common.stale_button")]
    survey, wave, index, option = found
    if not survey_waves.is_open(wave, ctx.now):
        return [Say("survey.closed")]
    secret = ctx.settings.survey_token_secret.get_secret_value()
    resident_id = ctx.resident.id or 0
    question = survey.questions[index]
    outcome = surveys.answer_on_line(
        ctx.session, survey, wave, resident_id, question, question.options[option].id, secret
    )
    if outcome == "not_invited":
        return [Say("survey.not_invited")]
    following = surveys.next_unanswered(ctx.session, survey, wave, resident_id, secret)
    replies = [] if outcome == "recorded" else [Say("survey.already_answered")]
    if following is not None:
        return [*replies, question_say(survey, wave, following, ctx.locale)]
    return replies or [Say("survey.thanks")]


def show_next_question(ctx: FlowContext, _tap: OpenSurvey) -> list[Say]:
    """From the menu: the next unanswered question of any open wave the resident is in,
    inviting them first when the dispatch has not reached them yet."""
    catalog = catalog_for(ctx.content)
    resident_id = ctx.resident.id or 0
    found = _next_question(ctx, catalog, resident_id)
    if found is None and surveys.invite_on_request(ctx.session, catalog, resident_id, ctx.now):
        found = _next_question(ctx, catalog, resident_id)
    return [found or Say("survey.none_open")]


def _next_question(ctx: FlowContext, catalog: SurveyCatalog, resident_id: int) -> Say | None:
    secret = ctx.settings.survey_token_secret.get_secret_value()
    for wave in surveys.pending_waves_for(ctx.session, resident_id, ctx.now):
        survey = catalog.get(wave.survey_id)
        if survey is None:
            continue
        index = surveys.next_unanswered(ctx.session, survey, wave, resident_id, secret)
        if index is not None:
            return question_say(survey, wave, index, ctx.locale)
    return None


def _resolve(ctx: FlowContext, tap: AnswerTap) -> tuple[Survey, SurveyWave, int, int] | None:
    """Wave, survey, question and option of a tap; None when any of them is gone."""
    index, option = tap.question, tap.option
    wave = ctx.session.get(SurveyWave, tap.wave_id)
    survey = catalog_for(ctx.content).get(wave.survey_id) if wave else None
    if wave is None or survey is None or not 0 <= index < len(survey.questions):
        return None
    if not 0 <= option < len(survey.questions[index].options):
        return None
    return survey, wave, index, option


def _closing(closes_at: datetime, tz: ZoneInfo) -> dict[str, int]:
    local = closes_at.astimezone(tz)
    return {"month": local.month, "day": local.day}
