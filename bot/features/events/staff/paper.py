"""The event's paper for the venue: the reception sheet (受付名簿) and the check-in QR poster.

Both are A4 PDFs rendered on the server (bot/staff/pdf.py). The reception sheet has one row
per resident coming (names as the association knows them, headcount, needs) and blank rows
for walk-ins written in by hand; the poster is a large QR that checks a resident in from LINE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.core.when import TOKYO
from bot.features.events.models import Event, RsvpAnswer
from bot.features.events.roster import RosterRow
from bot.staff.pdf import PdfDocument, usable_width_mm

BLANK_ROWS = 12  # walk-ins written in at the door
POSTER_QR_MM = 150.0

Words = Callable[..., str]


def attendees(rows: Sequence[RosterRow]) -> list[RosterRow]:
    """Who is coming: the `going` answers, in roster order."""
    return [r for r in rows if r.answer == RsvpAnswer.GOING]


def reception_rows(
    rows: Sequence[RosterRow], t: Words, *, blank: int = BLANK_ROWS
) -> list[list[str]]:
    """One row per attendee (number, name, adults, children, needs, tick box), then `blank`
    numbered empty rows for walk-ins."""
    coming = attendees(rows)
    out = [
        [
            str(n),
            r.name or t("event_ops.no_name"),
            str(r.adults),
            str(r.children),
            r.needs,
            t("event_ops.pdf_checked") if r.checked_in else "",
        ]
        for n, r in enumerate(coming, start=1)
    ]
    out += [[str(n), "", "", "", "", ""] for n in range(len(coming) + 1, len(coming) + blank + 1)]
    return out


def _when(event: Event) -> str:
    start, end = event.starts_at.astimezone(TOKYO), event.ends_at.astimezone(TOKYO)
    return f"{start:%Y-%m-%d %H:%M}〜{end:%H:%M}"


def reception_sheet(event: Event, rows: Sequence[RosterRow], t: Words, now: datetime) -> bytes:
    """The reception sheet as an A4 PDF."""
    coming = attendees(rows)
    people = sum(r.adults + r.children for r in coming)
    doc = PdfDocument(title=f"{t('event_ops.pdf_reception_title')} {event.title}")
    doc.heading(f"{t('event_ops.pdf_reception_title')}　{event.title}", size=16)
    doc.paragraph(f"{_when(event)}　{event.place}".strip())
    doc.paragraph(t("event_ops.going_summary", answers=len(coming), people=people))
    width = usable_width_mm()
    fixed = [14.0, 50.0, 14.0, 16.0, 0.0, 14.0]
    fixed[4] = width - sum(fixed)
    doc.table(
        [
            t("event_ops.pdf_no"),
            t("event_ops.pdf_name"),
            t("event_ops.pdf_adults"),
            t("event_ops.pdf_children"),
            t("event_ops.pdf_needs"),
            t("event_ops.pdf_check"),
        ],
        reception_rows(rows, t),
        widths_mm=fixed,
        row_height_mm=9,
    )
    doc.paragraph(t("event_ops.pdf_blank_rows"), size=9)
    doc.paragraph(t("event_ops.pdf_printed", at=f"{now.astimezone(TOKYO):%Y-%m-%d %H:%M}"), size=9)
    return doc.render()


def checkin_poster(event: Event, link: str, t: Words) -> bytes:
    """The venue's check-in QR as a one-page A4 poster: large, with what to do in words."""
    doc = PdfDocument(title=f"{t('event_ops.pdf_poster_title')} {event.title}")
    doc.heading(t("event_ops.pdf_poster_title"), size=30)
    doc.heading(event.title, size=20)
    doc.paragraph(f"{_when(event)}　{event.place}".strip(), size=14)
    doc.qr(link, size_mm=POSTER_QR_MM, center=True)
    doc.paragraph(t("event_ops.pdf_poster_scan"), size=15)
    return doc.render()
