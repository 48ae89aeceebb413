"""A notice as the paper 回覧 (circular) PDF, rendered on the server: A4, large print, a
household stamp table, one page for a short notice, ready for a convenience-store net print.

The same texts as the browser print view (public_routes.render_print_page); an event the
notice invites to is asked of the events feature (`hooks.ask_describe_event`).
"""

from __future__ import annotations

from sqlmodel import Session

from bot.content import Content
from bot.core import hooks
from bot.core.models.areas import Association
from bot.core.when import when_text
from bot.features.notices import notices
from bot.features.notices.models import Notice
from bot.staff.pdf import PdfDocument, usable_width_mm

STAMP_ROWS = 12  # households a 班 passes it round; fits one page under a short notice
STAMP_ROW_MM = 10.0


def kairan_pdf(session: Session, notice: Notice, content: Content, locale: str = "ja") -> bytes:
    """The notice's 回覧 as PDF bytes (text escaped: notices are organisers' input)."""

    def t(key: str) -> str:
        return content.text(key, locale)

    title, body = notices.localized(notice, locale)
    association = session.get(Association, notice.association_id) if notice.association_id else None
    stamp = notice.sent_at or notice.scheduled_at or notice.created_at
    date = when_text(stamp, None, content, locale).split(" ")[0]
    doc = PdfDocument(title=title)
    doc.heading(t("notices.print.heading"), size=14)
    doc.heading(title, size=24)
    doc.paragraph(f"{association.name if association else ''}　{t('notices.print.date')} {date}")
    doc.spacer(2)
    doc.paragraph(body, size=18)
    event = (
        hooks.ask_describe_event(session, notice.event_id, content, locale, "")
        if notice.event_id
        else None
    )
    if event is not None:
        info = event.info
        lines = [
            [f"{t('events.card.when')} {info.get('when', '')}"],
            [f"{t('events.card.place')} {info.get('place', '')}"],
        ]
        if info.get("deadline"):
            lines.append([f"{t('events.card.deadline')} {info.get('deadline', '')}"])
        doc.table([str(info.get("title", event.title))], lines, size=13)
    width = usable_width_mm()
    doc.table(
        [t("notices.print.household"), t("notices.print.stamp"), t("notices.print.day")],
        [["", "", ""] for _ in range(STAMP_ROWS)],
        widths_mm=[width * 0.5, width * 0.25, width * 0.25],
        size=12,
        row_height_mm=STAMP_ROW_MM,
    )
    doc.paragraph(t("notices.print.instructions"), size=11)
    return doc.render()
