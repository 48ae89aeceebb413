"""One-time form tokens: a form that creates something carries a fresh token, and the record
it creates stores it (a unique column), so a double submit or a back-and-resubmit finds the
record the first submit made instead of creating a second one.

The token is not a secret (the CSRF token guards the form): it only names one filling-in.
"""

from __future__ import annotations

import re
import secrets

TOKEN_FIELD = "form_token"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,48}")


def new_token() -> str:
    """A fresh token for one rendering of a create form."""
    return secrets.token_urlsafe(18)


def posted_token(raw: object) -> str | None:
    """The token a form posted, or None when absent or malformed (then nothing is deduplicated:
    an old page without a token still works, once per submit)."""
    text = str(raw or "").strip()
    return text if _SHAPE.fullmatch(text) else None
