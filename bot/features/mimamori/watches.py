"""見守り rules: opt in, the 見守り person accepts, pause, stop; the week's check-ins, answers
and who is told when nobody answers. Functions return plain results; the flow and the jobs
turn them into words.

Escalation: no answer `grace_hours` after the check-in was due → the 見守り person, once;
still none after twice that → the association's officers, once. The 見守り person may answer
for the resident after a visit (様子を確かめました), which stops the escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.content import Content, read_yaml
from bot.features.mimamori.models import MimamoriCheckin, MimamoriWatch

CONSENT = "consent/mimamori"  # under content/: <locale>.yaml with version and text
PAUSES = (7, 14, 28)  # days a resident may pause for travel
TIMES = (8 * 60, 10 * 60, 12 * 60, 15 * 60, 18 * 60, 20 * 60)


class WatchError(ValueError):
    """A request the watch cannot take."""


@dataclass(frozen=True)
class ConsentText:
    """The 見守り consent text: its version and words per locale."""

    version: str
    texts: dict[str, str]


def consent_text(content: Content) -> ConsentText:
    """content/consent/mimamori/<locale>.yaml, one version in every locale."""
    texts, versions = {}, set()
    for locale in ("ja", "en", "ja-easy"):
        raw = read_yaml(content.root / CONSENT / f"{locale}.yaml")
        versions.add(str(raw["version"]))
        texts[locale] = str(raw["text"]).strip()
    if len(versions) != 1:
        raise WatchError(f"見守り consent versions differ: {sorted(versions)}")
    return ConsentText(versions.pop(), texts)


def active_of(session: Session, resident_id: int) -> MimamoriWatch | None:
    """The resident's watch, unless they stopped it."""
    return session.exec(
        select(MimamoriWatch).where(
            MimamoriWatch.resident_id == resident_id, col(MimamoriWatch.ended_at).is_(None)
        )
    ).first()


def enrol(
    session: Session,
    *,
    resident_id: int,
    association_id: int,
    weekday: int,
    minute_of_day: int,
    watcher_id: int | None,
    watcher_kind: str,
    consent_version: str,
    now: datetime,
) -> MimamoriWatch:
    """Opt in (a former watch ends); nothing is sent until the 見守り person accepts (with
    no 見守り person yet, an officer names one: `name_watcher`)."""
    if not 0 <= weekday <= 6 or minute_of_day not in TIMES:
        raise WatchError("weekday or time out of range")
    if watcher_id == resident_id:
        raise WatchError("one cannot watch oneself")
    stop(session, resident_id=resident_id, now=now)
    watch = MimamoriWatch(
        association_id=association_id,
        resident_id=resident_id,
        weekday=weekday,
        minute_of_day=minute_of_day,
        watcher_id=watcher_id,
        watcher_kind=watcher_kind,
        consent_version=consent_version,
        consented_at=now,
        created_at=now,
    )
    session.add(watch)
    session.flush()
    return watch


