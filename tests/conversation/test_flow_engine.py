"""The flow engine without HTTP: a two-step test flow driven through the runner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.content import load_content
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Invalid, Option, Say, Step
from bot.conversation.models import Conversation
from bot.conversation.render import Renderer
from bot.conversation.runner import Runner
from bot.core.models.residents import Resident
from bot.settings import REPO_ROOT, Settings
from bot.wiring import build_registry

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _parse_count(given: FlowInput, data: Data, ctx: Any) -> int:
    text = given.text.strip()
    if not text.isdigit() or not 1 <= int(text) <= 9:
        raise Invalid("common.choose_option")
    return int(text)


def _done(ctx: FlowContext, data: Data) -> list[Say]:
    ctx.resident.locale = "en" if data["answer"] == "yes" else "ja"
    return [Say("language.done")]


TEST_FLOW = Flow(
    name="probe",
    steps=(
        Step("count", "language.ask", parse=_parse_count, next="answer"),
        Step(
            "answer",
            "language.ask",
            options=(Option("language.names.en", "yes"), Option("language.names.ja", "no")),
        ),
    ),
    on_complete=_done,
    ttl=timedelta(minutes=30),
)


@pytest.fixture
def runner() -> Runner:
    registry = build_registry()
    registry.add_flow(TEST_FLOW, "language")  # "language" words start the probe here
    return Runner(registry, Renderer(load_content(REPO_ROOT / "content")))


@pytest.fixture
def session(engine: Any) -> Any:
    with Session(engine, expire_on_commit=False) as s:
        yield s


def _ctx(session: Session, now: datetime = NOW, user: str = "Uaaa") -> FlowContext:
    resident = session.exec(select(Resident).where(Resident.line_user_id == user)).first()
    if resident is None:
        resident = Resident(line_user_id=user, created_at=now)
        session.add(resident)
        session.flush()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return FlowContext(session, resident, load_content(REPO_ROOT / "content"), settings, now)


def text(value: str) -> FlowInput:
    return FlowInput("text", text=value)


def keys(says: list[Say]) -> list[str]:
    return [s.key for s in says]


def test_flow_walks_steps_and_completes(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    assert keys(runner.handle(ctx, text("language"))) == ["language.ask"]
    assert keys(runner.handle(ctx, text("3"))) == ["language.ask"]
    said = runner.handle(ctx, FlowInput("postback", data={"f": "probe", "s": "answer", "v": "yes"}))
    assert keys(said) == ["language.done"]
    assert ctx.resident.locale == "en"
    assert session.get(Conversation, "Uaaa") is None


def test_invalid_text_reasks_and_changes_nothing(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    before = session.get(Conversation, "Uaaa")
    assert before is not None and before.step == "count"
    said = runner.handle(ctx, text("many"))
    assert keys(said) == ["common.choose_option", "language.ask"]
    after = session.get(Conversation, "Uaaa")
    assert after is not None and after.step == "count" and "count" not in after.data


def test_sticker_where_text_expected_reasks(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    said = runner.handle(ctx, FlowInput("other"))
    assert keys(said) == ["common.wrong_kind", "language.ask"]
    row = session.get(Conversation, "Uaaa")
    assert row is not None and row.step == "count"


def test_over_long_text_reasks(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    said = runner.handle(ctx, text("9" * 500))
    assert said[0].key == "common.too_long" and said[0].params == {"limit": 200}


def test_back_returns_to_previous_question_and_forgets_answer(
    runner: Runner, session: Session
) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    runner.handle(ctx, text("4"))
    said = runner.handle(ctx, text("戻る"))
    assert [s.step for s in said] == ["count"]
    row = session.get(Conversation, "Uaaa")
    assert row is not None and row.step == "count" and "count" not in row.data


def test_cancel_clears_state_and_shows_menu(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    said = runner.handle(ctx, text("キャンセル"))
    assert keys(said) == ["common.cancelled", "menu.after_cancel"]
    assert session.get(Conversation, "Uaaa") is None


def test_help_explains_and_keeps_place(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    runner.handle(ctx, text("2"))
    said = runner.handle(ctx, text("help"))
    assert keys(said) == ["common.help_in_flow", "language.ask"]
    row = session.get(Conversation, "Uaaa")
    assert row is not None and row.step == "answer"


def test_expired_conversation_greets_afresh(runner: Runner, session: Session) -> None:
    runner.handle(_ctx(session), text("language"))
    later = _ctx(session, NOW + timedelta(minutes=31))
    said = runner.handle(later, text("5"))
    assert said[0].key == "common.expired"
    assert session.get(Conversation, "Uaaa") is None


def test_typed_label_counts_as_tap(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    runner.handle(ctx, text("2"))
    said = runner.handle(ctx, text("English"))
    assert keys(said) == ["language.done"]
    assert ctx.resident.locale == "en"


def test_stale_button_from_another_step_is_refused(runner: Runner, session: Session) -> None:
    ctx = _ctx(session)
    runner.handle(ctx, text("language"))
    said = runner.handle(ctx, FlowInput("postback", data={"f": "probe", "s": "answer", "v": "yes"}))
    assert keys(said) == ["common.stale_button", "language.ask"]
    row = session.get(Conversation, "Uaaa")
    assert row is not None and row.step == "count"


def test_two_residents_keep_separate_state(runner: Runner, session: Session) -> None:
    a, b = _ctx(session, user="Ua"), _ctx(session, user="Ub")
    runner.handle(a, text("language"))
    runner.handle(b, text("language"))
    runner.handle(a, text("1"))
    runner.handle(b, text("7"))
    rows = {u: session.get(Conversation, u) for u in ("Ua", "Ub")}
    assert rows["Ua"] is not None and rows["Ua"].data == {"count": 1}
    assert rows["Ub"] is not None and rows["Ub"].data == {"count": 7}


def test_content_dir_is_the_repo_one() -> None:
    assert (Path(REPO_ROOT) / "content" / "messages" / "ja" / "common.yaml").exists()
