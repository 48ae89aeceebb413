"""QR codes for counters, associations and campaigns: PNG, SVG and a printable A4 poster.

The default link is LINE's `oaMessage` URL: scanning opens the bot's chat with a message
holding the join code typed in, which the resident sends with one tap (a friend-add link
cannot carry a source: the follow event has no referrer). A city with a LINE Login channel
may print the LIFF entry URL instead (see docs/join.md); both carry the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session, select

from bot.content import LOCALES, Content
from bot.core.models.areas import Association, MovingInCounter, Ward
from bot.core.qr import oa_message_url, png_bytes, qr_code, svg_text
from bot.features.membership import join_codes
from bot.features.membership.join_codes import display
from bot.features.membership.models import JoinCodeKind

POSTER_DIR = "posters"
POSTER_TEMPLATE = "poster.html.j2"


@dataclass(frozen=True)
class PosterText:
    """Who the poster is for, as printed in its heading."""

    title: str  # the association's or counter's name
    subtitle: str = ""  # e.g. the ward, or a campaign's name


def prefilled_text(content: Content, code: str, locale: str = "ja") -> str:
    """The message the QR types into the chat: a friendly sentence holding the code."""
    return content.text("join.qr_message", locale, code=display(code))


def join_url(content: Content, basic_id: str, code: str, locale: str = "ja") -> str:
    """The link a join QR holds."""
    return oa_message_url(basic_id, prefilled_text(content, code, locale))


def liff_url(liff_id: str, code: str) -> str:
    """The optional LIFF entry URL: the server reads the code beside a verified ID token."""
    return f"https://liff.line.me/{quote(liff_id, safe='-')}?{urlencode({'code': code})}"


def poster_html(content: Content, url: str, code: str, text: PosterText) -> str:
    """An A4 page to print: heading, the QR, how to join in ja / en / やさしい日本語."""
    env = Environment(
        loader=FileSystemLoader(str(content.path(POSTER_DIR))),
        autoescape=select_autoescape(["html", "j2"]),
    )

    def t(key: str, locale: str, **params: str) -> str:
        return content.text(key, locale, **params)

    svg = qr_code(url).svg_inline(scale=8, border=4, omitsize=True)
    return env.get_template(POSTER_TEMPLATE).render(
        t=t,
        locales=LOCALES,
        title=text.title,
        subtitle=text.subtitle,
        qr_svg=svg,
        url=url,
        code=display(code),
    )


def write_files(
    folder: Path, stem: str, content: Content, url: str, code: str, text: PosterText
) -> list[Path]:
    """Write <stem>.png, <stem>.svg and <stem>.html into `folder`; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    png, svg, html = (folder / f"{stem}.{ext}" for ext in ("png", "svg", "html"))
    png.write_bytes(png_bytes(url))
    svg.write_text(svg_text(url), encoding="utf-8")
    html.write_text(poster_html(content, url, code, text), encoding="utf-8")
    return [png, svg, html]


@dataclass(frozen=True)
class IssuedQr:
    """A source's code, its link and the files written."""

    code: str
    url: str
    files: list[Path]
    created: bool


def issue_for_source(
    session: Session,
    content: Content,
    basic_id: str,
    folder: Path,
    now: datetime,
    *,
    counter: str | None = None,
    association: str | None = None,
    campaign: str | None = None,
    fresh: bool = False,
) -> IssuedQr:
    """Find (or with `fresh`, always make) the live code of a source and write its QR files.

    Exactly one of `counter` (a counter code), `association` (an association code) or
    `campaign` (a campaign's name) names the source. Raises LookupError for unknown codes.
    """
    kind, target, text = _source(
        session, counter=counter, association=association, campaign=campaign
    )
    counter_id = target if kind == JoinCodeKind.COUNTER else None
    association_id = target if kind == JoinCodeKind.ASSOCIATION else None
    label = campaign or ""
    row = (
        None
        if fresh
        else join_codes.active_for(
            session, kind, counter_id=counter_id, association_id=association_id, label=label
        )
    )
    created = row is None
    row = row or join_codes.create(
        session,
        kind=kind,
        now=now,
        counter_id=counter_id,
        association_id=association_id,
        label=label,
    )
    url = join_url(content, basic_id, row.code)
    stem = f"{kind}-{counter or association or row.code}"
    return IssuedQr(row.code, url, write_files(folder, stem, content, url, row.code, text), created)


def _source(
    session: Session, *, counter: str | None, association: str | None, campaign: str | None
) -> tuple[JoinCodeKind, int | None, PosterText]:
    if counter is not None:
        row = session.exec(select(MovingInCounter).where(MovingInCounter.code == counter)).first()
        if row is None:
            raise LookupError(f"no moving-in counter with code {counter!r}")
        ward = session.get(Ward, row.ward_id)
        return JoinCodeKind.COUNTER, row.id, PosterText(row.name, ward.name if ward else "")
    if association is not None:
        found = session.exec(select(Association).where(Association.code == association)).first()
        if found is None:
            raise LookupError(f"no association with code {association!r}")
        return JoinCodeKind.ASSOCIATION, found.id, PosterText(found.name)
    if not campaign:
        raise LookupError("name a counter, an association or a campaign")
    return JoinCodeKind.CAMPAIGN, None, PosterText(campaign)
