"""Paper rounds of a notice: tick households handed the printed copy, see read coverage.

For households without LINE a 班長 circulates the large-print page; the officer or organiser
(or a 班長 given an organiser account) ticks the households here, per 班. The coverage table
counts LINE and paper together, per association and 班.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from bot.core import audit
from bot.core.scope import Permission, association_ids_in_scope, visible_associations
from bot.features.notices import coverage as notice_coverage
from bot.features.notices import paper_rounds
from bot.features.notices.models import Notice
from bot.features.notices.public_routes import print_url
from bot.features.notices.staff.paper_view import coverage_table
from bot.features.notices.staff.views import NoticeNotFound, scoped_notice
from bot.settings import Settings
from bot.staff.deps import (
    Csrf,
    DbId,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
    words_for,
)
from bot.staff.i18n import Translator
from bot.staff.tables import Column, Table
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)

Sender = Annotated[StaffUser, Depends(PageAccess(Permission.SEND_NOTICES))]
SenderExport = Annotated[StaffUser, Depends(PageAccess(Permission.SEND_NOTICES, Permission.EXPORT))]
DONE = ("ticked", "unticked", "households")
# Ticks listed on the page (a 10,000-household association ticks thousands; the CSV has all).
PAGE_TICKS = 100
PAGE_HANS = 40  # coverage rows on the page; the CSV has every 班
TICK_COLUMNS = [
    Column("association", "col.association"),
    Column("han", "col.han"),
    Column("household", "col.paper_household"),
    Column("at", "col.ticked_at"),
]


def _scoped(db: Session, user: StaffUser, notice_id: int) -> Notice:
    try:
        return scoped_notice(db, user.scope, notice_id)
    except NoticeNotFound:
        raise HTTPException(status_code=404) from None


def _tables(
    db: Session,
    settings: Settings,
    t: Translator,
    user: StaffUser,
    notice_id: int,
    tick_limit: int | None = None,
) -> tuple[Notice, Table, Table, list[Any]]:
    """`t`: Japanese labels, shared by page and CSV, so the numbers line up; the page lists
    the newest `tick_limit` ticks (`ticks.notes["total"]`: all of them)."""
    tz = settings.tz
    notice = _scoped(db, user, notice_id)
    coverage = coverage_table(
        db, user.scope, notice_id, all_hans=t("paper.all_hans"), no_han=t("paper.no_han")
    )
    associations = [a for a, _d, _w in visible_associations(db, user.scope)]
    names = {a.id: a.name for a in associations}
    mine = association_ids_in_scope(db, user.scope)
    rows = paper_rounds.ticks(db, notice_id=notice_id, association_ids=mine, limit=tick_limit)
    ticks = Table(
        f"notice-{notice_id}-paper",
        TICK_COLUMNS,
        [
            {
                "tick_id": r.id,
                "association": names.get(r.association_id, ""),
                "han": r.han or t("paper.no_han"),
                "household": r.household,
                "at": r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            }
            for r in rows
        ],
    )
    ticks.notes["total"] = (
        len(rows)
        if tick_limit is None or len(rows) < tick_limit
        else paper_rounds.tick_count(db, notice_id=notice_id, association_ids=mine)
    )
    if notice.association_id is not None:
        associations = [a for a in associations if a.id == notice.association_id]
    return notice, coverage, ticks, associations


def _lagging_first(rows: list[dict[str, Any]], all_hans: str) -> list[dict[str, Any]]:
    """At most PAGE_HANS 班 on the page: each association's total, then its 班 that the notice
    reached least (a 10,000-household association has 400 班; the CSV lists them all)."""
    if len(rows) <= PAGE_HANS:
        return rows
    totals = [r for r in rows if r["han"] == all_hans]
    hans = sorted((r for r in rows if r["han"] != all_hans), key=lambda r: r["rate"])
    return totals + hans[: PAGE_HANS - len(totals)]


def _page(
    request: Request,
    db: Session,
    settings: Settings,
    user: StaffUser,
    notice_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    t = words_for(request, "ja")
    notice, coverage, ticks, associations = _tables(
        db, settings, t, user, notice_id, tick_limit=PAGE_TICKS
    )
    coverage.notes["hans"] = len(coverage.rows)
    coverage.rows = _lagging_first(coverage.rows, t("paper.all_hans"))
    response = page(
        request,
        user,
        "paper.html",
        notice=notice,
        coverage=coverage,
        ticks=ticks,
        associations=associations,
        typed=extra.pop("typed", {}),
        print_link=print_url(settings, notice_id),
        **extra,
    )
    response.status_code = status_code
    return response


@router.get("/notices/{notice_id}/paper", response_class=HTMLResponse)
def paper_page(
    request: Request,
    notice_id: DbId,
    user: Sender,
    db: SessionDep,
    settings: SettingsDep,
    done: str | None = None,
) -> HTMLResponse:
    """Read coverage per association and 班, the paper ticks, and the forms to add them."""
    return _page(request, db, settings, user, notice_id, done=done if done in DONE else None)


@router.post("/notices/{notice_id}/paper")
def paper_tick(
    request: Request,
    notice_id: DbId,
    user: Sender,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    association_id: Annotated[int, Form()] = 0,
    han: Annotated[str, Form(max_length=200)] = "",
    households: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Tick the listed households of one 班 as handed the paper copy."""
    typed = {"association_id": association_id, "han": han, "households": households}
    _scoped(db, user, notice_id)
    if not association_id:
        return _page(
            request,
            db,
            settings,
            user,
            notice_id,
            status_code=400,
            error="association",
            typed=typed,
        )
    user.scope.require_association(db, association_id)  # another association: 403
    try:
        labels = paper_rounds.parse_households(households)
        result = paper_rounds.tick_households(
            db,
            notice_id=notice_id,
            association_id=association_id,
            han=han,
            households=labels,
            now=now,
            by_staff_id=user.account.id,
        )
    except paper_rounds.PaperError as exc:
        # The service checks before it ticks; rolling back keeps a refusal from storing anything
        # even so (the page below only reads).
        db.rollback()
        return _page(
            request, db, settings, user, notice_id, status_code=400, error=exc.code, typed=typed
        )
    audit.record(
        db,
        account_id=user.account.id,
        action="paper_ticked",
        now=now,
        target_type="notice",
        target_id=notice_id,
        association_id=association_id,
        added=result.added,
        already=result.already,
    )
    return RedirectResponse(f"/staff/notices/{notice_id}/paper?done=ticked", status_code=303)


