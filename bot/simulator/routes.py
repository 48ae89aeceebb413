"""The simulator's page and JSON API, mounted only when ``settings.simulator_enabled``.

Every resident action becomes a webhook event shaped as LINE shapes it, signed
with the channel secret and posted over real HTTP to the bot's own /callback.
What the bot sends goes to the LINE stand-in (mounted at ``/line-standin`` in
the same app, or injected by a test), and the page reads it back from there:
the chat shows exactly what LINE received, pushes included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope
from starlette.types import Send as AsgiSend

from bot.platform.line.signature import sign
from bot.settings import Settings
from bot.simulator import webhook_events as events
from bot.simulator.line_links import UnsupportedLink, parse_line_link, same_account
from bot.simulator.scan_examples import counter_qr_links
from bot.simulator.session import SimulatorSession, VirtualResident
from bot.simulator.spec import SpecValidator, find_spec_dir
from bot.simulator.standin import LineStandin

STATIC_DIR = Path(__file__).resolve().parent / "static"
STANDIN_PREFIX = "/line-standin"
CALLBACK_TIMEOUT_S = 10.0
LONG_POLL_MAX_S = 30.0

router = APIRouter(prefix="/simulator", include_in_schema=False)
ScanExamples = Callable[[Settings], list[dict[str, str]]]


class Unprefixed:
    """Serve a mounted ASGI app as if it sat at the root.

    Starlette's ``Mount`` keeps the full path in ``scope["path"]``; the stand-in
    checks ``request.url.path`` against LINE's spec, which knows ``/v2/bot/…``,
    not ``/line-standin/v2/bot/…``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: AsgiSend) -> None:
        if scope["type"] in ("http", "websocket"):
            root, path = scope.get("root_path", ""), scope["path"]
            if root and path.startswith(root):
                path = path[len(root) :] or "/"
            scope = {**scope, "path": path, "raw_path": path.encode(), "root_path": ""}
        await self.app(scope, receive, send)


def build_standin(settings: Settings) -> LineStandin:
    """A stand-in that checks the bot's token, and LINE's spec when its folder is present."""
    spec_dir = find_spec_dir()
    token = settings.line_channel_access_token.get_secret_value()
    return LineStandin(
        spec=SpecValidator.load(spec_dir) if spec_dir else None, access_token=token or None
    )


def add_scan_examples(app: FastAPI, provider: ScanExamples) -> None:
    """Offer more links in the scan dialog (e.g. the counters' QR links from the database).

    ``provider(settings)`` returns ``[{"label": …, "url": …}]``; it runs in a worker thread.
    """
    session: SimulatorSession = app.state.simulator
    session.scan_example_providers.append(provider)


def mount_simulator(app: FastAPI, standin: LineStandin | None = None) -> None:
    """Add the LINE stand-in (``/line-standin``), the page and its API to ``app``."""
    standin = standin or build_standin(app.state.settings)
    session = SimulatorSession(standin)
    standin.add_listener(lambda _delivery: session.sync())
    app.state.line_standin, app.state.simulator = standin, session
    app.mount(STANDIN_PREFIX, Unprefixed(standin.app), name="line-standin")
    app.mount("/simulator/static", StaticFiles(directory=STATIC_DIR), name="simulator-static")
    app.include_router(router)
    add_scan_examples(
        app, lambda settings: counter_qr_links(settings, app.state.engine, app.state.content)
    )


# --- request bodies -------------------------------------------------------------


class NewResident(BaseModel):
    """A virtual resident to add; LINE reports ``language`` in the profile."""

    display_name: str | None = Field(default=None, max_length=20)
    # LINE's app languages a resident can have here (the bot maps them to ja, en, ja-easy).
    language: Literal["ja", "en", "zh-Hant", "ko", "vi"] = "ja"


