"""A safety check through LINE: sent once in batches with retry keys, answers per household
(any member may answer, the last answer counts), unanswered and 助けが必要 households on the
班長's list after the set time (paper ones too), visits recorded with one tap each, then the
班 still unanswered go to the officer, once; the counts and the printed list agree."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from pypdf import PdfReader
from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.db import session_scope
from bot.features.safety import checks, jobs
from bot.features.safety import messages as safety_messages
from bot.features.safety.answer_flow import SafetyAnswer
from bot.features.safety.models import SafetyCheck, SafetyHousehold
from bot.features.safety.staff import views
from bot.features.safety.visit_flow import SafetyVisit
from bot.platform.delivery.models import OutboxBatch, OutboxMessage
from bot.settings import REPO_ROOT
from bot.staff.i18n import translators
from tests.builders import T0, uid
from tests.features.events.support import notifier_of
from tests.features.safety.support import two_han_town
from tests.harness import buttons, chips, clocked_bot, text_of


def _states(engine: Any, check_id: int) -> dict[str, int]:
    with Session(engine) as db:
        return checks.counts(db, check_id).states


def _escalate(bot: Any, engine: Any, at: Any) -> int:
    deps = JobDeps(settings=bot.app.state.settings, notifier=notifier_of(bot))
    with session_scope(engine) as db:
        return jobs.escalate(now=at, session=db, deps=deps)


def test_check_answers_visits_and_escalation(bot_factory: Any, engine: Any) -> None:
    town = two_han_town(engine)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    with session_scope(engine) as db:
        check = checks.draft(db, area_kind="association", area_id=town.association,
                             template="earthquake", visit_after=30, now=T0)  # fmt: skip
        check_id = int(check.id or 0)
        cost = checks.preview(db, check)
        assert (cost.households, cost.paper_households, cost.recipients) == (10, 4, 7)
        sent = safety_messages.send_check(notifier_of(bot), db, T0, check_id)
        assert sent.sent and len(sent.resident_ids) == 7
        again = safety_messages.send_check(notifier_of(bot), db, T0, check_id)
        assert not again.sent  # a second press sends nothing
    with Session(engine) as db:
        message = db.exec(
            select(OutboxMessage).where(OutboxMessage.key.startswith("safety:"))
        ).one()  # type: ignore[attr-defined]
        batches = db.exec(select(OutboxBatch).where(OutboxBatch.message_id == message.id)).all()
        assert message.urgent and message.not_before is None  # quiet hours do not hold it
        assert len(batches) == 1 and batches[0].retry_key
    assert bot.deliver() >= 1
    card = bot.last(uid("r11"))
    assert "【安否確認】地震の安否確認" in text_of(card)
    assert set(buttons(card)) == {"無事", "助けが必要", "不在・避難中"}

    # Two members of household 1-1: the second answer replaces the first, counted once.
    bot.tap(uid("r11"), "無事")
    assert "「無事」と記録しました" in text_of(bot.last(uid("r11")))
    bot.tap(uid("r11b"), "助けが必要")
    bot.tap(uid("r11b"), "3人")
    assert "3人と記録しました" in text_of(bot.last(uid("r11b")))
    bot.tap(uid("r11b"), "メモを送る")
    bot.say(uid("r11b"), "父が足をけがしています")
    assert "メモを記録しました" in text_of(bot.last(uid("r11b")))
    bot.tap(uid("r12"), "無事")
    bot.tap(uid("r21"), "不在・避難中")
    bot.press(uid("r21"), SafetyAnswer(check_id, "lost").encode())  # forged: nothing changes
    assert _states(engine, check_id) == {"none": 7, "safe": 1, "help": 1, "away": 1}
    with Session(engine) as db:
        row = db.exec(
            select(SafetyHousehold).where(SafetyHousehold.household_id == town.households["1-1"])
        ).one()
        assert (row.state, row.people, row.note) == ("help", 3, "父が足をけがしています")

    # Before the set time only the 助けが必要 is told (to its 班長, once); the unanswered
    # households wait for the set time, then each 班長 is told once.
    assert _escalate(bot, engine, T0 + timedelta(minutes=28)) == 1
    assert _escalate(bot, engine, T0 + timedelta(minutes=29)) == 0
    bot.deliver(T0 + timedelta(minutes=29))
    assert "1班で「助けが必要」と答えた家が1軒" in text_of(bot.last(uid("r11")))
    assert not [t for t in bot.texts_to(uid("r21")) if "安否確認】2班" in t]
    clock.set(T0 + timedelta(minutes=31))
    assert _escalate(bot, engine, T0 + timedelta(minutes=31)) == 1
    assert _escalate(bot, engine, T0 + timedelta(minutes=32)) == 0
    bot.deliver(T0 + timedelta(minutes=31))
    leader = uid("r11")
    assert "1班で確認が必要な家が4軒" in text_of(bot.last(leader))
    bot.say(leader, "メニュー")  # the alert's chip is gone once other messages came: the menu
    bot.tap(leader, "班の名簿")
    bot.tap(leader, "安否確認の訪問")
    listed = list(chips(bot.last(leader)))
    assert listed == ["助け 本町1-1 住民11", "未回答 本町1-3 住民13", "未回答 本町1-4 住民14",
                      "未回答 本町1-5 住民15"]  # fmt: skip
    found = {"助け 本町1-1 住民11": "助けが必要", "未回答 本町1-3 住民13": "無事",
             "未回答 本町1-4 住民14": "不在・避難中", "未回答 本町1-5 住民15": "無事"}  # fmt: skip
    for label, state in found.items():
        bot.tap(leader, label)
        assert "訪ねた結果" in text_of(bot.last(leader))
        bot.tap(leader, state)
    assert "訪問が必要な家はもうありません" in text_of(bot.last(leader))

    # A forged visit on 2班's household from 1班's leader changes nothing.
    with Session(engine) as db:
        other = db.exec(
            select(SafetyHousehold).where(SafetyHousehold.household_id == town.households["2-4"])
        ).one()
    bot.press(leader, SafetyVisit(check_id, int(other.id or 0), "safe").encode())
    assert "開けません" in text_of(bot.last(leader))
    assert _states(engine, check_id) == {"none": 4, "safe": 3, "help": 1, "away": 2}

    # 2班 stays unanswered: after twice the time, the officer is told which 班, once.
    assert _escalate(bot, engine, T0 + timedelta(minutes=61)) == 1
    assert _escalate(bot, engine, T0 + timedelta(minutes=62)) == 0
    bot.deliver(T0 + timedelta(minutes=61))
    officer_texts = [t for t in bot.texts_to(uid("r23")) if "まだ答えがない家がある班" in t]
    assert len(officer_texts) == 1 and "2班 4軒" in officer_texts[0]
    assert _escalate(bot, engine, T0 + timedelta(minutes=91)) == 1  # marked for the ward
    with Session(engine) as db:
        assert db.get(SafetyCheck, check_id).ward_told_at is not None  # type: ignore[union-attr]

    # The printout says what the counts say.
    with Session(engine) as db:
        check = db.get(SafetyCheck, check_id)
        assert check is not None
        t = translators(REPO_ROOT / "content")["ja"]
        pdf = views.visit_pdf(db, check, {town.association}, t, "2026-11-30 10:31")
        counted = views.scoped_counts(db, check, {town.association})
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "未回答 4" in text and "無事 3" in text and "助けが必要 1" in text
    assert "本町2-5" in text and "父が足をけがしています" in text
    assert counted.visited == 4 and counted.states["none"] == 4
