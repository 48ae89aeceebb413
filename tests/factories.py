"""Webhook events as LINE sends them, and signed bodies (the real HMAC, never switched off)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bot.platform.line.signature import sign


def _base(
    event_type: str, user_id: str, *, redelivery: bool = False, **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": event_type,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    event.update(extra)
    return event


def _token() -> str:
    return uuid.uuid4().hex


def text_event(user_id: str, text: str, *, reply_token: str | None = None) -> dict[str, Any]:
    """A text message event."""
    message = {
        "type": "text",
        "id": str(uuid.uuid4().int)[:18],
        "text": text,
        "quoteToken": _token(),
    }
    return _base("message", user_id, replyToken=reply_token or _token(), message=message)


def sticker_event(user_id: str, *, reply_token: str | None = None) -> dict[str, Any]:
    """A sticker, sent where the bot expected words."""
    message = {
        "type": "sticker",
        "id": str(uuid.uuid4().int)[:18],
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
        "quoteToken": _token(),
    }
    return _base("message", user_id, replyToken=reply_token or _token(), message=message)


def location_event(
    user_id: str, lat: float, lon: float, *, reply_token: str | None = None
) -> dict[str, Any]:
    """A location message."""
    message = {
        "type": "location",
        "id": str(uuid.uuid4().int)[:18],
        "latitude": lat,
        "longitude": lon,
        "address": "岩手県盛岡市",
    }
    return _base("message", user_id, replyToken=reply_token or _token(), message=message)


def postback_event(
    user_id: str, data: str, *, reply_token: str | None = None, params: dict[str, str] | None = None
) -> dict[str, Any]:
    """A postback from a button or quick-reply chip."""
    postback: dict[str, Any] = {"data": data}
    if params:
        postback["params"] = params
    return _base("postback", user_id, replyToken=reply_token or _token(), postback=postback)


def follow_event(
    user_id: str, *, unblocked: bool = False, reply_token: str | None = None
) -> dict[str, Any]:
    """A follow (friend added) or unblock."""
    return _base(
        "follow", user_id, replyToken=reply_token or _token(), follow={"isUnblocked": unblocked}
    )


def unfollow_event(user_id: str) -> dict[str, Any]:
    """The resident blocked the bot."""
    return _base("unfollow", user_id)


def body(*events: dict[str, Any], destination: str = "Ubot0000000000000000000000000000") -> bytes:
    """A webhook request body."""
    return json.dumps(
        {"destination": destination, "events": list(events)}, ensure_ascii=False
    ).encode()


def signed_headers(raw: bytes, secret: str) -> dict[str, str]:
    """Headers LINE would send with `raw`."""
    return {"content-type": "application/json", "x-line-signature": sign(raw, secret)}
