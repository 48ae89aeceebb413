"""An officer enters a household without LINE for 見守り in the staff web, with its consent;
the neighbour named as its 見守り person accepts in LINE, gets the weekly check-in to look in,
and when nobody taps, is reminded once, then the officers are told once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.core.models.membership import Membership
from bot.core.models.staff import AuditLog, StaffAccount, StaffRole, StaffScope
from bot.db import session_scope
from bot.features.mimamori import jobs
from bot.features.mimamori.models import MimamoriWatch
from tests.builders import T0, uid
from tests.features.events.support import notifier_of
from tests.features.safety.support import two_han_town
from tests.harness import text_of
from tests.staff.conftest import _password_hash, csrf_of, log_in

WED = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # Wednesday 10:00 in Tokyo
NEIGHBOUR, OFFICER = uid("r12"), uid("r23")


def _run(bot: Any, engine: Any, at: datetime) -> int:
    deps = JobDeps(settings=bot.app.state.settings, notifier=notifier_of(bot))
    with session_scope(engine) as db:
        sent = jobs.run(now=at, session=db, deps=deps)
    bot.deliver(at)
    return sent


def test_officer_enters_a_paper_household_and_its_neighbour_watches(
    bot_factory: Any, engine: Any
) -> None:
    town = two_han_town(engine)
    with session_scope(engine) as db:
        account = StaffAccount(login="officer_town", display_name="役員",
                               role=StaffRole.ASSOCIATION_OFFICER.value,
                               password_hash=_password_hash())  # fmt: skip
        db.add(account)
        db.flush()
        db.add(StaffScope(account_id=account.id, association_id=town.association))
        neighbour = db.exec(
            select(Membership.id).where(Membership.resident_id == town.residents["r12"])
        ).one()
    clock = FixedClock(T0)
    bot = bot_factory(Overrides(clock=clock), staff_session_secret="paper-test")
    staff = httpx.Client(base_url=bot.url, follow_redirects=False)
    log_in(staff, "officer_town")  # type: ignore[arg-type]
    page = staff.get("/staff/mimamori").text
    assert "本町1-4 住民14" in page and "本町1-1 住民11" not in page  # households without LINE
    form = {
        "household_id": str(town.households["1-4"]),
        "watcher_membership_id": str(neighbour),
        "watcher_kind": "neighbour",
        "weekday": "2",
        "minute_of_day": "600",
    }
    token = csrf_of(staff, "/staff/mimamori")  # type: ignore[arg-type]
    refused = staff.post("/staff/mimamori", data={**form, "csrf_token": token})
    assert refused.headers["location"] == "/staff/mimamori?error=consent"
    with Session(engine) as db:
        assert db.exec(select(MimamoriWatch)).all() == []
    entered = staff.post("/staff/mimamori", data={**form, "csrf_token": token, "consent": "true"})
    assert entered.headers["location"] == "/staff/mimamori?done=entered"
    with Session(engine) as db:
        watch = db.exec(select(MimamoriWatch)).one()
        assert (watch.household_id, watch.resident_id) == (town.households["1-4"], None)
        assert watch.consent_version == "2026-12-06" and watch.entered_by_staff_id is not None
        assert "mimamori_entered" in db.exec(select(AuditLog.action)).all()

    bot.deliver()
    assert "本町1-4 住民14さんが、週1回（水曜日 10:00）" in text_of(bot.last(NEIGHBOUR))
    bot.tap(NEIGHBOUR, "引き受ける")
    assert "見守り中" in staff.get("/staff/mimamori").text

    assert _run(bot, engine, WED + timedelta(minutes=1)) == 1
    assert "今週の本町1-4 住民14さんの様子を確かめたら" in text_of(bot.last(NEIGHBOUR))
    assert _run(bot, engine, WED + timedelta(hours=6, minutes=1)) == 1
    assert _run(bot, engine, WED + timedelta(hours=7)) == 0
    assert _run(bot, engine, WED + timedelta(hours=12, minutes=1)) == 1
    assert _run(bot, engine, WED + timedelta(hours=13)) == 0
    assert sum("【見守り】本町1-4 住民14さんから" in t for t in bot.texts_to(NEIGHBOUR)) == 1
    assert sum("【見守り】本町1-4 住民14さんから" in t for t in bot.texts_to(OFFICER)) == 1

    # The next week the neighbour looks in and taps: nobody else is told.
    week2 = WED + timedelta(days=7)
    assert _run(bot, engine, week2 + timedelta(minutes=1)) == 1
    bot.tap(NEIGHBOUR, "様子を確かめました")
    assert "記録しました" in text_of(bot.last(NEIGHBOUR))
    assert _run(bot, engine, week2 + timedelta(hours=13)) == 0

    # The household goes travelling and tells the officer: paused, so week 3 sends nothing;
    # resumed, week 4 comes; then it withdraws its consent and the officer ends the watch.
    watch_id = watch.id
    clock.set(week2 + timedelta(days=1))
    token = csrf_of(staff, "/staff/mimamori")  # type: ignore[arg-type]
    paused = staff.post(
        f"/staff/mimamori/{watch_id}/pause", data={"csrf_token": token, "days": "7"}
    )
    assert paused.headers["location"] == "/staff/mimamori?done=paused"
    shown = staff.get("/staff/mimamori?done=paused").text
    assert "休止しました" in shown and "休止中" in shown
    assert _run(bot, engine, WED + timedelta(days=14, minutes=1)) == 0
    token = csrf_of(staff, "/staff/mimamori")  # type: ignore[arg-type]
    staff.post(f"/staff/mimamori/{watch_id}/pause", data={"csrf_token": token, "days": "0"})
    assert _run(bot, engine, WED + timedelta(days=21, minutes=1)) == 1
    token = csrf_of(staff, "/staff/mimamori")  # type: ignore[arg-type]
    stopped = staff.post(f"/staff/mimamori/{watch_id}/stop", data={"csrf_token": token})
    assert stopped.headers["location"] == "/staff/mimamori?done=stopped"
    assert "本町1-4 住民14" not in staff.get("/staff/mimamori").text.split("<form")[0]
    # Week 4's check-in went unanswered, but the watch ended: nobody is told, and week 5
    # sends nothing.
    assert _run(bot, engine, WED + timedelta(days=21, hours=13)) == 0
    assert _run(bot, engine, WED + timedelta(days=28, minutes=1)) == 0
    with Session(engine) as db:
        assert db.get(MimamoriWatch, watch_id).ended_at is not None  # type: ignore[union-attr]
        actions = db.exec(select(AuditLog.action).where(AuditLog.target_type == "mimamori"))
        assert {"mimamori_paused", "mimamori_resumed", "mimamori_stopped"} <= set(actions.all())

    # A watch that is not one of the officer's associations' changes nothing.
    assert (
        staff.post("/staff/mimamori/999/stop", data={"csrf_token": token}).headers["location"]
        == "/staff/mimamori?error=choice"
    )
    staff.close()
