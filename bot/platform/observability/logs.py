"""Structured JSON logs, and pseudonyms so a resident can be followed in logs but not named."""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_salt = b"tsunagari-dev-salt"


def configure_logging(level: str = "INFO", fmt: str = "json", salt: str | None = None) -> None:
    """Send logs to stderr as JSON lines (or plain text for a developer's terminal)."""
    global _salt
    if salt:
        _salt = salt.encode()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def pseudonym(line_user_id: str | None) -> str:
    """A stable, keyed, non-reversible tag for a LINE user ID, safe to log."""
    if not line_user_id:
        return "-"
    return "u_" + hmac.new(_salt, line_user_id.encode(), hashlib.sha256).hexdigest()[:12]