def enrol_paper(
    session: Session,
    *,
    association_id: int,
    household_id: int,
    weekday: int,
    minute_of_day: int,
    watcher_id: int,
    watcher_kind: str,
    consent_version: str,
    staff_id: int | None,
    now: datetime,
) -> MimamoriWatch:
    """An officer enters a household without LINE, with its consent (a former watch of the
    household ends); its check-ins go to the 見守り person once they accept."""
    if not 0 <= weekday <= 6 or minute_of_day not in TIMES:
        raise WatchError("weekday or time out of range")
    session.execute(
        update(MimamoriWatch)
        .where(
            col(MimamoriWatch.household_id) == household_id, col(MimamoriWatch.ended_at).is_(None)
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    watch = MimamoriWatch(
        association_id=association_id,
        household_id=household_id,
        weekday=weekday,
        minute_of_day=minute_of_day,
        watcher_id=watcher_id,
        watcher_kind=watcher_kind,
        consent_version=consent_version,
        consented_at=now,
        entered_by_staff_id=staff_id,
        created_at=now,
    )
    session.add(watch)
    session.flush()
    return watch


def accept(session: Session, *, watch_id: int, watcher_id: int, now: datetime) -> MimamoriWatch:
    """The named 見守り person takes the role (a second tap changes nothing)."""
    watch = session.get(MimamoriWatch, watch_id)
    if watch is None or watch.ended_at is not None or watch.watcher_id != watcher_id:
        raise WatchError("not yours to accept")
    watch.watcher_accepted_at = watch.watcher_accepted_at or now
    session.add(watch)
    return watch


def decline(session: Session, *, watch_id: int, watcher_id: int, now: datetime) -> MimamoriWatch:
    """The named person declines: the watch waits for another 見守り person."""
    watch = session.get(MimamoriWatch, watch_id)
    if watch is None or watch.ended_at is not None or watch.watcher_id != watcher_id:
        raise WatchError("not yours to decline")
    watch.watcher_id, watch.watcher_accepted_at = None, None
    session.add(watch)
    return watch


def pause(session: Session, *, resident_id: int, days: int, now: datetime) -> MimamoriWatch:
    """No check-in until `days` from now (travel)."""
    watch = active_of(session, resident_id)
    if watch is None or days not in PAUSES:
        raise WatchError("nothing to pause")
    watch.paused_until = now + timedelta(days=days)
    session.add(watch)
    return watch


def resume(session: Session, *, resident_id: int, now: datetime) -> MimamoriWatch:
    """Check-ins again from the next due moment."""
    watch = active_of(session, resident_id)
    if watch is None:
        raise WatchError("nothing to resume")
    watch.paused_until = None
    session.add(watch)
    return watch


def stop(session: Session, *, resident_id: int, now: datetime) -> bool:
    """Revoke: the watch ends (its past check-ins stay for the record until erasure)."""
    done = session.execute(
        update(MimamoriWatch)
        .where(col(MimamoriWatch.resident_id) == resident_id, col(MimamoriWatch.ended_at).is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def in_associations(
    session: Session, *, watch_id: int, association_ids: list[int]
) -> MimamoriWatch:
    """A live watch of one of the associations (an officer's), or WatchError."""
    watch = session.get(MimamoriWatch, watch_id)
    if watch is None or watch.ended_at is not None or watch.association_id not in association_ids:
        raise WatchError("not a watch of yours")
    return watch


def name_watcher(
    session: Session, watch: MimamoriWatch, *, watcher_id: int, watcher_kind: str
) -> None:
    """An officer names the 見守り person of a watch still waiting for one (the 班長
    declined, or the 班 has none); they accept in LINE before any check-in is sent."""
    if watch.watcher_accepted_at is not None:
        raise WatchError("the watch has its 見守り person")
    if watcher_id == watch.resident_id:
        raise WatchError("one cannot watch oneself")
    watch.watcher_id, watch.watcher_kind, watch.watcher_accepted_at = watcher_id, watcher_kind, None
    session.add(watch)


def pause_watch(session: Session, watch: MimamoriWatch, *, days: int, now: datetime) -> None:
    """An officer pauses a watch for travel (a household without LINE tells them); 0 resumes."""
    if days and days not in PAUSES:
        raise WatchError("pause out of range")
    watch.paused_until = now + timedelta(days=days) if days else None
    session.add(watch)


def end_watch(session: Session, watch: MimamoriWatch, *, now: datetime) -> None:
    """An officer ends a watch when the household withdraws its consent."""
    watch.ended_at = now
    session.add(watch)


def last_due(watch: MimamoriWatch, now: datetime, tz: ZoneInfo) -> datetime:
    """The latest moment at or before `now` the watch's weekly check-in fell due."""
    local = now.astimezone(tz)
    moment = local.replace(
        hour=watch.minute_of_day // 60, minute=watch.minute_of_day % 60, second=0, microsecond=0
    ) - timedelta(days=(local.weekday() - watch.weekday) % 7)
    if moment > local:
        moment -= timedelta(days=7)
    return moment.astimezone(now.tzinfo)


def open_due_checkins(session: Session, *, now: datetime, tz: ZoneInfo) -> list[MimamoriCheckin]:
    """This week's check-ins that fell due (once each): accepted, not paused, not stopped."""
    created = []
    for watch in session.exec(
        select(MimamoriWatch).where(
            col(MimamoriWatch.ended_at).is_(None),
            col(MimamoriWatch.watcher_accepted_at).is_not(None),
        )
    ).all():
        due = last_due(watch, now, tz)
        accepted = watch.watcher_accepted_at
        if accepted is None or due < accepted or (watch.paused_until and due < watch.paused_until):
            continue
        if now - due > timedelta(hours=watch.grace_hours):
            continue  # the scheduler was down past the grace: no late check-in
        exists = session.exec(
            select(MimamoriCheckin.id).where(
                MimamoriCheckin.watch_id == watch.id, MimamoriCheckin.due_at == due
            )
        ).first()
        if exists is not None:
            continue
        row = MimamoriCheckin(watch_id=int(watch.id or 0), due_at=due)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another scheduler created it first
            continue
        created.append(row)
    return created


def answer(
    session: Session, *, checkin_id: int, resident_id: int, now: datetime
) -> MimamoriCheckin:
    """元気です from the resident, or 様子を確かめました from their 見守り person."""
    row = session.get(MimamoriCheckin, checkin_id)
    watch = session.get(MimamoriWatch, row.watch_id) if row else None
    if row is None or watch is None or resident_id not in (watch.resident_id, watch.watcher_id):
        raise WatchError("not your check-in")
    if row.answered_at is None:
        row.answered_at = now
        row.answered_by_watcher = resident_id != watch.resident_id
        session.add(row)
    return row


def overdue(
    session: Session, *, now: datetime, stage: str
) -> list[tuple[MimamoriCheckin, MimamoriWatch]]:
    """Unanswered check-ins past their grace (stage "watcher") or twice it ("officers"),
    not told yet; each is claimed here so it is told once. A watch that ended (consent
    withdrawn) or is paused (travel) tells nobody, and neither does a check-in a week old
    (the next week's has taken its place)."""
    name = "watcher_told_at" if stage == "watcher" else "officers_told_at"
    told = getattr(MimamoriCheckin, name)
    query = (
        select(MimamoriCheckin, MimamoriWatch)
        .join(MimamoriWatch, col(MimamoriWatch.id) == col(MimamoriCheckin.watch_id))
        .where(
            col(MimamoriCheckin.answered_at).is_(None),
            col(told).is_(None),
            col(MimamoriWatch.ended_at).is_(None),
            col(MimamoriCheckin.due_at) > now - timedelta(days=7),
        )
    )
    if stage == "officers":
        query = query.where(col(MimamoriCheckin.watcher_told_at).is_not(None))
    factor = 1 if stage == "watcher" else 2
    out = []
    for row, watch in session.exec(query).all():
        if row.due_at + timedelta(hours=watch.grace_hours * factor) > now:
            continue
        if watch.paused_until is not None and watch.paused_until > now:
            continue
        claimed = session.execute(
            update(MimamoriCheckin)
            .where(col(MimamoriCheckin.id) == row.id, col(told).is_(None))
            .values({name: now})
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount:  # type: ignore[attr-defined]
            out.append((row, watch))
    return out


def forget(session: Session, resident_id: int, now: datetime) -> None:
    """データ削除: the resident's watches and check-ins go; where they were the 見守り person,
    the watch waits for another one."""
    ids = list(
        session.exec(select(MimamoriWatch.id).where(MimamoriWatch.resident_id == resident_id))
    )
    for row in session.exec(
        select(MimamoriCheckin).where(col(MimamoriCheckin.watch_id).in_(ids))
    ).all():
        session.delete(row)
    for watch in session.exec(
        select(MimamoriWatch).where(MimamoriWatch.resident_id == resident_id)
    ).all():
        session.delete(watch)
    session.execute(
        update(MimamoriWatch)
        .where(col(MimamoriWatch.watcher_id) == resident_id)
        .values(watcher_id=None, watcher_accepted_at=None)
        .execution_options(synchronize_session=False)
    )