class Turn(BaseModel):
    """One thing a resident does in the chat."""

    model_config = ConfigDict(populate_by_name=True)

    resident: str
    kind: Literal["text", "postback", "location", "follow", "unfollow", "sticker", "image"]
    text: str | None = Field(default=None, max_length=5000)
    data: str | None = Field(default=None, max_length=300)
    display_text: str | None = Field(default=None, alias="displayText", max_length=300)
    params: dict[str, str] | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    title: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=100)
    package_id: str | None = Field(default=None, alias="packageId")
    sticker_id: str | None = Field(default=None, alias="stickerId")

    @model_validator(mode="after")
    def _needs_its_fields(self) -> Turn:
        required = {"text": ("text",), "postback": ("data",), "location": ("latitude", "longitude")}
        missing = [f for f in required.get(self.kind, ()) if getattr(self, f) in (None, "")]
        if missing:
            raise ValueError(f"kind {self.kind!r} needs {', '.join(missing)}")
        return self


class Scan(BaseModel):
    """A QR code's link, opened by a resident's LINE app."""

    resident: str
    url: str = Field(max_length=2000)


# --- routes ---------------------------------------------------------------------


@router.get("")
async def page() -> FileResponse:
    """The phone-like chat page."""
    return FileResponse(STATIC_DIR / "simulator.html", media_type="text/html")


@router.get("/api/config")
async def config(request: Request) -> dict[str, Any]:
    """What the page needs to know about the bot it talks to, and QR links worth scanning."""
    settings: Settings = request.app.state.settings
    standin: LineStandin = request.app.state.line_standin
    examples: list[dict[str, str]] = []
    for provider in _session(request).scan_example_providers:
        examples.extend(await run_in_threadpool(provider, settings))
    return {
        "basic_id": settings.line_bot_basic_id,
        "spec_checked": standin.spec is not None,
        "scan_examples": examples,
    }


@router.get("/api/residents")
async def list_residents(request: Request) -> dict[str, Any]:
    """Every virtual resident, oldest first."""
    return {"residents": [r.to_json() for r in _session(request).residents()]}


@router.post("/api/residents", status_code=201)
async def add_resident(body: NewResident, request: Request) -> dict[str, Any]:
    """Add a resident (not yet a friend of the bot) with a LINE profile."""
    resident = _session(request).add_resident(body.display_name, body.language)
    standin: LineStandin = request.app.state.line_standin
    standin.set_profile(resident.user_id, resident.display_name, resident.language)
    return resident.to_json()


@router.post("/api/send")
async def send(body: Turn, request: Request) -> dict[str, Any]:
    """Post the event for ``body`` to /callback; the answer arrives in the transcript."""
    resident = _resident(request, body.resident)
    status = await _perform(request, resident, body)
    return {"status": status, "resident": resident.to_json()}


@router.post("/api/scan")
async def scan(body: Scan, request: Request) -> dict[str, Any]:
    """Open a QR link as the LINE app would: add the friend, then send any pre-filled text."""
    resident = _resident(request, body.resident)
    settings: Settings = request.app.state.settings
    try:
        link = parse_line_link(body.url)
    except UnsupportedLink as exc:
        raise HTTPException(400, f"unsupported link: {exc}") from None
    if not same_account(link.basic_id, settings.line_bot_basic_id):
        raise HTTPException(400, f"this link opens {link.basic_id}, not this bot")
    statuses: list[int | None] = []
    if not resident.friend:
        follow = Turn(resident=body.resident, kind="follow")
        statuses.append(await _perform(request, resident, follow))
    if link.prefilled_text:
        turn = Turn(resident=body.resident, kind="text", text=link.prefilled_text)
        statuses.append(await _perform(request, resident, turn))
    return {
        "statuses": statuses,
        "prefilled_text": link.prefilled_text,
        "resident": resident.to_json(),
    }


@router.get("/api/transcript")
async def transcript(
    request: Request,
    resident: str,
    after: int = Query(default=0, ge=0),
    wait: float = Query(default=0.0, ge=0.0, le=LONG_POLL_MAX_S),
) -> dict[str, Any]:
    """The resident's entries after ``after``; with ``wait`` > 0, a long-poll for new ones."""
    known = _resident(request, resident)
    entries = await _session(request).wait_for_entries(resident, after, wait)
    return {"resident": known.to_json(), "entries": [e.to_json() for e in entries]}


# --- turning an action into a signed webhook -------------------------------------


def _session(request: Request) -> SimulatorSession:
    session: SimulatorSession = request.app.state.simulator
    return session


