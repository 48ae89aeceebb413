"""X-Line-Signature: HMAC-SHA256 of the raw body with the channel secret, base64."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(body: bytes, channel_secret: str) -> str:
    """The signature LINE would send for `body` (used by the simulator and tests)."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_valid(body: bytes, signature: str | None, channel_secret: str) -> bool:
    """Constant-time check of a received signature; empty secrets never validate.

    Compared as bytes: a header with non-ASCII characters is simply wrong, not an error
    (`compare_digest` raises on non-ASCII text)."""
    if not signature or not channel_secret:
        return False
    sent = signature.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(sign(body, channel_secret).encode(), sent)
