"""What the LINE app does with a scanned ``line.me`` link, reduced to data.

Two links matter to an official account (developers.line.biz, "Using LINE URL
schemes"): ``https://line.me/R/ti/p/{basicId}`` opens the friend-add screen,
and ``https://line.me/R/oaMessage/{basicId}/?{text}`` opens the chat with the
text typed in, ready to send. ``lin.ee`` short links and QR images are out of
scope: the simulator takes the link a printed QR code holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

_HOSTS = frozenset({"line.me", "www.line.me"})


class UnsupportedLink(ValueError):
    """The link is not a LINE friend-add or pre-filled message link."""


@dataclass(frozen=True)
class LineLink:
    """A parsed link: the account it names and the pre-filled text, if any."""

    basic_id: str
    prefilled_text: str | None

    @property
    def is_message(self) -> bool:
        """True for an ``oaMessage`` link (follow, then send the text)."""
        return self.prefilled_text is not None


def parse_line_link(url: str) -> LineLink:
    """Parse a ``line.me/R/…`` link; UnsupportedLink says what was wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http", "line") or (
        parts.scheme != "line" and parts.hostname not in _HOSTS
    ):
        raise UnsupportedLink("not a line.me link")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if parts.scheme == "line":  # line://ti/p/@id keeps the first segment in the host
        segments = [parts.netloc, *segments]
    elif segments[:1] == ["R"]:
        segments = segments[1:]
    if segments[:2] == ["ti", "p"] and len(segments) == 3:
        return LineLink(segments[2], None)
    if segments[:1] == ["oaMessage"] and len(segments) == 2:
        # The text is the whole query string, percent-encoded, not a key=value pair.
        return LineLink(segments[1], unquote(parts.query))
    raise UnsupportedLink("neither a friend-add (ti/p) nor a message (oaMessage) link")


def same_account(basic_id: str, expected: str) -> bool:
    """Compare basic IDs the way LINE does: case-insensitive, the leading @ optional."""
    return basic_id.lstrip("@").lower() == expected.lstrip("@").lower()
