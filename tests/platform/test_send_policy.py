"""The send policy: quiet hours defer and spread, urgent goes, budget and quota hold."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.platform.delivery import outbox, send_policy
from bot.platform.delivery.send_policy import (
    SEND_NOW,
    Budget,
    DeferUntil,
    Hold,
    Policy,
    Push,
    Quota,
    decide,
)
from bot.settings import SettingsError, load_settings
from tests.scheduler_support import add_residents, settings_for

TOKYO = ZoneInfo("Asia/Tokyo")
POLICY = Policy()


def tokyo(hour: int, minute: int = 0, day: int = 3) -> datetime:
    """A moment given in Tokyo time (December 2026), as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def push(key: str = "k", *, urgent: bool = False, recipients: int = 1) -> Push:
    return Push(urgent=urgent, spread_key=key, recipients=recipients)


@pytest.mark.parametrize("hour,minute", [(8, 0), (12, 0), (20, 59)])
def test_daytime_pushes_go_now(hour: int, minute: int) -> None:
    assert decide(push(), None, tokyo(hour, minute), TOKYO, None) == SEND_NOW


@pytest.mark.parametrize("hour,minute,day_after", [(21, 0, 1), (23, 30, 1), (0, 5, 0), (7, 59, 0)])
def test_quiet_hours_defer_to_the_next_0800_tokyo(hour: int, minute: int, day_after: int) -> None:
    decision = decide(push(), None, tokyo(hour, minute), TOKYO, None)
    assert isinstance(decision, DeferUntil)
    eight = tokyo(8, 0, day=3 + day_after)
    assert eight <= decision.at < eight + POLICY.spread


def test_deferred_pushes_are_spread_over_the_window_not_one_second() -> None:
    at_night = tokyo(23, 0)
    moments = []
    for n in range(200):
        decision = decide(push(f"survey-invite:1:ja:{n}"), None, at_night, TOKYO, None)
        assert isinstance(decision, DeferUntil)
        moments.append(decision.at)
    start = tokyo(8, 0, day=4)
    assert all(start <= m < start + timedelta(minutes=30) for m in moments)
    seconds = {m.replace(microsecond=0) for m in moments}
    assert len(seconds) > 150  # 200 pushes over 1,800 seconds: almost all in their own second
    spread = max(moments) - min(moments)
    assert spread > timedelta(minutes=25)


def test_the_same_push_is_deferred_to_the_same_moment_every_time() -> None:
    first = decide(push("notice:7"), None, tokyo(22, 0), TOKYO, None)
    later = decide(push("notice:7"), None, tokyo(3, 0, day=4), TOKYO, None)
    assert first == later


def test_urgent_pushes_ignore_quiet_hours_budget_and_quota() -> None:
    decision = decide(push(urgent=True), Budget(50, 3), tokyo(2, 0), TOKYO, Quota(1000, 999))
    assert decision == SEND_NOW


def test_spent_budget_holds_a_non_urgent_push() -> None:
    assert decide(push(), Budget(3, 3), tokyo(12), TOKYO, None) == Hold("budget")
    assert decide(push(), Budget(2, 3), tokyo(12), TOKYO, None) == SEND_NOW


def test_quota_past_the_hold_share_holds_and_says_when_to_look_again() -> None:
    now = tokyo(12)
    decision = decide(push(recipients=10), None, now, TOKYO, Quota(1000, 945))
    assert decision == Hold("quota", now + POLICY.quota_recheck)
    assert decide(push(recipients=10), None, now, TOKYO, Quota(1000, 900)) == SEND_NOW
    assert decide(push(recipients=10**6), None, now, TOKYO, Quota(None, 10**9)) == SEND_NOW


def test_a_hold_wins_over_a_quiet_hours_deferral() -> None:
    decision = decide(push(), Budget(9, 3), tokyo(23), TOKYO, None)
    assert isinstance(decision, Hold)


