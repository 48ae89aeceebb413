"""Rich menus on LINE through the SDK: menus on the API host, images on the data host.

`LINE_DATA_API_BASE_URL` names the data host (api-data.line.me, or the stand-in in tests):
the SDK's blob client would otherwise always use LINE's own host for image uploads.
Also holds the per-process `Linker` that re-links a resident's menu after a role change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    RichMenuBulkLinkRequest,
    RichMenuRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from bot.platform.observability.logs import pseudonym
from bot.settings import Settings

log = logging.getLogger(__name__)

BULK_LINK_LIMIT = 500  # LINE's limit of user IDs per bulk link call


class RichMenuApi:
    """The rich-menu calls Tsunagari makes; one instance per process or command."""

    def __init__(
        self, *, host: str, data_host: str, access_token: str, timeout_s: float = 10.0
    ) -> None:
        self._client = AsyncApiClient(Configuration(host=host, access_token=access_token))
        self._data_client = AsyncApiClient(Configuration(host=data_host, access_token=access_token))
        self._api = AsyncMessagingApi(self._client)
        self._blob = AsyncMessagingApiBlob(self._data_client)
        self._timeout = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> RichMenuApi:
        """An API client for the configured hosts and token."""
        return cls(
            host=settings.line_api_base_url,
            data_host=settings.line_data_api_base_url,
            access_token=settings.line_channel_access_token.get_secret_value(),
            timeout_s=settings.line_timeout_s,
        )

    async def exists(self, rich_menu_id: str) -> bool:
        """True when LINE still has the menu (someone may have deleted it in the console)."""
        try:
            await self._api.get_rich_menu(rich_menu_id, _request_timeout=self._timeout)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def create(self, request: dict[str, Any], png: bytes) -> str:
        """Create a menu and upload its image; returns the new menu's ID."""
        created = await self._api.create_rich_menu(
            RichMenuRequest.from_dict(request), _request_timeout=self._timeout
        )
        menu_id = str(created.rich_menu_id)
        await self._blob.set_rich_menu_image(
            menu_id, png, _headers={"Content-Type": "image/png"}, _request_timeout=self._timeout
        )
        return menu_id

    async def delete(self, rich_menu_id: str) -> None:
        """Delete a menu; one already gone is fine."""
        try:
            await self._api.delete_rich_menu(rich_menu_id, _request_timeout=self._timeout)
        except ApiException as exc:
            if exc.status != 404:
                raise

    async def set_default(self, rich_menu_id: str) -> None:
        """The menu every user without their own link sees."""
        await self._api.set_default_rich_menu(rich_menu_id, _request_timeout=self._timeout)

    async def link(self, user_id: str, rich_menu_id: str) -> None:
        """Give one user their own menu."""
        await self._api.link_rich_menu_id_to_user(
            user_id, rich_menu_id, _request_timeout=self._timeout
        )

    async def unlink(self, user_id: str) -> None:
        """Back to the default menu."""
        try:
            await self._api.unlink_rich_menu_id_from_user(user_id, _request_timeout=self._timeout)
        except ApiException as exc:
            if exc.status != 404:
                raise

    async def link_many(self, user_ids: Sequence[str], rich_menu_id: str) -> None:
        """Link many users, 500 per call."""
        for start in range(0, len(user_ids), BULK_LINK_LIMIT):
            request = RichMenuBulkLinkRequest(
                richMenuId=rich_menu_id, userIds=list(user_ids[start : start + BULK_LINK_LIMIT])
            )
            await self._api.link_rich_menu_id_to_users(request, _request_timeout=self._timeout)

    async def close(self) -> None:
        """Release connections."""
        await self._client.close()
        await self._data_client.close()


MenuFor = Callable[[str], Awaitable[str | None]]  # role -> rich menu id (None: default)


class Linker:
    """Links residents' menus in the background after the transaction that changed a role."""

    def __init__(
        self, api: RichMenuApi, menu_for: MenuFor, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.api, self.menu_for = api, menu_for
        self._loop = loop or asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self, user_id: str, role: str) -> None:
        """Schedule the link on the app's loop; callable from any thread (after a commit)."""
        self._loop.call_soon_threadsafe(self._spawn, user_id, role)

    def _spawn(self, user_id: str, role: str) -> None:
        task = self._loop.create_task(self._apply(user_id, role))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply(self, user_id: str, role: str) -> None:
        try:
            menu_id = await self.menu_for(role)
            if menu_id is None:
                await self.api.unlink(user_id)
            else:
                await self.api.link(user_id, menu_id)
        except Exception:  # noqa: BLE001 - a menu link must never break event handling
            log.exception("rich menu link failed", extra={"user": pseudonym(user_id), "role": role})

    async def drain(self) -> None:
        """Wait for scheduled links (shutdown and tests)."""
        await asyncio.sleep(0)  # let requests queued with call_soon_threadsafe spawn
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


_linker: Linker | None = None


def install(linker: Linker | None) -> None:
    """Make `linker` this process's (None uninstalls)."""
    global _linker
    _linker = linker


def current() -> Linker | None:
    """This process's linker, if rich menus are set up."""
    return _linker
