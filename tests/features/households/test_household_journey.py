"""The register's journey through LINE: 40 households in 4 班 imported, a notice goes out,
LINE households count as they acknowledge, each 班長 ticks the paper ones in LINE with one
tap each → 40/40; then a slip's QR joins a paper-only household, which then counts as LINE."""

from __future__ import annotations

import io
from typing import Any

import httpx
from pypdf import PdfReader
from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.core import han as hancho
from bot.core.audience import Audience
from bot.core.models.households import Household, Reach
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.staff import AuditLog
from bot.db import session_scope
from bot.features.households import progress, roster
from bot.features.households.hancho_flow import HanchoHouseholds
from bot.features.households.roster_file import read_grid
from bot.features.membership import memberships
from bot.features.notices import coverage as notice_coverage
from bot.features.notices import messages as notice_messages
from bot.features.notices import notices
from bot.features.notices.ack_flow import AckTap
from bot.features.notices.worklist_flow import WorkTick
from tests.builders import T0, add_member, make_area, uid
from tests.features.events.support import notifier_of
from tests.features.households.rosters import forty_households, xlsx_roster
from tests.harness import chips, clocked_bot, text_of

HANS = ("1班", "2班", "3班", "4班")


def postback_data_hh() -> str:
    """The 班長's 班の名簿 menu entry."""
    return HanchoHouseholds().encode()


def _import_forty(engine: Any, association_id: int) -> None:
    data = xlsx_roster(forty_households())
    with session_scope(engine) as db:
        grid = read_grid("名簿.xlsx", data, is_header=roster.is_header)
        mapping = roster.guess_mapping(grid.headers)
        found = roster.preview(db, association_id=association_id, grid=grid, mapping=mapping)
        roster.apply(db, association_id=association_id, found=found, headers=grid.headers, now=T0)


def _line_member(engine: Any, association_id: int, name: str, room: str) -> int:
    """A resident on LINE whose application names a roster address, approved by an officer."""
    resident_id = add_member(engine, association_id, name, status=MembershipStatus.PENDING)
    with session_scope(engine) as db:
        row = db.exec(select(Membership).where(Membership.resident_id == resident_id)).one()
        row.room, row.full_name, row.household_size = room, name, 2
        db.add(row)
        db.flush()
        memberships.approve(db, int(row.id or 0), T0, staff="officer")
    return resident_id


def _coverage(engine: Any, notice_id: int) -> dict[str | None, tuple[int, int]]:
    with Session(engine) as db:
        rows = notice_coverage.read_coverage(db, notice_id=notice_id)
    return {r.han: (r.covered, r.households) for r in rows}


