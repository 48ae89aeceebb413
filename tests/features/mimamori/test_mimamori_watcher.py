"""A resident whose 班 has no 班長 can still sign up: the officers are told in LINE and name
a 見守り person (a 民生委員 or a neighbour) in the staff web; that person accepts in LINE,
and only then do check-ins go out. A decline goes back to the officers, who name another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.core.models.han import HanLeader
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
RESIDENT, OFFICER = uid("r13"), uid("r23")


def _membership(engine: Any, resident: int) -> str:
    with Session(engine) as db:
        found = db.exec(select(Membership.id).where(Membership.resident_id == resident)).one()
        return str(found)


def _name(staff: httpx.Client, watch_id: int, membership: str, kind: str) -> str:
    token = csrf_of(staff, "/staff/mimamori")  # type: ignore[arg-type]
    response = staff.post(
        f"/staff/mimamori/{watch_id}/watcher",
        data={"csrf_token": token, "watcher_membership_id": membership, "watcher_kind": kind},
    )
    return str(response.headers["location"])


def test_officers_name_a_watcher_when_the_han_has_no_leader(bot_factory: Any, engine: Any) -> None:
    town = two_han_town(engine)
    with session_scope(engine) as db:
        leader = db.exec(select(HanLeader).where(HanLeader.han == "1班")).one()
        leader.revoked_at = T0  # 1班 has no 班長 this year
        db.add(leader)
        account = StaffAccount(login="officer_town", display_name="役員",
                               role=StaffRole.ASSOCIATION_OFFICER.value,
                               password_hash=_password_hash())  # fmt: skip
        db.add(account)
        db.flush()
        db.add(StaffScope(account_id=account.id, association_id=town.association))
    bot = bot_factory(Overrides(clock=FixedClock(T0)), staff_session_secret="watcher-test")
    bot.say(RESIDENT, "メニュー")
    bot.tap(RESIDENT, "わたしの町内会")
    bot.tap(RESIDENT, "見守り")
    for label in ("申し込む", "同意する", "水曜日", "10:00"):
        bot.tap(RESIDENT, label)
    assert "町内会の役員が見守りの人を探して" in text_of(bot.last(RESIDENT))
    bot.deliver()
    assert "本町1-3 住民13さんが見守りを申し込みましたが" in text_of(bot.last(OFFICER))
    with Session(engine) as db:
        watch = db.exec(select(MimamoriWatch)).one()
        watch_id = int(watch.id or 0)
        assert (watch.watcher_id, watch.watcher_accepted_at) == (None, None)

    staff = httpx.Client(base_url=bot.url, follow_redirects=False)
    log_in(staff, "officer_town")  # type: ignore[arg-type]
    page = staff.get("/staff/mimamori").text
    assert "引き受け待ち" in page and "未定" in page and 'data-form="mimamori-watcher"' in page
    # The resident cannot be their own 見守り person; someone of another association neither.
    assert _name(staff, watch_id, _membership(engine, town.residents["r13"]), "minsei") == (
        "/staff/mimamori?error=choice"
    )
    assert _name(staff, watch_id, _membership(engine, town.residents["r12"]), "minsei") == (
        "/staff/mimamori?done=named"
    )
    bot.deliver()
    assert "本町1-3 住民13さんが、週1回（水曜日 10:00）" in text_of(bot.last(uid("r12")))
    bot.tap(uid("r12"), "断る")
    bot.deliver()
    assert "役員に伝えました" in text_of(bot.last(RESIDENT))
    assert sum("見守りの人が決まっていません" in t for t in bot.texts_to(OFFICER)) == 2

    # The officer asks a neighbour instead, who accepts: the weekly check-in starts.
    assert _name(staff, watch_id, _membership(engine, town.residents["r11b"]), "neighbour") == (
        "/staff/mimamori?done=named"
    )
    bot.deliver()
    bot.tap(uid("r11b"), "引き受ける")
    bot.deliver()
    assert "引き受けてくれました" in text_of(bot.last(RESIDENT))
    assert "見守り中" in staff.get("/staff/mimamori").text
    assert _name(staff, watch_id, _membership(engine, town.residents["r12"]), "minsei") == (
        "/staff/mimamori?error=choice"
    )  # accepted: not replaced behind the person's back
    deps = JobDeps(settings=bot.app.state.settings, notifier=notifier_of(bot))
    with session_scope(engine) as db:
        assert jobs.run(now=WED + timedelta(minutes=1), session=db, deps=deps) == 1
    bot.deliver(WED + timedelta(minutes=1))
    assert "今週もお元気ですか" in text_of(bot.last(RESIDENT))
    with Session(engine) as db:
        watch = db.get(MimamoriWatch, watch_id)
        assert watch is not None
        assert (watch.watcher_id, watch.watcher_kind) == (town.residents["r11b"], "neighbour")
        named = db.exec(select(AuditLog).where(AuditLog.action == "mimamori_watcher_named"))
        assert len(named.all()) == 2
    staff.close()
