"""A printable slip per household not on LINE: its own join QR, so the join lands in it.

Associations that raised LINE uptake did it through 班長 visits with a slip per household.
The QR types the household's code into the chat (bot/features/membership/join_flow.py reads
it), so the resident skips the address steps and their membership points at this household.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from bot.content import Content
from bot.core import households as register
from bot.core.models.areas import Association
from bot.core.models.households import Household
from bot.core.qr import oa_message_url
from bot.staff.pdf import PdfDocument


def display(code: str) -> str:
    """The code as printed and typed by the QR: with the join codes' `#` mark, so the join
    flow's code reader (bot/features/membership/join_codes.py) finds it."""
    return f"#{code}"


def slip_url(content: Content, basic_id: str, code: str) -> str:
    """The link a household's slip QR holds (the join message with its code)."""
    return oa_message_url(basic_id, content.text("join.qr_message", "ja", code=display(code)))


def slips_pdf(
    session: Session,
    *,
    association: Association,
    households: Sequence[Household],
    content: Content,
    basic_id: str,
    words: object,
) -> bytes:
    """One slip per household, two to a page; codes are drawn the first time."""
    assert callable(words)
    doc = PdfDocument(title=words("households.slip_title"))
    for n, household in enumerate(households):
        code = register.ensure_join_code(session, household)
        if n and n % 2 == 0:
            doc.page_break()
        doc.heading(words("households.slip_heading", association=association.name), size=16)
        doc.paragraph(
            words(
                "households.slip_for",
                han=household.han or "-",
                address=household.address or "-",
                name=household.contact_name or "-",
            ),
            size=12,
        )
        doc.paragraph(words("households.slip_how"), size=11)
        doc.qr(
            slip_url(content, basic_id, code),
            size_mm=45,
            caption=words("households.slip_code", code=display(code)),
        )
        doc.spacer(10)
    if not households:
        doc.paragraph(words("households.slip_none"))
    return doc.render()