@router.post("/notices/{notice_id}/paper/untick")
def paper_untick(
    notice_id: DbId,
    user: Sender,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    tick_id: Annotated[int, Form(ge=1, le=2_147_483_647)] = 1,
) -> Response:
    """Remove a tick made by mistake (only within the caller's associations)."""
    _scoped(db, user, notice_id)
    mine = association_ids_in_scope(db, user.scope)
    row = next(
        (
            r
            for r in paper_rounds.ticks(db, notice_id=notice_id, association_ids=mine)
            if r.id == tick_id
        ),
        None,
    )
    if row is not None:
        paper_rounds.untick(db, notice_id=notice_id, tick_id=tick_id)
        audit.record(
            db,
            account_id=user.account.id,
            action="paper_unticked",
            now=now,
            target_type="notice",
            target_id=notice_id,
            tick_id=tick_id,
        )
    return RedirectResponse(f"/staff/notices/{notice_id}/paper?done=unticked", status_code=303)


@router.post("/notices/{notice_id}/paper/households")
def han_households(
    request: Request,
    notice_id: DbId,
    user: Sender,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    association_id: Annotated[int, Form()] = 0,
    han: Annotated[str, Form(max_length=40)] = "",
    count: Annotated[int, Form(ge=0, le=100_000)] = 0,
) -> Response:
    """Record how many households a 班 has (LINE or not): the coverage denominator."""
    _scoped(db, user, notice_id)
    if not association_id:
        return _page(request, db, settings, user, notice_id, status_code=400, error="association")
    user.scope.require_association(db, association_id)
    notice_coverage.set_han_households(
        db, association_id=association_id, han=han.strip(), households=count
    )
    audit.record(
        db,
        account_id=user.account.id,
        action="han_households_set",
        now=now,
        target_type="association",
        target_id=association_id,
        households=count,
    )
    return RedirectResponse(f"/staff/notices/{notice_id}/paper?done=households", status_code=303)


@router.get("/notices/{notice_id}/coverage.csv")
def coverage_csv(
    request: Request, notice_id: DbId, user: SenderExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """Read coverage per association and 班 as CSV."""
    t = words_for(request, "ja")
    _notice, coverage, _ticks, _associations = _tables(db, settings, t, user, notice_id)
    return export_response(request, user, coverage)


@router.get("/notices/{notice_id}/paper.csv")
def paper_csv(
    request: Request, notice_id: DbId, user: SenderExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The paper ticks (household labels, never names) as CSV."""
    t = words_for(request, "ja")
    _notice, _coverage, ticks, _associations = _tables(db, settings, t, user, notice_id)
    return export_response(request, user, ticks)
