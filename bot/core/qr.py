"""QR codes of LINE links, shared by the join QR (membership) and the venue check-in QR (events).

The link is LINE's `oaMessage` URL: scanning opens the bot's chat with a message typed in,
which the resident sends with one tap.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import segno


def oa_message_url(basic_id: str, text: str) -> str:
    """`https://line.me/R/oaMessage/{basic_id}/?{text}` with the text percent-encoded."""
    return f"https://line.me/R/oaMessage/{quote(basic_id, safe='@')}/?{quote(text, safe='')}"


def qr_code(url: str) -> segno.QRCode:
    """The QR symbol; error level M survives a scuffed or creased poster."""
    return segno.make(url, error="m", micro=False)


def png_bytes(url: str, scale: int = 10) -> bytes:
    """The QR as a PNG (scale = pixels per module)."""
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def svg_text(url: str, scale: int = 10) -> str:
    """The QR as a standalone SVG document."""
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="svg", scale=scale, border=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")
