"""Notices through the outbox, the real sender and the LINE stand-in: reach, once, cost, stamps."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from bot.clock import FixedClock
from bot.core.audience import Audience
from bot.db import session_scope
from bot.features.notices import coverage as notice_coverage
from bot.features.notices import messages as notice_messages
from bot.features.notices import notices
from bot.features.notices.jobs import scheduled_notices
from tests.builders import T0, add_member, add_members_bulk, add_resident, make_area, uid
from tests.delivery_support import message_calls
from tests.factories import postback_event
from tests.features.events.support import job_deps, notifier_of
from tests.harness import clocked_bot, deliver, postback_data


def _notice(engine: Any, audience: Audience, **fields: Any) -> int:
    with session_scope(engine) as session:
        notice = notices.create_notice(
            session,
            title="ごみ集積所の清掃",
            body="日曜 9 時に集まってください。",
            audience=audience,
            now=T0,
            translations={
                "en": {"title": "Cleaning the waste point", "body": "Please gather on Sunday at 9."}
            },
            **fields,
        )
        return int(notice.id or 0)


def _send(engine: Any, bot: Any, notice_id: int) -> notices.SendResult:
    with session_scope(engine) as session:
        return notice_messages.send_notice(
            notifier_of(bot), session, T0, notice_id, bot.app.state.settings.public_base_url
        )


def test_notice_to_an_association_reaches_exactly_its_members_once_even_sent_twice(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc_a, assoc_b) = make_area(engine)
    for name in ("ichiro", "jiro"):
        add_member(engine, assoc_a, name)
    add_member(engine, assoc_a, "emma", locale="en")
    add_member(engine, assoc_a, "pending", status="pending")
    add_member(engine, assoc_b, "other")
    add_resident(engine, "subscriber")
    bot = clocked_bot(bot_factory, FixedClock(T0))
    notice_id = _notice(engine, Audience("association", (assoc_a,)))

    with Session(engine) as session:
        cost = notices.preview(session, audience=Audience("association", (assoc_a,)))
    first, second = _send(engine, bot, notice_id), _send(engine, bot, notice_id)
    deliver(engine, standin, bot.app.state.settings, T0)
    deliver(engine, standin, bot.app.state.settings, T0)

    got = Counter(
        d.user_id
        for d in standin.deliveries
        if "清掃" in str(d.message) or "waste point" in str(d.message)
    )
    assert got == Counter({uid("ichiro"): 1, uid("jiro"): 1, uid("emma"): 1})
    assert cost.recipients == first.recipients == 3 == sum(got.values())
    assert (first.sent, second.sent) == (True, False)
    assert cost.by_locale == {"ja": 2, "en": 1}
    assert any("Cleaning the waste point" in t for t in bot.texts_to(uid("emma")))


def test_push_count_for_1201_recipients_is_three_multicasts(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    add_members_bulk(engine, assoc, 1201, "m")
    bot = clocked_bot(bot_factory, FixedClock(T0))
    notice_id = _notice(engine, Audience("association", (assoc,)))
    with Session(engine) as session:
        cost = notices.preview_notice(session, notice_id=notice_id)
    assert (cost.recipients, cost.multicast_calls, cost.api_calls) == (1201, 3, 3)
    _send(engine, bot, notice_id)
    deliver(engine, standin, bot.app.state.settings, T0)
    calls = message_calls(standin)
    assert [c.path.rsplit("/", 1)[-1] for c in calls] == ["multicast"] * 3
    assert sorted(len(c.json["to"]) for c in calls) == [201, 500, 500]
    assert len({d.user_id for d in standin.deliveries}) == 1201


def test_acknowledgement_and_read_coverage_count_line_and_paper(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    for name in ("sato", "suzuki", "tanaka"):
        add_member(engine, assoc, name)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    notice_id = _notice(
        engine,
        Audience("association", (assoc,)),
        ack_requested=True,
        association_id=assoc,
        image_url="https://example.org/map.png",
    )
    _send(engine, bot, notice_id)
    deliver(engine, standin, bot.app.state.settings, T0)

    ack_data = postback_data("ack", n=notice_id)
    bubbles = [m for m in standin.messages_to(uid("sato")) if m["type"] == "flex"]
    assert len(bubbles) == 2 and ack_data in str(bubbles[-1])  # image, then 確認しました
    assert "https://example.org/map.png" in str(bubbles[0])
    bot.post(postback_event(uid("sato"), ack_data))
    bot.drain()
    bot.post(postback_event(uid("sato"), postback_data("ack", n=notice_id)))
    bot.drain()
    texts = bot.texts_to(uid("sato"))
    assert "確認ありがとうございます。" in texts and "確認済みです。ありがとうございます。" in texts

    with session_scope(engine) as session:
        assert notices.ack_count(session, notice_id=notice_id) == (1, 3)
        assert notices.tick_paper_delivery(
            session, notice_id=notice_id, association_id=assoc, household="3-2", now=T0
        )
        assert not notices.tick_paper_delivery(
            session, notice_id=notice_id, association_id=assoc, household="3-2", now=T0
        )
        notices.tick_paper_delivery(
            session, notice_id=notice_id, association_id=assoc, household="3-5", now=T0
        )
        notice_coverage.set_han_households(session, association_id=assoc, han="", households=10)
    with Session(engine) as session:
        rows = notice_coverage.read_coverage(session, notice_id=notice_id)
    total = rows[0]
    assert (total.association_id, total.han) == (assoc, None)
    assert (total.households, total.line_households, total.line_reached, total.paper) == (
        10,
        3,
        1,
        2,
    )
    assert total.rate == 0.3


def test_scheduled_notice_goes_once_when_due(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "kimura")
    bot = clocked_bot(bot_factory, FixedClock(T0))
    notice_id = _notice(engine, Audience("association", (assoc,)))
    deps = job_deps(bot)
    with session_scope(engine) as session:
        notices.schedule_notice(session, notice_id=notice_id, at=T0 + timedelta(hours=1), now=T0)
    with session_scope(engine) as session:
        assert scheduled_notices(now=T0, session=session, deps=deps) == 0
    later = T0 + timedelta(hours=1)
    with session_scope(engine) as session:
        assert scheduled_notices(now=later, session=session, deps=deps) == 1
    with session_scope(engine) as session:
        assert scheduled_notices(now=later, session=session, deps=deps) == 0
        assert not notices.cancel_notice(session, notice_id=notice_id)


def test_print_page_is_large_print_escaped_and_needs_the_signed_link(
    bot_factory: Any, engine: Any
) -> None:
    from bot.features.notices.public_routes import print_url

    (assoc, _) = make_area(engine)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    with session_scope(engine) as session:
        notice = notices.create_notice(
            session,
            title="<b>夏祭り</b>",
            body="持ち物：うちわ",
            audience=Audience("association", (assoc,)),
            now=T0,
            association_id=assoc,
        )
        notice_id = int(notice.id or 0)
    url = print_url(bot.app.state.settings, notice_id)
    page = bot.http.get(url.removeprefix(bot.app.state.settings.public_base_url))
    assert page.status_code == 200
    assert "&lt;b&gt;夏祭り&lt;/b&gt;" in page.text and "<b>夏祭り" not in page.text
    assert "size: A4" in page.text and "確認印" in page.text
    assert bot.http.get(f"/notices/{notice_id}/print?t=forged").status_code == 404
