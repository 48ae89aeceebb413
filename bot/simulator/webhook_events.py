"""Webhook events shaped exactly as the LINE platform sends them (webhook.yml).

Each builder returns one event object; ``webhook_body`` wraps events with the
bot's ``destination`` and serialises them the way LINE does (UTF-8, compact),
so the signature is computed over the very bytes that are posted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# A free sticker from LINE's "Brown & Cony" package, as the LINE app would send it.
DEFAULT_STICKER: dict[str, Any] = {
    "packageId": "446",
    "stickerId": "1988",
    "keywords": ["Happy", "Smile"],
}


def now_ms() -> int:
    """The current time in epoch milliseconds, as webhook timestamps are."""
    return int(time.time() * 1000)


def ulid(at_ms: int | None = None) -> str:
    """A ULID (26 Crockford base-32 characters), the format of ``webhookEventId``."""
    value = ((at_ms if at_ms is not None else now_ms()) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def message_id() -> str:
    """An 18-digit message ID like LINE's."""
    return str(secrets.randbelow(9 * 10**17) + 10**17)


def bot_destination(channel_secret: str) -> str:
    """A stable ``U…`` user ID for the bot, derived from the channel secret."""
    return "U" + hashlib.sha256(b"tsunagari-simulator:" + channel_secret.encode()).hexdigest()[:32]


def base_event(event_type: str, user_id: str, reply_token: str | None) -> dict[str, Any]:
    """The fields every event from a one-to-one chat carries."""
    at = now_ms()
    event: dict[str, Any] = {
        "type": event_type,
        "mode": "active",
        "timestamp": at,
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": ulid(at),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    return event


def message_event(user_id: str, reply_token: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """A message event around a message content (see the ``*_content`` builders)."""
    event = base_event("message", user_id, reply_token)
    event["message"] = {"id": message_id(), **content, "markAsReadToken": secrets.token_hex(16)}
    return event


def text_content(text: str) -> dict[str, Any]:
    """A text message as typed."""
    return {"type": "text", "text": text, "quoteToken": secrets.token_urlsafe(24)}


def sticker_content(package_id: str, sticker_id: str, keywords: list[str]) -> dict[str, Any]:
    """A sticker from the sticker keyboard."""
    return {
        "type": "sticker",
        "packageId": package_id,
        "stickerId": sticker_id,
        "stickerResourceType": "STATIC",
        "keywords": keywords,
        "quoteToken": secrets.token_urlsafe(24),
    }


def image_content() -> dict[str, Any]:
    """A photo from the camera or the camera roll, stored on LINE's side."""
    return {
        "type": "image",
        "contentProvider": {"type": "line"},
        "quoteToken": secrets.token_urlsafe(24),
    }


def location_content(
    latitude: float, longitude: float, title: str | None, address: str | None
) -> dict[str, Any]:
    """A location picked on the map; ``title`` and ``address`` are optional, as in LINE."""
    content: dict[str, Any] = {"type": "location", "latitude": latitude, "longitude": longitude}
    if title:
        content["title"] = title
    if address:
        content["address"] = address
    return content


def postback_event(
    user_id: str, reply_token: str, data: str, params: Mapping[str, str] | None
) -> dict[str, Any]:
    """A tap on a postback or date-time picker action."""
    event = base_event("postback", user_id, reply_token)
    event["postback"] = {"data": data, **({"params": dict(params)} if params else {})}
    return event


def follow_event(user_id: str, reply_token: str, unblocked: bool) -> dict[str, Any]:
    """Friend added, or unblocked (``isUnblocked``)."""
    event = base_event("follow", user_id, reply_token)
    event["follow"] = {"isUnblocked": unblocked}
    return event


def unfollow_event(user_id: str) -> dict[str, Any]:
    """The resident blocked the account; LINE sends no reply token."""
    return base_event("unfollow", user_id, None)


def webhook_body(destination: str, events: list[dict[str, Any]]) -> bytes:
    """The raw request body LINE posts to the webhook URL."""
    payload = {"destination": destination, "events": events}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
