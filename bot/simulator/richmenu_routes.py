"""The resident's rich menu in the simulator: the menu and image the bot registered with the
LINE stand-in, for the page to draw under the chat and tap as LINE does.

Nothing here invents a menu: the page shows what `tsunagari richmenu sync` created on the
stand-in and linked to the resident (or the default menu), so a menu the bot forgot to link
is missing here as it would be on a phone. The demo has no separate sync step, so the
first request runs the same sync once, against the stand-in, over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from bot.conversation.richmenu import sync
from bot.platform.line.richmenu import RichMenuApi
from bot.simulator.standin import LineStandin

log = logging.getLogger(__name__)

router = APIRouter(prefix="/simulator/api", include_in_schema=False)


async def ensure_synced(request: Request) -> None:
    """Run the rich-menu sync once per process, as `tsunagari richmenu sync` would."""
    state = request.app.state
    lock: asyncio.Lock = state.simulator_richmenu_lock
    async with lock:
        if getattr(state, "simulator_richmenu_synced", False):
            return
        api = RichMenuApi.from_settings(state.settings)
        try:
            report = await sync(api, state.engine, state.content, state.registry, state.clock.now())
        finally:
            await api.close()
        for warning in report.warnings:
            log.warning("rich menu: %s", warning)
        state.simulator_richmenu_synced = True


@router.get("/richmenu")
async def resident_menu(request: Request, resident: str) -> dict[str, Any]:
    """The menu `resident` sees (their own link, else the default), or null when none."""
    await ensure_synced(request)
    standin: LineStandin = request.app.state.line_standin
    menu_id = standin.rich_menu_of(resident)
    menu = standin.rich_menu(menu_id) if menu_id else None
    if menu is None or menu_id is None:
        return {"menu": None}
    return {"menu": menu, "image": f"/simulator/api/richmenu/{menu_id}/image"}


@router.get("/richmenu/{menu_id}/image")
async def menu_image(request: Request, menu_id: str) -> Response:
    """The image the bot uploaded for a menu."""
    standin: LineStandin = request.app.state.line_standin
    image = standin.rich_menu_image(menu_id)
    if image is None:
        raise HTTPException(404, "no such rich menu image")
    content_type, data = image
    return Response(data, media_type=content_type, headers={"cache-control": "max-age=3600"})


def mount(app: Any) -> None:
    """Add these routes to the app that mounts the simulator."""
    app.state.simulator_richmenu_lock = asyncio.Lock()
    app.state.simulator_richmenu_synced = False
    app.include_router(router)
