"""見守り in LINE: opt in with its own consent, a weekly time, the 班長 as 見守り person (who
accepts; with no 班長, or when they decline, the officers name a 民生委員 or a neighbour in the
staff web), one tap each week, pause for travel, stop at any time.

  住民: [見守り] → bot: (consent text) [同意して申し込む] [やめておく]
  住民: [同意して申し込む] → 曜日 [月]…[日] → 時刻 [8:00]…[20:00] → 見守りの人 [班長（1班）]
  bot → 班長: 本町1-4 住民14さんが見守りを希望しています [引き受ける] [断る]
  each week  → 住民: 今週もお元気ですか？ [元気です]
  no answer  → 班長: …返事がありません [様子を確かめました]; then the officers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.conversation import postback
from bot.conversation.actions import Action, wire
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, Option, Say, Step
from bot.conversation.notifier import Notifier
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.core.models.han import HanAssignment, HanLeader
from bot.core.models.households import Household
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.features.mimamori import watches
from bot.features.mimamori.models import MimamoriWatch, WatcherKind
from bot.features.mimamori.watches import WatchError

ENROL = "mimamori_enrol"


@dataclass(frozen=True)
class MimamoriHome(Action, prefix="mh"):
    """The 見守り menu entry: opt in, or the watch's status with pause / resume / stop."""


@dataclass(frozen=True)
class MimamoriAccept(Action, prefix="ma"):
    """The named 見守り person accepts (or declines) the role."""

    watch_id: int = wire("w")
    yes: int = wire("y", minimum=0)  # 0: declines (a row id would start at 1)


@dataclass(frozen=True)
class MimamoriOk(Action, prefix="mo"):
    """元気です (the resident) or 様子を確かめました (their 見守り person)."""

    checkin_id: int = wire("c")


@dataclass(frozen=True)
class MimamoriPause(Action, prefix="mp"):
    """Pause for `days` ("pause"), "resume", or "stop" the watch."""

    op: str = wire("o", choices=("pause", "resume", "stop"))
    days: int = wire("d", minimum=0)


def register(registry: Registry) -> None:
    """Add the menu entry, the opt-in flow and the one-tap actions."""
    registry.add_flow(ENROL_FLOW)
    registry.on(MimamoriHome, on_home)
    registry.on(MimamoriAccept, on_accept)
    registry.on(MimamoriOk, on_ok)
    registry.on(MimamoriPause, on_pause)


def _membership(ctx: FlowContext) -> Membership | None:
    return ctx.session.exec(
        select(Membership).where(
            Membership.resident_id == ctx.resident.id,
            Membership.status == MembershipStatus.APPROVED,
        )
    ).first()


def _time(minute: int) -> str:
    return f"{minute // 60}:{minute % 60:02d}"


def on_home(ctx: FlowContext, tap: MimamoriHome) -> list[Say]:
    """Not enrolled: the consent and the button to start. Enrolled: status and choices."""
    if _membership(ctx) is None:
        return [with_menu(ctx, "mimamori.members_only")]
    watch = watches.active_of(ctx.session, int(ctx.resident.id or 0))
    if watch is None:
        start = Option("mimamori.start", postback.encode(a="start", f=ENROL))
        return [Say("mimamori.intro", options=(start,))]
    options = [
        Option("mimamori.pause", MimamoriPause("pause", d).encode(), label_params={"n": d})
        for d in watches.PAUSES
    ]
    key = "mimamori.status" if watch.watcher_accepted_at else "mimamori.status_waiting"
    until = (watch.paused_until or ctx.now).astimezone(ctx.settings.tz)
    if watch.paused_until and watch.paused_until > ctx.now:
        options = [Option("mimamori.resume", MimamoriPause("resume", 0).encode())]
        key = "mimamori.status_paused"
    options.append(Option("mimamori.stop", MimamoriPause("stop", 0).encode()))
    params = {
        "weekday": ctx.content.text(f"mimamori.weekdays.{watch.weekday}", ctx.locale),
        "time": _time(watch.minute_of_day),
        "month": until.month,
        "day": until.day,
    }
    return [Say(key, params, options=tuple(options))]


def _weekdays(data: Data, ctx: FlowContext) -> list[Option]:
    return [Option(f"mimamori.weekdays.{d}", str(d)) for d in range(7)]


