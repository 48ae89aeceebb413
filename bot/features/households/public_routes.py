"""The slips of one 班 as a PDF for its 班長, behind a signed link that expires.

A 班長 has no staff account; the link the bot gives them in LINE names the association and
the 班 and is signed with the staff session secret, so nobody reaches another 班's slips by
changing the address. It expires after `LINK_DAYS`.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer

from bot.core import audit
from bot.core.models.areas import Association
from bot.features.households import progress
from bot.features.households.slips import slips_pdf
from bot.settings import Settings
from bot.staff.deps import ContentDep, DbId, NowDep, SessionDep, SettingsDep, words_for
from bot.staff.pdf import pdf_response

router = APIRouter(tags=["households"])
LINK_DAYS = 14


def _signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.staff_session_secret.get_secret_value(), salt="han-slips")


def slips_url(settings: Settings, association_id: int, han: str, now: datetime) -> str:
    """The signed link to one 班's slips, valid for LINK_DAYS from `now`."""
    until = int(now.timestamp()) + LINK_DAYS * 86400
    token = _signer(settings).dumps([association_id, han, until])
    return f"{settings.public_base_url}/households/{association_id}/slips.pdf?t={quote(token)}"


@router.get("/households/{association_id}/slips.pdf", summary="A 班's join slips (PDF)")
def han_slips(
    request: Request,
    association_id: DbId,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    now: NowDep,
    t: str = "",
) -> Response:
    """The slips of the 班 the signature names, each with its household's own join QR."""
    try:
        signed_association, han, until = _signer(settings).loads(t)
    except (BadSignature, ValueError, TypeError):
        raise HTTPException(status_code=404) from None
    association = db.get(Association, association_id)
    if signed_association != association_id or association is None or now.timestamp() > until:
        raise HTTPException(status_code=404)
    found = progress.not_on_line(db, association_id=association_id, han=str(han))
    words = words_for(request, "ja")
    pdf = slips_pdf(
        db,
        association=association,
        households=found,
        content=content,
        basic_id=settings.line_bot_basic_id,
        words=words,
    )
    audit.record(
        db,
        account_id=None,
        action="household_slips_printed",
        now=now,
        target_type="association",
        target_id=association_id,
        rows=len(found),
    )
    return pdf_response(pdf, "slips.pdf")
