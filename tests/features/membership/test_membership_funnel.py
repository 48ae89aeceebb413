"""The funnel (QR follows → consented → applied → approved) and pending applications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core import consent
from bot.core.models.membership import ContactMethod
from bot.core.models.residents import Resident
from bot.core.residents import get_or_create
from bot.db import session_scope
from bot.features.membership import counts as membership_counts
from bot.features.membership import funnel, join_codes
from bot.features.membership import memberships as membership
from bot.features.membership.models import JoinCode, JoinCodeKind
from tests.features.membership.join_support import association_id, counter_code, seed_city

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def _resident(session: Session, n: int) -> Resident:
    return get_or_create(session, f"U{n:032x}", T0, "ja")


def _journey(
    session: Session, who: Resident, code: str, at: datetime, *, stage: str, association: int
) -> None:
    """A resident who scanned `code` at `at` and got as far as `stage`."""
    row = join_codes.by_code(session, code)
    assert row is not None and who.id is not None
    join_codes.record_source(session, who, row, at)
    if stage == "scanned":
        return
    consent.record(session, who.id, agreed=stage != "declined", version="v", locale="ja", now=at)
    if stage in ("declined", "consented"):
        return
    form = membership.Application(
        association_id=association,
        full_name="名前",
        household_size=2,
        contact_method=ContactMethod.LINE,
    )
    applied = membership.apply(session, who, form, at + timedelta(minutes=5))
    if stage == "approved":
        membership.approve(session, applied.id or 0, at + timedelta(days=1), staff="t")


def test_funnel_per_source(engine: Engine) -> None:
    seed_city(engine)
    morioka_old = counter_code(engine, "counter-morioka", T0)
    morioka = counter_code(engine, "counter-morioka", T0)
    tonan = counter_code(engine, "counter-tonan", T0)
    a0302 = association_id(engine, "A0302")
    with session_scope(engine) as session:
        poster = join_codes.create(
            session,
            kind=JoinCodeKind.ASSOCIATION,
            now=T0,
            association_id=association_id(engine, "A0101"),
        ).code
        campaign = join_codes.create(
            session, kind=JoinCodeKind.CAMPAIGN, now=T0, label="さんさ踊り会場"
        ).code
        join_codes.retire(session, morioka_old, T0)
        r = [_resident(session, n) for n in range(7)]
        _journey(session, r[0], morioka, T0, stage="approved", association=a0302)
        _journey(session, r[1], morioka_old, T0, stage="applied", association=a0302)
        _journey(session, r[2], morioka, T0, stage="declined", association=a0302)
        _journey(
            session, r[3], morioka, T0 + timedelta(days=40), stage="consented", association=a0302
        )
        _journey(
            session, r[4], poster, T0, stage="approved", association=association_id(engine, "A0101")
        )
        membership.leave(session, r[4].id or 0, T0 + timedelta(days=2))
        _journey(session, r[5], campaign, T0, stage="scanned", association=a0302)
        _journey(session, r[6], tonan, T0, stage="applied", association=a0302)

    with session_scope(engine) as session:
        rows = {(row.kind, row.name): row for row in funnel.funnel(session)}
        stages = {
            key: (row.follows, row.consented, row.applied, row.approved)
            for key, row in rows.items()
        }
        recent = funnel.funnel(session, since=T0 + timedelta(days=30))
    assert stages[("counter", "市民課 転入窓口（サンプル）")] == (4, 3, 2, 1)  # both codes
    assert stages[("counter", "都南総合支所 転入窓口（サンプル）")] == (1, 1, 1, 0)
    assert stages[("association", "中央通町内会（サンプル）")] == (1, 1, 1, 1)  # left later
    assert stages[("campaign", "さんさ踊り会場")] == (1, 0, 0, 0)
    assert ("counter", "玉山総合事務所 転入窓口（サンプル）") not in stages  # no QR printed
    assert rows[("counter", "市民課 転入窓口（サンプル）")].rate("approved") == 0.25
    assert sorted(rows[("counter", "市民課 転入窓口（サンプル）")].codes) == sorted(
        [morioka, morioka_old]
    )
    assert [(r.name, r.follows) for r in recent if r.follows] == [
        ("市民課 転入窓口（サンプル）", 1)
    ]


def test_application_before_the_scan_is_not_credited_to_it(engine: Engine) -> None:
    seed_city(engine)
    code = counter_code(engine, "counter-morioka", T0)
    with session_scope(engine) as session:
        who = _resident(session, 1)
        form = membership.Application(
            association_id=association_id(engine, "A0302"),
            full_name="名前",
            household_size=1,
            contact_method=ContactMethod.VISIT,
        )
        membership.apply(session, who, form, T0)
        join_codes.record_source(
            session, who, join_codes.by_code(session, code) or JoinCode(), T0 + timedelta(days=1)
        )
        (row,) = [r for r in funnel.funnel(session) if r.follows]
    assert (row.follows, row.applied) == (1, 0)


def test_pending_applications_older_than(engine: Engine) -> None:
    seed_city(engine)
    a0302 = association_id(engine, "A0302")
    with session_scope(engine) as session:
        old, new, done = (_resident(session, n) for n in range(3))
        for who, at in ((old, T0), (new, T0 + timedelta(days=3)), (done, T0)):
            form = membership.Application(
                association_id=a0302,
                full_name="名前",
                household_size=1,
                contact_method=ContactMethod.LINE,
            )
            applied = membership.apply(session, who, form, at)
        decided = membership.approve(session, applied.id or 0, T0 + timedelta(hours=1), staff="t")
        again = membership.approve(session, applied.id or 0, T0 + timedelta(hours=2), staff="u")
        assert decided.changed and not again.changed
        assert again.membership.decided_by_staff == "t"
        waiting = membership.pending_applications_older_than(session, 2, T0 + timedelta(days=4))
        assert [m.resident_id for m in waiting] == [old.id]
        assert membership.pending_applications_older_than(session, 5, T0 + timedelta(days=4)) == []


def test_members_and_subscribers_are_counted_apart(engine: Engine) -> None:
    seed_city(engine)
    a0302 = association_id(engine, "A0302")
    with session_scope(engine) as session:
        member, applicant, _ = (_resident(session, n) for n in range(3))
        for who, size in ((member, 3), (applicant, 2)):
            form = membership.Application(
                association_id=a0302,
                full_name="名前",
                household_size=size,
                contact_method=ContactMethod.LINE,
            )
            row = membership.apply(session, who, form, T0)
        first = membership.pending_application(session, member.id or 0)
        assert first is not None and row.id != first.id
        membership.approve(session, first.id or 0, T0, staff="t")
        counts = membership_counts.member_counts(session)
        assert counts == {a0302: membership_counts.MemberCount(a0302, 1, 3)}
        assert membership_counts.subscriber_count(session) == 2  # the applicant and the other
