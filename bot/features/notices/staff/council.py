"""Notices' part of the council report: each notice sent in the period with its read
coverage (LINE and paper together), summed over the area's associations as the notice's
coverage page shows them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlmodel import Session, col, select

from bot.core.hooks import CouncilQuery, CouncilTable
from bot.features.notices.models import Notice
from bot.features.notices.staff.paper_view import coverage_table
from bot.staff.tables import Column, Table, council_table

LIMIT = 50  # the latest notices of the period: a council report, not an archive

COLUMNS = [
    Column("when", "col.when"),
    Column("title", "col.title"),
    Column("recipients", "col.recipients", numeric=True),
    Column("households", "col.han_households", numeric=True),
    Column("line_reached", "col.line_reached", numeric=True),
    Column("paper", "col.paper", numeric=True),
    Column("covered", "col.covered", numeric=True),
    Column("rate", "col.coverage_rate", numeric=True),
]


def _start_of(day: date, tz: tzinfo, days: int = 0) -> datetime | None:
    """The UTC start of a local day (plus `days`); None at the calendar's ends (no bound)."""
    try:
        return datetime.combine(day + timedelta(days=days), time(), tz).astimezone(UTC)
    except OverflowError:
        return None


def council_sections(session: Session, query: CouncilQuery) -> list[CouncilTable]:
    """Sent notices in the period and area with the households they reached."""
    tz = query.settings.tz
    found = select(Notice).where(
        col(Notice.sent_at).is_not(None), query.scope.association_filter(Notice.association_id)
    )
    start = _start_of(query.since, tz) if query.since else None
    end = _start_of(query.until, tz, days=1) if query.until else None
    if start is not None:
        found = found.where(col(Notice.sent_at) >= start)
    if end is not None:
        found = found.where(col(Notice.sent_at) < end)
    notices = session.exec(found.order_by(col(Notice.sent_at).desc()).limit(LIMIT)).all()
    rows = []
    for notice in notices:
        coverage = coverage_table(session, query.scope, notice.id or 0, all_hans="*", no_han="")
        totals = [r for r in coverage.rows if r["han"] == "*"]
        households = sum(r["households"] for r in totals)
        covered = sum(r["covered"] for r in totals)
        rows.append(
            {
                "when": notice.sent_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                if notice.sent_at
                else "",
                "title": notice.title,
                "recipients": notice.recipient_count,
                "households": households,
                "line_reached": sum(r["line_reached"] for r in totals),
                "paper": sum(r["paper"] for r in totals),
                "covered": covered,
                "rate": round(100 * covered / households, 1) if households else "",
            }
        )
    table = Table("notice-coverage", COLUMNS, rows)
    words = query.words
    return [
        council_table(
            query.words,
            table,
            order=50,
            title=words("council.notices"),
            sheet=words("council.sheet.notices"),
        )
    ]