def _times(data: Data, ctx: FlowContext) -> list[Option]:
    return [Option("mimamori.time", str(m), label_params={"time": _time(m)}) for m in watches.TIMES]


def _leader(ctx: FlowContext, membership: Membership) -> HanLeader | None:
    han = ctx.session.exec(
        select(HanAssignment.han).where(
            HanAssignment.association_id == membership.association_id,
            HanAssignment.resident_id == ctx.resident.id,
        )
    ).first()
    if not han:
        return None
    return ctx.session.exec(
        select(HanLeader).where(
            HanLeader.association_id == membership.association_id,
            HanLeader.han == han,
            HanLeader.resident_id != ctx.resident.id,
            HanLeader.revoked_at == None,  # noqa: E711 - SQL IS NULL
        )
    ).first()


def _watchers(data: Data, ctx: FlowContext) -> list[Option]:
    membership = _membership(ctx)
    leader = _leader(ctx, membership) if membership else None
    if leader is None:
        return []
    return [
        Option("mimamori.watcher_hancho", str(leader.resident_id), label_params={"han": leader.han})
    ]


def _enrolled(ctx: FlowContext, data: Data) -> list[Say]:
    membership = _membership(ctx)
    if membership is None or data.get("agree") != "yes":
        return [with_menu(ctx, "mimamori.not_enrolled")]
    leader = _leader(ctx, membership)
    if leader is not None and str(leader.resident_id) != str(data.get("watcher")):
        return [with_menu(ctx, "mimamori.no_watcher")]
    try:
        watch = watches.enrol(
            ctx.session,
            resident_id=int(ctx.resident.id or 0),
            association_id=membership.association_id,
            weekday=int(data["weekday"]),
            minute_of_day=int(data["time"]),
            watcher_id=leader.resident_id if leader else None,
            watcher_kind=WatcherKind.HANCHO,
            consent_version=watches.consent_text(ctx.content).version,
            now=ctx.now,
        )
    except (WatchError, ValueError, KeyError):
        return [with_menu(ctx, "mimamori.not_enrolled")]
    if leader is None:  # no 班長 to ask: the officers name a 見守り person
        tell_officers_to_name(ctx.session, ctx.notifier, ctx.now, watch, "enrolled")
        return [with_menu(ctx, "mimamori.enrolled_officers")]
    ask_watcher(ctx.session, ctx.notifier, ctx.now, watch)
    return [with_menu(ctx, "mimamori.enrolled", {"han": leader.han})]


def who(membership: Membership | None) -> str:
    """How the 見守り person and officers know the resident: name and room."""
    if membership is None:
        return ""
    return " ".join(p for p in (membership.town_label, membership.room, membership.full_name) if p)


def describe(session: Session, watch: MimamoriWatch) -> str:
    """Name and room of whoever the watch is for (a member, or a household without LINE)."""
    if watch.household_id is not None:
        household = session.get(Household, watch.household_id)
        parts = (household.address, household.contact_name) if household else ()
        return " ".join(p for p in parts if p)
    return who(
        session.exec(
            select(Membership).where(
                Membership.resident_id == watch.resident_id,
                Membership.association_id == watch.association_id,
            )
        ).first()
    )


def ask_watcher(session: Session, notifier: Notifier, now: datetime, watch: MimamoriWatch) -> None:
    """Ask the named person to take the role (引き受ける / 断る), in their language."""
    options = (
        Option("mimamori.accept", MimamoriAccept(int(watch.id or 0), 1).encode()),
        Option("mimamori.decline", MimamoriAccept(int(watch.id or 0), 0).encode()),
    )
    params = {"who": describe(session, watch), "time": _time(watch.minute_of_day)}
    notifier.push(
        session,
        now,
        key=f"mimamori:{watch.id}:ask:{watch.watcher_id}",
        kind="mimamori",
        resident_ids=[int(watch.watcher_id or 0)],
        says_for=lambda locale: [
            Say(
                "mimamori.ask_watcher",
                {
                    **params,
                    "weekday": notifier.content.text(f"mimamori.weekdays.{watch.weekday}", locale),
                },
                options=options,
            )
        ],
    )


