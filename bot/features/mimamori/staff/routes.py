"""見守り for officers: the association's weekly check-ins, and a household without LINE
entered with its consent (the officer confirms the household agreed to the 見守り consent
text shown on the page), with a member as its 見守り person, who accepts in LINE.

Names and rooms are the officers' (VIEW_MEMBERS); every view and entry is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.models.households import Household
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.scope import Permission, visible_associations
from bot.features.mimamori import watches
from bot.features.mimamori.checkin_flow import ask_watcher, describe
from bot.features.mimamori.models import MimamoriWatch, WatcherKind
from bot.features.mimamori.watches import WatchError
from bot.staff.deps import (
    ContentDep,
    Csrf,
    DbId,
    NotifierDep,
    NowDep,
    PageAccess,
    SessionDep,
    StaffUser,
)
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)
Officer = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS))]
ERRORS = ("consent", "choice")
DONE = ("entered", "named", "paused", "resumed", "stopped")


def _associations(db: Session, user: StaffUser) -> list[int]:
    return [int(a.id or 0) for a, _d, _w in visible_associations(db, user.scope)]


def _rows(db: Session, ids: list[int], now: Any) -> list[dict[str, Any]]:
    out = []
    for watch in db.exec(
        select(MimamoriWatch)
        .where(col(MimamoriWatch.association_id).in_(ids), col(MimamoriWatch.ended_at).is_(None))
        .order_by(col(MimamoriWatch.id))
    ).all():
        watcher = db.exec(
            select(Membership.full_name).where(Membership.resident_id == watch.watcher_id)
        ).first()
        state = (
            "waiting"
            if watch.watcher_accepted_at is None
            else "paused"
            if watch.paused_until and watch.paused_until > now
            else "active"
        )
        out.append(
            {
                "id": watch.id,
                "resident_id": watch.resident_id,
                "who": describe(db, watch),
                "paper": watch.household_id is not None,
                "weekday": watch.weekday,
                "time": f"{watch.minute_of_day // 60}:{watch.minute_of_day % 60:02d}",
                "watcher": watcher or "",
                "kind": watch.watcher_kind,
                "state": state,
                "until": watch.paused_until if state == "paused" else None,
            }
        )
    return out


@router.get("/mimamori", response_class=HTMLResponse)
def mimamori_page(
    request: Request,
    user: Officer,
    db: SessionDep,
    now: NowDep,
    content: ContentDep,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """The association's check-ins, and the form for a household without LINE."""
    ids = _associations(db, user)
    rows = _rows(db, ids, now)
    households = db.exec(
        select(Household)
        .where(col(Household.association_id).in_(ids), col(Household.reach).in_(["paper", "none"]))
        .order_by(col(Household.han), col(Household.key))
    ).all()
    members = db.exec(
        select(Membership)
        .where(
            col(Membership.association_id).in_(ids),
            Membership.status == MembershipStatus.APPROVED,
            col(Membership.full_name).is_not(None),
        )
        .order_by(col(Membership.full_name))
    ).all()
    audit.record(db, account_id=user.account.id, action="mimamori_viewed", now=now,
                 target_type="mimamori", target_id=None, rows=len(rows))  # fmt: skip
    consent = watches.consent_text(content)
    return page(
        request,
        user,
        "mimamori.html",
        rows=rows,
        households=households,
        members=members,
        kinds=list(WatcherKind),
        times=watches.TIMES,
        pauses=watches.PAUSES,
        consent=consent.texts.get(user.locale, consent.texts["ja"]),
        error=error if error in ERRORS else None,
        done=done if done in DONE else None,
    )