def test_forty_households_reach_forty_of_forty_then_a_slip_joins_one(
    bot_factory: Any, engine: Any
) -> None:
    a, _ = make_area(engine)
    _import_forty(engine, a)
    # Households 1-5 of every 班 are on LINE (their applications name the roster's address);
    # the first of them leads the 班.
    for h, han in enumerate(HANS, start=1):
        for n in range(1, 6):
            resident = _line_member(engine, a, f"r{h}{n}", f"本町{h}-{n}")
            if n == 1:
                with session_scope(engine) as db:
                    membership_id = db.exec(
                        select(Membership.id).where(Membership.resident_id == resident)
                    ).one()
                    hancho.designate(db, association_id=a, membership_id=int(membership_id or 0),
                                     han=han, now=T0, staff="officer")  # fmt: skip
    with Session(engine) as db:
        linked = db.exec(select(Household).where(Household.reach == Reach.BOTH)).all()
        assert len(linked) == 20 and {h.han for h in linked} == set(HANS)
        assert len(db.exec(select(Household)).all()) == 40  # found by address, none added

    bot = clocked_bot(bot_factory, FixedClock(T0))
    with session_scope(engine) as db:
        notice = notices.create_notice(
            db, title="ごみ集積所の清掃", body="日曜9時に集まってください。",
            audience=Audience("association", (a,)), now=T0, association_id=a, ack_requested=True,
        )  # fmt: skip
        notice_id = int(notice.id or 0)
        notice_messages.send_notice(
            notifier_of(bot), db, T0, notice_id, bot.app.state.settings.public_base_url
        )
    bot.deliver()
    assert _coverage(engine, notice_id)[None] == (0, 40)

    # LINE households count as they acknowledge (確認しました).
    for h in range(1, 5):
        for n in range(1, 6):
            bot.press(uid(f"r{h}{n}"), AckTap(notice_id).encode())
    cover = _coverage(engine, notice_id)
    assert cover[None] == (20, 40) and all(cover[han] == (5, 10) for han in HANS)

    # Each 班長: 班の名簿 → お知らせの配布 → the notice → one tap per paper household.
    for h, han in enumerate(HANS, start=1):
        leader = uid(f"r{h}1")
        bot.say(leader, "メニュー")
        bot.tap(leader, "班の名簿")
        assert f"{han}：10世帯（LINE 5・LINEなし 5）" in text_of(bot.last(leader))
        bot.tap(leader, "お知らせの配布")
        bot.tap(leader, "ごみ集積所の清掃")
        assert "まだ届いていない家」は5軒" in text_of(bot.last(leader))
        listed = list(chips(bot.last(leader)))
        assert listed == [f"本町{h}-{n} 住民{h}{n:02d}" for n in (6, 7, 8, 9, 10)]
        for label in listed:
            bot.tap(leader, label)
        assert f"{han}の全部の家に届きました" in text_of(bot.last(leader))
        assert _coverage(engine, notice_id)[han] == (10, 10)
    assert _coverage(engine, notice_id)[None] == (40, 40)

    # Another 班's household cannot be ticked by a forged tap: nothing changes.
    with Session(engine) as db:
        other = db.exec(select(Household).where(Household.address == "本町2-6")).one()
    bot.press(uid("r11"), WorkTick(notice_id, int(other.id or 0)).encode())
    assert "もう記録できません" in text_of(bot.last(uid("r11")))

    # April: 1班's role passes to r12; the lists move with it, the old 班長 no longer sees them.
    with session_scope(engine) as db:
        old, new = (
            int(db.exec(select(Membership.id).where(Membership.resident_id == rid)).one() or 0)
            for rid in (
                db.exec(select(Membership.resident_id).where(Membership.household_id == hid)).one()
                for hid in (
                    db.exec(select(Household.id).where(Household.address == f"本町1-{n}")).one()
                    for n in (1, 2)
                )
            )
        )
        hancho.revoke(db, association_id=a, membership_id=old, now=T0)
        hancho.designate(db, association_id=a, membership_id=new, han="1班", now=T0)
    bot.press(uid("r11"), postback_data_hh())
    assert "班長の方のためのメニュー" in text_of(bot.last(uid("r11")))
    bot.press(uid("r12"), postback_data_hh())
    assert "1班：10世帯（LINE 5・LINEなし 5）" in text_of(bot.last(uid("r12")))

    # The 1班 leader's join list: the 5 paper households, and a link to their slips.
    leader = uid("r12")
    bot.say(leader, "メニュー")
    bot.tap(leader, "班の名簿")
    bot.tap(leader, "LINEに誘う")
    listing = bot.last(leader)
    assert "LINEに登録していない家：5軒" in text_of(listing)
    link = chips(listing)["案内票を印刷"]["uri"]
    path = link.split(bot.app.state.settings.public_base_url, 1)[1]
    pdf = httpx.get(bot.url + path, timeout=60)  # a loaded CI machine renders slowly
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 3 and "本町1-6" in text and "LINE" in text
    assert httpx.get(bot.url + path.replace("t=", "t=x"), timeout=60).status_code == 404

    # A slip's QR: the household's own code joins it, skipping the address steps.
    with Session(engine) as db:
        slip = db.exec(select(Household).where(Household.address == "本町1-6")).one()
        code = slip.join_code
    assert code
    newcomer = uid("newcomer")
    bot.say(newcomer, f"つながりで町内会に参加します #{code}")
    bot.tap(newcomer, "同意する")
    assert "テスト町内会0" in text_of(bot.last(newcomer))
    bot.tap(newcomer, "この町内会に申し込む")
    bot.say(newcomer, "住民 一郎")
    bot.tap(newcomer, "2人")
    bot.tap(newcomer, "LINE")  # no room asked: the slip gave it
    assert "本町1-6" in text_of(bot.last(newcomer))
    bot.tap(newcomer, "送信する")
    with session_scope(engine) as db:
        applied = db.exec(select(Membership).where(Membership.household_id == slip.id)).one()
        memberships.approve(db, int(applied.id or 0), T0, staff="officer")
    with Session(engine) as db:
        assert db.get(Household, slip.id).reach == Reach.BOTH  # type: ignore[union-attr]
        first = progress.by_han(db, association_id=a)[0]
        assert (first.han, first.line, first.paper_only) == ("1班", 6, 4)
        audited = db.exec(
            select(AuditLog.action).where(AuditLog.action.startswith("household"))  # type: ignore[attr-defined]
        ).all()
        assert {"household_worklist_viewed", "household_slips_printed"} <= set(audited)
        assert audited.count("household_worklist_viewed") == 5  # 4 notice lists, 1 join list
