"""Safety answers in a surge go through the batch path (batch_answer_flow.py) with the rules of the
one-by-one path: each household counted once, the last answer counts, a replayed webhook
changes nothing, and what the batch cannot record (forged, closed, no household) gets the
standard answer and changes nothing."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.conversation import batch
from bot.db import session_scope
from bot.features.safety import checks
from bot.features.safety.answer_flow import SafetyAnswer, SafetyPeople
from bot.features.safety.models import SafetyHousehold
from bot.platform import inbox
from bot.platform.inbox_models import WebhookEvent
from tests.builders import T0, add_member, uid
from tests.factories import body, postback_event, signed_headers
from tests.features.safety.support import Town, two_han_town
from tests.harness import SECRET, text_of

CLOSED = "この安否確認はもう受け付けていません。"
STALE = "そのボタンは以前のご案内のものです。"


def _sent_check(engine: Any, town: Town) -> int:
    with session_scope(engine) as db:
        check = checks.draft(db, area_kind="association", area_id=town.association,
                             template="earthquake", visit_after=30, now=T0)  # fmt: skip
        checks.send(db, check_id=int(check.id or 0), now=T0)
        return int(check.id or 0)


def _rows(engine: Any, check_id: int) -> dict[int, tuple[str, int | None]]:
    """household id -> (state, answered by)."""
    with Session(engine) as db:
        rows = db.exec(select(SafetyHousehold).where(SafetyHousehold.check_id == check_id)).all()
        return {int(r.household_id or 0): (r.state, r.answered_by) for r in rows}


def _post_together(bot: Any, taps: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    """One webhook carrying every tap (as LINE batches events), so they are handled as one
    batch; returns the signed request, to replay it."""
    events = []
    for user, data in taps:
        event = postback_event(user, data)
        event["replyToken"] = bot.standin.issue_reply_token(user)
        events.append(event)
    raw = body(*events)
    headers = signed_headers(raw, SECRET)
    assert bot.post_raw(raw, headers).status_code == 200
    bot.drain()
    return raw, headers


def _texts(bot: Any, user: str) -> list[str]:
    return [text_of(m) for m in bot.standin.messages_to(user)]


def test_a_batch_of_answers_counts_each_household_once(bot_factory: Any, engine: Any) -> None:
    town = two_han_town(engine)
    bot = bot_factory()
    check_id = _sent_check(engine, town)
    taps = [
        (uid("r11"), SafetyAnswer(check_id, "safe").encode()),
        (uid("r12"), SafetyAnswer(check_id, "help").encode()),
        (uid("r13"), SafetyAnswer(check_id, "away").encode()),
        (uid("r21"), SafetyAnswer(check_id, "safe").encode()),
        # household 1-1's second member, later in the same webhook: the later answer counts
        (uid("r11b"), SafetyAnswer(check_id, "help").encode()),
    ]
    raw, headers = _post_together(bot, taps)

    assert bot.app.state.processor.batcher.handled == 5  # all five through the batch path
    rows = _rows(engine, check_id)
    h, r = town.households, town.residents
    assert rows[h["1-1"]] == ("help", r["r11b"])
    assert rows[h["1-2"]] == ("help", r["r12"])
    assert rows[h["1-3"]] == ("away", r["r13"])
    assert rows[h["2-1"]] == ("safe", r["r21"])
    with Session(engine) as db:
        counted = checks.counts(db, check_id)
    assert counted.households == 10
    assert counted.states == {"none": 6, "safe": 1, "help": 2, "away": 1}
    said = {"r11": "無事", "r12": "助けが必要", "r13": "不在", "r11b": "助けが必要"}
    for user, word in said.items():
        replies = _texts(bot, uid(user))
        assert len(replies) == 1 and f"「{word}" in replies[0], (user, replies)
    with Session(engine) as db:  # each event finished once, its payload forgotten
        events = db.exec(select(WebhookEvent)).all()
        assert {(e.status, e.attempts, e.payload) for e in events} == {("done", 1, None)}

    # LINE redelivers the same webhook: the inbox knows its events; nothing changes.
    assert bot.post_raw(raw, headers).status_code == 200
    bot.drain()
    assert _rows(engine, check_id) == rows
    assert len(_texts(bot, uid("r11"))) == 1
    with Session(engine) as db:
        assert len(db.exec(select(WebhookEvent)).all()) == 5


def _statuses(engine: Any) -> dict[str, str]:
    """webhook event id -> status."""
    with Session(engine) as db:
        return {e.webhook_event_id: e.status for e in db.exec(select(WebhookEvent)).all()}


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_sent_replies_are_marked_in_the_next_batch_and_at_the_latest_on_shutdown(
    bot_factory: Any, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "MARK_SENT_AFTER_S", 3600.0)  # only the next batch marks them
    town = two_han_town(engine)
    bot = bot_factory()
    check_id = _sent_check(engine, town)

    def tap(user: str) -> str:
        event = postback_event(uid(user), SafetyAnswer(check_id, "safe").encode())
        event["replyToken"] = bot.standin.issue_reply_token(uid(user))
        raw = body(event)
        assert bot.post_raw(raw, signed_headers(raw, SECRET)).status_code == 200
        _until(lambda: len(_texts(bot, uid(user))) == 1, f"{user} is answered")
        return str(event["webhookEventId"])

    first = tap("r11")
    time.sleep(0.2)  # the reply is in; nothing else happens until the next batch
    assert _statuses(engine) == {first: "replying"}  # kept until marked sent
    second = tap("r21")
    assert _statuses(engine)[first] == "done"  # marked in the second batch's transaction
    bot.drain()  # as on shutdown: what is left is marked on its own
    assert _statuses(engine) == {first: "done", second: "done"}
    assert bot.app.state.processor.batcher.handled == 2


def test_a_slow_batch_reply_still_comes_before_the_reply_to_the_next_tap(
    bot_factory: Any, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """無事 goes the batch way, the count of people that follows it the general way: however
    long LINE takes with the first reply, the resident reads the two in the order tapped."""
    slow_send = batch.Batcher._send_after

    async def slower(self: Any, before: Any, reply: Any) -> None:
        await asyncio.sleep(0.5)  # LINE slow with the batch's reply
        await slow_send(self, before, reply)

    monkeypatch.setattr(batch.Batcher, "_send_after", slower)
    town = two_han_town(engine)
    bot = bot_factory()
    check_id = _sent_check(engine, town)
    _post_together(
        bot,
        [
            (uid("r11"), SafetyAnswer(check_id, "safe").encode()),
            (uid("r11"), SafetyPeople(check_id, 2).encode()),
        ],
    )
    assert bot.app.state.processor.batcher.handled == 1  # the answer; the people count not
    replies = _texts(bot, uid("r11"))
    assert len(replies) == 2, replies
    assert "「無事」と記録しました" in replies[0] and "2人と記録しました" in replies[1], replies


def test_an_answer_can_be_changed_by_anyone_of_the_household(bot_factory: Any, engine: Any) -> None:
    town = two_han_town(engine)
    bot = bot_factory()
    check_id = _sent_check(engine, town)
    h, r = town.households, town.residents
    _post_together(bot, [(uid("r11"), SafetyAnswer(check_id, "safe").encode())])
    assert _rows(engine, check_id)[h["1-1"]] == ("safe", r["r11"])
    _post_together(bot, [(uid("r11b"), SafetyAnswer(check_id, "help").encode())])
    _post_together(bot, [(uid("r11"), SafetyAnswer(check_id, "away").encode())])
    assert _rows(engine, check_id)[h["1-1"]] == ("away", r["r11"])
    assert bot.app.state.processor.batcher.handled == 3
    with Session(engine) as db:
        assert checks.counts(db, check_id).states == {"none": 9, "safe": 0, "help": 0, "away": 1}


def test_what_the_batch_cannot_record_changes_nothing(bot_factory: Any, engine: Any) -> None:
    town = two_han_town(engine)
    bot = bot_factory()
    check_id = _sent_check(engine, town)
    with session_scope(engine) as db:  # a second check, sent and then closed
        other = checks.draft(db, area_kind="association", area_id=town.association,
                             template="earthquake", visit_after=30, now=T0)  # fmt: skip
        closed_id = int(other.id or 0)
        checks.send(db, check_id=closed_id, now=T0)
        assert checks.close(db, check_id=closed_id, now=T0)
    add_member(engine, town.other, "elsewhere")  # a member of another association
    before = {c: _rows(engine, c) for c in (check_id, closed_id)}
    _post_together(
        bot,
        [
            (uid("r11"), SafetyAnswer(999_999, "safe").encode()),  # no such check
            (uid("r12"), f"a=sfa&c={check_id}&s=lost"),  # not an answer of ours
            (uid("r13"), SafetyAnswer(closed_id, "safe").encode()),  # closed
            (uid("elsewhere"), SafetyAnswer(check_id, "safe").encode()),  # not in the check
            (uid("stranger"), SafetyAnswer(check_id, "help").encode()),  # never talked to us
            (uid("r21"), SafetyAnswer(check_id, "safe").encode()),  # the one that counts
        ],
    )
    after = {c: _rows(engine, c) for c in (check_id, closed_id)}
    assert after[closed_id] == before[closed_id]
    changed = {h for h, row in after[check_id].items() if row != before[check_id][h]}
    assert changed == {town.households["2-1"]}
    assert bot.app.state.processor.batcher.handled == 1
    for user in ("r11", "r13", "elsewhere", "stranger"):
        replies = _texts(bot, uid(user))
        assert len(replies) == 1 and replies[0].startswith(CLOSED), (user, replies)
    assert _texts(bot, uid("r12"))[0].startswith(STALE)
    assert "「無事」と記録しました" in _texts(bot, uid("r21"))[0]


def test_a_reply_committed_but_not_sent_goes_out_once_after_a_restart(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    """A worker killed between a batch's commit and its replies: the next start sends each
    kept reply once, by its token, and forgets it."""
    user = uid("r11")
    event = postback_event(user, "a=sfa&c=1&s=safe")
    event["replyToken"] = standin.issue_reply_token(user)
    handled_at = datetime.now(UTC) - timedelta(hours=1)  # long before: its process is gone
    (seq, _key), *_ = inbox.store_events(engine, [event], handled_at)
    reply = [{"type": "text", "text": "「無事」と記録しました。"}]
    with session_scope(engine) as db:
        inbox.finish_replying(db, [(seq, event["replyToken"], reply)], handled_at)

    bot = bot_factory()  # starting up, it finds the reply its predecessor never sent
    bot.drain()
    assert _texts(bot, user) == ["「無事」と記録しました。"]
    with Session(engine) as db:
        row = db.get(WebhookEvent, seq)
        assert row is not None and (row.status, row.payload) == ("done", None)
    bot_factory()  # and the next start has nothing left to send
    assert _texts(bot, user) == ["「無事」と記録しました。"]
