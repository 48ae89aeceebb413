"""Cancelling an event withdraws its queued, unsent pushes: reminders and change notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.clock import FixedClock
from bot.db import session_scope
from bot.features.events import jobs as event_jobs
from bot.platform.delivery import outbox
from bot.platform.delivery.models import OutboxMessage
from tests.builders import T0, add_member, make_area, uid
from tests.factories import postback_event
from tests.features.events.support import cancel_event, edit_event, make_event, notifier_of
from tests.harness import clocked_bot, deliver, postback_data
from tests.scheduler_support import deps_for

# The event starts 2 December 10:00 Tokyo; its day-before reminder is due 1 December 18:00.
DAY_BEFORE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _messages(engine: Any) -> dict[str, OutboxMessage]:
    with session_scope(engine) as session:
        return {m.key: m for m in session.exec(select(OutboxMessage)).all()}


def test_cancelling_an_event_withdraws_its_queued_reminder_and_change_notice(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    for name in ("aoi", "ren"):
        add_member(engine, assoc, name)
    event_id = make_event(engine)
    other_id = make_event(engine, title="別の行事")
    bot = clocked_bot(bot_factory, FixedClock(T0))
    for name in ("aoi", "ren"):
        for target in (event_id, other_id):
            bot.post(postback_event(uid(name), postback_data("rsvp", e=target, v="going")))
    bot.drain()
    settings, notifier = bot.app.state.settings, notifier_of(bot)
    deliver(engine, standin, settings, T0)  # the RSVP replies are replies; nothing queued
    before = {name: len(standin.messages_to(uid(name))) for name in ("aoi", "ren")}

    with session_scope(engine) as session:  # both reminders queued, not yet sent
        assert (
            event_jobs.event_reminders(now=DAY_BEFORE, session=session, deps=deps_for(settings))
            == 4
        )
        edit_event(
            session,
            notifier,
            event_id=event_id,
            now=DAY_BEFORE,
            changes={"place": "第二公民館"},
        )
    queued = _messages(engine)
    reminder_key = next(k for k in queued if k.startswith(f"event-reminder:{event_id}:"))
    assert queued[reminder_key].status == "queued"
    assert queued[f"event-changed:{event_id}:1:ja"].status == "queued"

    with session_scope(engine) as session:
        cancel_event(session, notifier, event_id=event_id, now=DAY_BEFORE)
    deliver(engine, standin, settings, DAY_BEFORE)

    for name in ("aoi", "ren"):
        got = [m.get("text", "") for m in standin.messages_to(uid(name))][before[name] :]
        assert len(got) == 2, got  # the cancellation, and the other event's reminder
        assert sum("中止のお知らせ" in t for t in got) == 1
        assert sum("リマインド" in t and "別の行事" in t for t in got) == 1
        assert not any(
            "変更のお知らせ" in t or "秋の防災訓練" in t and "リマインド" in t for t in got
        )
    after = _messages(engine)
    for key in (reminder_key, f"event-changed:{event_id}:1:ja"):
        assert after[key].status == "cancelled"
        with session_scope(engine) as session:
            status = outbox.delivery_status(session, after[key].id or 0)
        assert status is not None
        assert status.recipients["cancelled"] == 2 and status.recipients["sent"] == 0
    assert after[f"event-cancelled:{event_id}:ja"].status == "sent"
    other_reminder = next(k for k in after if k.startswith(f"event-reminder:{other_id}:"))
    assert after[other_reminder].status == "sent"

    with session_scope(engine) as session:  # cancelling again changes nothing
        assert (
            cancel_event(
                session, notifier, event_id=event_id, now=DAY_BEFORE + timedelta(minutes=1)
            )
            == 0
        )
    assert _messages(engine).keys() == after.keys()


def test_cancelling_an_event_withdraws_the_queued_notice_inviting_to_it(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    """Across features: events announce the cancellation (`hooks.emit_event_cancelled`) and
    notices withdraw their own queued pushes about it; an unrelated notice still goes."""
    from bot.core.audience import Audience
    from bot.features.notices import messages as notice_messages
    from bot.features.notices import notices

    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "aoi")
    event_id = make_event(engine)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    notifier, base = notifier_of(bot), bot.app.state.settings.public_base_url
    with session_scope(engine) as session:
        invitation = notice_messages.announce_event(session, event_id, notifier, T0, base)
        unrelated = notices.create_notice(
            session,
            title="ごみ集積所の清掃",
            body="日曜 9 時",
            audience=Audience("association", (assoc,)),
            now=T0,
        )
        notice_messages.send_notice(notifier, session, T0, int(unrelated.id or 0), base)
    assert invitation.sent and invitation.recipients == 1
    invitation_key = f"notice:{invitation.notice.id if invitation.notice else 0}:ja"
    assert _messages(engine)[invitation_key].status == "queued"

    with session_scope(engine) as session:
        cancel_event(session, notifier, event_id=event_id, now=T0)
    after = _messages(engine)
    assert after[invitation_key].status == "cancelled"
    assert after[f"notice:{unrelated.id}:ja"].status == "queued"
