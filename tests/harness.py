"""The one test harness: the bot served over real HTTP against the LINE stand-in, and a
resident who says things, taps chips and buttons, and reads what came back.

    bot.say(ALICE, "入会")                 # types, and waits until the bot has answered
    bot.tap(ALICE, "はい")                 # taps the chip or button with that label
    bot.press(ALICE, RsvpTap(7, "going").encode())   # a postback as the data says
    bot.deliver()                         # the real sender sends what the outbox holds
    bot.last(ALICE)                       # the newest message ALICE received

Tests without a bot deliver with `deliver(engine, standin, settings, now)`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from bot.clock import FixedClock
from bot.conversation import postback
from bot.simulator.standin import LineStandin
from tests.delivery_support import sender_for
from tests.factories import body, postback_event, signed_headers, text_event

SECRET = "test-channel-secret"


def postback_data(action: str, **fields: str | int) -> str:
    """Postback data as any button might carry it (for stale and forged taps)."""
    return postback.encode(a=action, **fields)


def deliver(engine: Engine, standin: Any, settings: Any, now: datetime | None = None) -> int:
    """Run the real delivery sender against the stand-in until nothing is due (at `now`)."""

    async def run() -> int:
        extra = {"clock": FixedClock(now)} if now is not None else {}
        sender = sender_for(engine, standin, settings, **extra)
        try:
            return await sender.send_due()
        finally:
            await sender.gateway.close()  # type: ignore[attr-defined]

    return asyncio.run(run())


def clocked_bot(bot_factory: Any, clock: FixedClock) -> Any:
    """The bot over HTTP with a clock the test moves."""
    from bot.app import Overrides

    return bot_factory(Overrides(clock=clock))


def text_of(message: dict[str, Any]) -> str:
    """What a message says: its text, or a flex message's alternative text."""
    return str(message.get("text") or message.get("altText") or "")


def chips(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Quick-reply actions of a message by label."""
    items = (message.get("quickReply") or {}).get("items", [])
    return {item["action"]["label"]: item["action"] for item in items}


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Postback buttons anywhere in a flex message, by label."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            action = node.get("action")
            if node.get("type") == "button" and isinstance(action, dict):
                found[action["label"]] = action
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("contents"))
    return found


class BotHarness:
    """The bot served over HTTP, with helpers to post signed webhooks and wait for processing."""

    def __init__(self, app: Any, url: str, standin: LineStandin) -> None:
        self.app, self.url, self.standin = app, url, standin
        self.http = httpx.Client(base_url=url, timeout=10)

    def post(self, *events: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        """Post events as LINE would, issuing a live reply token for each that carries one."""
        for event in events:
            if "replyToken" in event:
                event["replyToken"] = self.standin.issue_reply_token(event["source"]["userId"])
        raw = body(*events)
        return self.http.post("/callback", content=raw, headers=signed_headers(raw, secret))

    def post_raw(self, raw: bytes, headers: dict[str, str]) -> httpx.Response:
        """Post bytes as they are (for bad signatures and malformed bodies)."""
        return self.http.post("/callback", content=raw, headers=headers)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until the bot has handled and answered everything it acknowledged."""
        loop: asyncio.AbstractEventLoop = self.app.state.loop
        asyncio.run_coroutine_threadsafe(self.app.state.processor.drain(timeout), loop).result(
            timeout + 1
        )

    def texts_to(self, user_id: str) -> list[str]:
        """Texts (and flex alt texts) the resident has received, in order."""
        out = []
        for message in self.standin.messages_to(user_id):
            out.append(message.get("text") or message.get("altText") or message.get("type"))
        return out

    def say(self, user: str, text: str) -> None:
        """The resident types `text` and the bot answers."""
        assert self.post(text_event(user, text)).status_code == 200
        self.drain()

    def press(self, user: str, data: str) -> None:
        """The resident's LINE sends a postback carrying `data`; the bot answers."""
        assert self.post(postback_event(user, data)).status_code == 200
        self.drain()

    def tap(self, user: str, label: str, message: dict[str, Any] | None = None) -> None:
        """The resident taps the chip or button labelled `label` on the newest message
        holding it (or on `message`)."""
        candidates = [message] if message else reversed(self.standin.messages_to(user))
        for candidate in candidates:
            action = chips(candidate).get(label) or buttons(candidate).get(label)
            if action is not None:
                assert action["type"] == "postback", action
                self.press(user, action["data"])
                return
        raise AssertionError(f"no chip or button {label!r} was sent to {user}")

    def last(self, user: str) -> dict[str, Any]:
        """The newest message the resident received."""
        return self.standin.messages_to(user)[-1]

    def deliver(self, now: datetime | None = None) -> int:
        """Send what the outbox holds through the real sender, on the bot's clock."""
        state = self.app.state
        return deliver(state.engine, self.standin, state.settings, now or state.clock.now())