def tell_officers_to_name(
    session: Session, notifier: Notifier, now: datetime, watch: MimamoriWatch, why: str
) -> None:
    """The association's officers: this watch needs a 見守り person (named in the staff web);
    `why` (enrolled, declined:<who>) keys the push so each occasion is told once."""
    officers = session.exec(
        select(Officer.resident_id).where(
            Officer.association_id == watch.association_id, col(Officer.revoked_at).is_(None)
        )
    ).all()
    who_ = describe(session, watch)
    notifier.push(
        session,
        now,
        key=f"mimamori:{watch.id}:needs_watcher:{why}",
        kind="mimamori",
        resident_ids=[int(r) for r in officers],
        says_for=lambda locale: [Say("mimamori.needs_watcher", {"who": who_})],
    )


def on_accept(ctx: FlowContext, tap: MimamoriAccept) -> list[Say]:
    """The 見守り person's answer; the resident is told."""
    try:
        change = watches.accept if tap.yes else watches.decline
        watch = change(
            ctx.session, watch_id=tap.watch_id, watcher_id=int(ctx.resident.id or 0), now=ctx.now
        )
    except WatchError:
        return [with_menu(ctx, "mimamori.gone")]
    told = "mimamori.watcher_accepted" if tap.yes else "mimamori.watcher_declined"
    if not tap.yes:  # the officers name another 見守り person
        tell_officers_to_name(
            ctx.session, ctx.notifier, ctx.now, watch, f"declined:{ctx.resident.id}"
        )
    ctx.notifier.push(
        ctx.session,
        ctx.now,
        key=f"mimamori:{watch.id}:{'accepted' if tap.yes else 'declined'}:{ctx.resident.id}",
        kind="mimamori",
        resident_ids=[watch.resident_id] if watch.resident_id else [],
        says_for=lambda locale: [Say(told)],
    )
    return [with_menu(ctx, "mimamori.thanks_accept" if tap.yes else "mimamori.thanks_decline")]


def on_ok(ctx: FlowContext, tap: MimamoriOk) -> list[Say]:
    """One tap answers the week's check-in (also from the 見守り person after a visit)."""
    try:
        row = watches.answer(
            ctx.session, checkin_id=tap.checkin_id, resident_id=int(ctx.resident.id or 0),
            now=ctx.now,
        )  # fmt: skip
    except WatchError:
        return [with_menu(ctx, "mimamori.gone")]
    return [Say("mimamori.seen" if row.answered_by_watcher else "mimamori.ok")]


def on_pause(ctx: FlowContext, tap: MimamoriPause) -> list[Say]:
    """Pause for travel, resume, or stop (revoke) the watch."""
    rid = int(ctx.resident.id or 0)
    try:
        if tap.op == "stop":
            watches.stop(ctx.session, resident_id=rid, now=ctx.now)
            return [with_menu(ctx, "mimamori.stopped")]
        if tap.op == "resume":
            watches.resume(ctx.session, resident_id=rid, now=ctx.now)
            return [with_menu(ctx, "mimamori.resumed")]
        watch = watches.pause(ctx.session, resident_id=rid, days=tap.days, now=ctx.now)
    except WatchError:
        return [with_menu(ctx, "mimamori.gone")]
    until = (watch.paused_until or ctx.now).astimezone(ctx.settings.tz)
    return [with_menu(ctx, "mimamori.paused", {"month": until.month, "day": until.day})]


def _consent_options(data: Data, ctx: FlowContext) -> list[Option]:
    return [Option("mimamori.agree", "yes"), Option("mimamori.disagree", "no")]


def _after_consent(answer: str, data: Data) -> str | None:
    return "weekday" if answer == "yes" else None


ENROL_FLOW = Flow(
    name=ENROL,
    steps=(
        Step(
            "agree",
            "mimamori.ask_consent",
            options=_consent_options,
            next=_after_consent,
            prompt_params=lambda data, ctx: {
                "consent": watches.consent_text(ctx.content).texts[ctx.locale]
            },
        ),
        Step("weekday", "mimamori.ask_weekday", options=_weekdays, next="time"),
        Step("time", "mimamori.ask_time", options=_times, next="watcher"),
        Step(
            "watcher",
            "mimamori.ask_watcher_choice",
            options=_watchers,
            skip_if=lambda data, ctx: not _watchers(data, ctx),
            next=None,
        ),  # fmt: skip
    ),
    on_complete=_enrolled,
    ttl=timedelta(minutes=30),
    branches={"agree": ("weekday",)},
)