def test_quiet_hours_and_budget_come_from_settings() -> None:
    settings = settings_for(
        quiet_hours_start="22:30",
        quiet_hours_end="7:00",
        weekly_push_budget=5,
        quiet_spread_minutes=0,
    )
    policy = Policy.from_settings(settings)
    assert (policy.quiet_start, policy.quiet_end) == (time(22, 30), time(7, 0))
    assert decide(push(), None, tokyo(22, 0), TOKYO, None, policy) == SEND_NOW
    assert decide(push(), None, tokyo(6, 0), TOKYO, None, policy) == DeferUntil(tokyo(7, 0))
    with pytest.raises(SettingsError, match="TSUNAGARI_QUIET_HOURS_END"):
        load_settings(_env_file=None, quiet_hours_end="25:00")


def test_warning_share_is_80_percent_by_default() -> None:
    assert send_policy.quota_warns(Quota(1000, 800), POLICY)
    assert not send_policy.quota_warns(Quota(1000, 799), POLICY)
    assert not send_policy.quota_warns(Quota(None, 10**9), POLICY)


def test_pushes_this_week_count_non_urgent_pushes_of_the_last_seven_days(engine: Engine) -> None:
    alice, bob = add_residents(engine, 2)
    now = tokyo(12, day=10)
    text = [{"type": "text", "text": "お知らせ"}]
    with session_scope(engine) as session:
        for n, when in enumerate([now - timedelta(days=8), now - timedelta(days=6), now]):
            outbox.enqueue(
                session, key=f"n{n}", kind="notice", recipient_ids=[alice], messages=text, now=when
            )
        outbox.enqueue(
            session,
            key="disaster",
            kind="notice",
            recipient_ids=[alice, bob],
            messages=text,
            urgent=True,
            now=now,
        )
    with session_scope(engine) as session:
        assert send_policy.pushes_this_week(session, [alice, bob], now) == {alice: 2}
        policy = Policy(weekly_budget=2)
        assert send_policy.within_budget(session, [alice, bob], now, policy) == [bob]


def test_quota_reading_warns_staff_once_a_month(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = send_policy.record_quota(
            session, now=tokyo(9), tz=TOKYO, limit=1000, used=700, policy=POLICY
        )
        crossing = send_policy.record_quota(
            session, now=tokyo(10), tz=TOKYO, limit=1000, used=810, policy=POLICY
        )
        again = send_policy.record_quota(
            session, now=tokyo(11), tz=TOKYO, limit=1000, used=990, policy=POLICY
        )
    assert (first.warn, first.newly_warned) == (False, False)
    assert (crossing.warn, crossing.newly_warned, crossing.holding) == (True, True, False)
    assert (again.newly_warned, again.holding) == (False, True)
    with session_scope(engine) as session:
        shown = send_policy.quota_status(session, tokyo(12), TOKYO, POLICY)
        assert shown is not None and shown.holding and shown.used == 990
        assert send_policy.current_quota(session, tokyo(12), TOKYO) == Quota(1000, 990)
        # A new month starts without a reading (LINE resets the count).
        assert (
            send_policy.current_quota(session, tokyo(12, day=1) + timedelta(days=31), TOKYO) is None
        )


def test_the_sender_hook_reads_the_month_quota(engine: Engine) -> None:
    settings = settings_for()
    noon, night = tokyo(12), tokyo(23)
    with session_scope(engine) as session:

        def hook(now: datetime, urgent: bool = False) -> send_policy.Decision:
            return send_policy.decide_for_send(
                session,
                urgent=urgent,
                spread_key="batch-1",
                recipients=500,
                now=now,
                settings=settings,
            )

        assert hook(noon) == SEND_NOW
        assert isinstance(hook(night), DeferUntil)
        send_policy.record_quota(
            session, now=noon, tz=TOKYO, limit=10_000, used=9_400, policy=POLICY
        )
        assert hook(noon) == Hold("quota", noon + POLICY.quota_recheck)
        assert hook(night, urgent=True) == SEND_NOW