def _resident(request: Request, user_id: str) -> VirtualResident:
    try:
        return _session(request).resident(user_id)
    except KeyError:
        raise HTTPException(404, "no such resident") from None


async def _perform(request: Request, resident: VirtualResident, body: Turn) -> int | None:
    """Update friendship as LINE would, build the event, post it, record both ends."""
    standin: LineStandin = request.app.state.line_standin
    unblocking = body.kind == "follow" and resident.ever_followed
    _apply_friendship(standin, resident, body.kind)
    token = None if body.kind == "unfollow" else standin.issue_reply_token(resident.user_id)
    if token:
        _session(request).note_reply_token(token, resident.user_id)
    event = _event(body, resident.user_id, token, unblocking)
    return await _post_webhook(request, resident.user_id, event, _bubble(body, unblocking))


def _apply_friendship(standin: LineStandin, resident: VirtualResident, kind: str) -> None:
    if kind == "follow":
        resident.friend, resident.blocked, resident.ever_followed = True, False, True
        standin.unblock(resident.user_id)
    elif kind == "unfollow":
        resident.friend, resident.blocked = False, True
        standin.block(resident.user_id)


def _event(body: Turn, user_id: str, token: str | None, unblocking: bool) -> dict[str, Any]:
    if body.kind == "unfollow" or token is None:
        return events.unfollow_event(user_id)
    if body.kind == "follow":
        return events.follow_event(user_id, token, unblocking)
    if body.kind == "postback":
        return events.postback_event(user_id, token, body.data or "", body.params)
    return events.message_event(user_id, token, _content(body))


def _content(body: Turn) -> dict[str, Any]:
    if body.kind == "text":
        return events.text_content(body.text or "")
    if body.kind == "location":
        return events.location_content(
            float(body.latitude or 0), float(body.longitude or 0), body.title, body.address
        )
    if body.kind == "sticker":
        sticker = events.DEFAULT_STICKER
        return events.sticker_content(
            body.package_id or sticker["packageId"],
            body.sticker_id or sticker["stickerId"],
            list(sticker["keywords"]),
        )
    return events.image_content()


def _bubble(body: Turn, unblocking: bool) -> dict[str, Any]:
    """What the resident's chat shows: a bubble (None when LINE shows nothing) and a note."""
    bubble: dict[str, Any] | None = None
    if body.kind == "text":
        bubble = {"type": "text", "text": body.text}
    elif body.kind == "postback" and body.display_text:
        bubble = {"type": "text", "text": body.display_text}
    elif body.kind == "location":
        bubble = {
            "type": "location",
            "title": body.title,
            "address": body.address,
            "latitude": body.latitude,
            "longitude": body.longitude,
        }
    elif body.kind in ("sticker", "image"):
        bubble = {"type": body.kind}
    note = "unblock" if unblocking else body.kind
    return {"event_type": body.kind, "bubble": bubble, "note": note, "params": body.params}


async def _post_webhook(
    request: Request, user_id: str, event: dict[str, Any], sent: dict[str, Any]
) -> int | None:
    """Sign and POST the webhook body to this app's own /callback, over real HTTP."""
    secret = request.app.state.settings.line_channel_secret.get_secret_value()
    raw = events.webhook_body(events.bot_destination(secret), [event])
    headers = {
        "content-type": "application/json; charset=utf-8",
        "x-line-signature": sign(raw, secret),
        "user-agent": "LineBotWebhook/2.0",
    }
    session = _session(request)
    # The webhook is recorded before posting: the reply may come back before the ack does.
    session.record(
        user_id,
        "sent",
        {**sent, "webhook": {"url": "/callback", "headers": headers, "body": json.loads(raw)}},
    )
    url = str(request.base_url).rstrip("/") + "/callback"
    status: int | None
    try:
        async with httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_S) as client:
            response = await client.post(url, content=raw, headers=headers)
        status, answer = response.status_code, response.text[:500]
    except httpx.HTTPError as exc:
        status, answer = None, f"{type(exc).__name__}: {exc}"
    session.record(user_id, "ack", {"status": status, "response": answer})
    return status
