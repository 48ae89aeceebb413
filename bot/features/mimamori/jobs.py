"""見守り's scheduler job: open the week's check-ins as they fall due, and tell the 見守り
person, then the officers, when one stays unanswered (each once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.conversation.engine import Option, Say
from bot.conversation.jobs import JobDeps
from bot.core.models.membership import Officer
from bot.features.mimamori import watches
from bot.features.mimamori.checkin_flow import MimamoriOk, describe
from bot.features.mimamori.models import MimamoriCheckin, MimamoriWatch
from bot.platform.scheduler.jobs import Every, JobSpec
from bot.settings import Settings


def jobs(settings: Settings) -> list[JobSpec]:
    """Poll-style: what is due is read from the tables each time."""
    poll = Every(timedelta(seconds=settings.scheduler_poll_seconds))
    return [JobSpec("mimamori_checkins", run, poll)]


def run(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Send due check-ins, then the overdue alerts; returns how many pushes were queued."""
    notifier = deps.notifier
    sent = 0
    for row in watches.open_due_checkins(session, now=now, tz=deps.tz):
        watch = session.get(MimamoriWatch, row.watch_id)
        if watch is None:
            continue
        says: list[Say] = [Say("mimamori.checkin", options=(_ok(row),))]
        to = watch.resident_id
        if to is None:  # a household without LINE: its 見守り person looks in and taps
            seen = Option("mimamori.seen_button", MimamoriOk(int(row.id or 0)).encode())
            says = [
                Say("mimamori.checkin_paper", {"who": describe(session, watch)}, options=(seen,))
            ]
            to = watch.watcher_id
        if to is None:
            continue
        queued = notifier.push(
            session,
            now,
            key=f"mimamori:checkin:{row.id}",
            kind="mimamori",
            resident_ids=[to],
            urgent=True,
            says_for=_same(says),
        )
        sent += bool(queued)
    for row, watch in watches.overdue(session, now=now, stage="watcher"):
        sent += _alert(session, deps, now, row, watch, "watcher", [watch.watcher_id])
    for row, watch in watches.overdue(session, now=now, stage="officers"):
        officers = session.exec(
            select(Officer.resident_id).where(
                Officer.association_id == watch.association_id, col(Officer.revoked_at).is_(None)
            )
        ).all()
        sent += _alert(session, deps, now, row, watch, "officers", list(officers))
    return sent


def _same(says: list[Say]) -> Callable[[str], list[Say]]:
    return lambda _locale: says


def _ok(row: MimamoriCheckin) -> Option:
    return Option("mimamori.ok_button", MimamoriOk(int(row.id or 0)).encode())


def _alert(
    session: Session,
    deps: JobDeps,
    now: datetime,
    row: MimamoriCheckin,
    watch: MimamoriWatch,
    stage: str,
    to: list[int | None],
) -> int:
    due = row.due_at.astimezone(deps.tz)
    params = {"who": describe(session, watch), "month": due.month, "day": due.day,
              "time": f"{due.hour}:{due.minute:02d}"}  # fmt: skip
    seen = (Option("mimamori.seen_button", MimamoriOk(int(row.id or 0)).encode()),)
    options = seen if stage == "watcher" else ()
    return bool(
        deps.notifier.push(
            session,
            now,
            key=f"mimamori:checkin:{row.id}:{stage}",
            kind="mimamori_alert",
            resident_ids=[r for r in to if r is not None],
            urgent=True,
            says_for=lambda locale: [Say(f"mimamori.alert_{stage}", params, options=options)],
        )  # fmt: skip
    )