@router.post("/mimamori")
def mimamori_enter(
    user: Officer,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    content: ContentDep,
    notifier: NotifierDep,
    household_id: Annotated[int, Form()],
    watcher_membership_id: Annotated[int, Form()],
    watcher_kind: Annotated[str, Form(max_length=12)],
    weekday: Annotated[int, Form(ge=0, le=6)],
    minute_of_day: Annotated[int, Form()],
    consent: Annotated[bool, Form()] = False,
) -> Response:
    """Enter a household without LINE (its consent confirmed), then ask the 見守り person."""
    if not consent:
        return RedirectResponse("/staff/mimamori?error=consent", status_code=303)
    ids = _associations(db, user)
    household = db.get(Household, household_id)
    watcher = db.get(Membership, watcher_membership_id)
    if (
        household is None
        or watcher is None
        or household.association_id not in ids
        or watcher.association_id != household.association_id
        or watcher.status != MembershipStatus.APPROVED
        or watcher_kind not in list(WatcherKind)
    ):
        return RedirectResponse("/staff/mimamori?error=choice", status_code=303)
    try:
        watch = watches.enrol_paper(
            db,
            association_id=household.association_id,
            household_id=int(household.id or 0),
            weekday=weekday,
            minute_of_day=minute_of_day,
            watcher_id=watcher.resident_id,
            watcher_kind=watcher_kind,
            consent_version=watches.consent_text(content).version,
            staff_id=user.account.id,
            now=now,
        )
    except WatchError:
        return RedirectResponse("/staff/mimamori?error=choice", status_code=303)
    ask_watcher(db, notifier, now, watch)
    audit.record(db, account_id=user.account.id, action="mimamori_entered", now=now,
                 target_type="mimamori", target_id=watch.id)  # fmt: skip
    return RedirectResponse("/staff/mimamori?done=entered", status_code=303)


@router.post("/mimamori/{watch_id}/pause")
def mimamori_pause(
    watch_id: DbId,
    user: Officer,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    days: Annotated[int, Form(ge=0, le=28)],
) -> Response:
    """Pause a watch for travel (0: resume), when the household tells an officer."""
    try:
        watch = watches.in_associations(
            db, watch_id=watch_id, association_ids=_associations(db, user)
        )
        watches.pause_watch(db, watch, days=days, now=now)
    except WatchError:
        return RedirectResponse("/staff/mimamori?error=choice", status_code=303)
    audit.record(db, account_id=user.account.id, now=now, target_type="mimamori",
                 action="mimamori_paused" if days else "mimamori_resumed",
                 target_id=watch_id, days=days)  # fmt: skip
    done = "paused" if days else "resumed"
    return RedirectResponse(f"/staff/mimamori?done={done}", status_code=303)


@router.post("/mimamori/{watch_id}/stop")
def mimamori_stop(
    watch_id: DbId, user: Officer, csrf: Csrf, db: SessionDep, now: NowDep
) -> Response:
    """End a watch: the household (or resident) withdrew its consent."""
    try:
        watch = watches.in_associations(
            db, watch_id=watch_id, association_ids=_associations(db, user)
        )
    except WatchError:
        return RedirectResponse("/staff/mimamori?error=choice", status_code=303)
    watches.end_watch(db, watch, now=now)
    audit.record(db, account_id=user.account.id, action="mimamori_stopped", now=now,
                 target_type="mimamori", target_id=watch_id)  # fmt: skip
    return RedirectResponse("/staff/mimamori?done=stopped", status_code=303)


@router.post("/mimamori/{watch_id}/watcher")
def mimamori_name_watcher(
    watch_id: DbId,
    user: Officer,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    notifier: NotifierDep,
    watcher_membership_id: Annotated[int, Form()],
    watcher_kind: Annotated[str, Form(max_length=12)],
) -> Response:
    """Name the 見守り person of a watch waiting for one (the 班長 declined, or the 班 has
    none: a 民生委員 or a neighbour); they are asked in LINE and accept there."""
    watcher = db.get(Membership, watcher_membership_id)
    try:
        watch = watches.in_associations(
            db, watch_id=watch_id, association_ids=_associations(db, user)
        )
        if (
            watcher is None
            or watcher.association_id != watch.association_id
            or watcher.status != MembershipStatus.APPROVED
            or watcher_kind not in list(WatcherKind)
        ):
            raise WatchError("not a member of the association")
        watches.name_watcher(db, watch, watcher_id=watcher.resident_id, watcher_kind=watcher_kind)
    except WatchError:
        return RedirectResponse("/staff/mimamori?error=choice", status_code=303)
    ask_watcher(db, notifier, now, watch)
    audit.record(db, account_id=user.account.id, action="mimamori_watcher_named", now=now,
                 target_type="mimamori", target_id=watch_id)  # fmt: skip
    return RedirectResponse("/staff/mimamori?done=named", status_code=303)
