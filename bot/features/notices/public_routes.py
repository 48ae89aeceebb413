"""Public web bits of notices: the large-print A4 page of a notice (the paper 回覧板 copy).

The print page is reachable only with a signed link (`print_url`), which the staff web shows
to officers and 班長; nobody can read notices by counting ids. The event a notice points at
is asked of the events feature (`hooks.ask_describe_event`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session

from bot.content import Content
from bot.core import hooks
from bot.core.models.areas import Association
from bot.core.when import when_text
from bot.features.notices import notices
from bot.features.notices.models import Notice
from bot.settings import Settings
from bot.staff.deps import ContentDep, DbId, SessionDep, SettingsDep

router = APIRouter(tags=["notices"])
TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
PRINT_ROWS = 14


@router.get(
    "/notices/{notice_id}/print",
    summary="A notice as a large-print A4 page",
    response_class=HTMLResponse,
)
def notice_print(
    notice_id: DbId,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    t: str = "",
    lang: str = "ja",
) -> HTMLResponse:
    """The paper 回覧板 copy; `t` is the signature from `print_url`."""
    if not _valid(settings, notice_id, t):
        raise HTTPException(status_code=404)
    locale = lang if lang in content.texts else "ja"
    notice = db.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(status_code=404)
    return HTMLResponse(render_print_page(db, notice, content, locale))


def render_print_page(session: Session, notice: Notice, content: Content, locale: str) -> str:
    """The print page's HTML (escaped: notice texts are organisers' input)."""
    title, body = notices.localized(notice, locale)
    association = session.get(Association, notice.association_id) if notice.association_id else None
    base_url = ""  # the page shows the event's texts, not its links
    event = (
        hooks.ask_describe_event(session, notice.event_id, content, locale, base_url)
        if notice.event_id
        else None
    )
    stamp = notice.sent_at or notice.scheduled_at or notice.created_at
    return _env.get_template("notices/print.html").render(
        lang="en" if locale == "en" else "ja",
        title=title,
        body=body,
        association=association.name if association else "",
        date=when_text(stamp, None, content, locale).split(" ")[0],
        event=dict(event.info) if event else None,
        rows=PRINT_ROWS,
        t=lambda key, **kw: content.text(key, locale, **kw),
    )


def print_url(settings: Settings, notice_id: int, lang: str = "ja") -> str:
    """The signed link to a notice's print page."""
    token = _signer(settings).dumps(notice_id)
    return f"{settings.public_base_url}/notices/{notice_id}/print?t={token}&lang={lang}"


def _signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.staff_session_secret.get_secret_value(), salt="notice-print")


def _valid(settings: Settings, notice_id: int, token: str) -> bool:
    try:
        return bool(_signer(settings).loads(token) == notice_id)
    except BadSignature:
        return False
