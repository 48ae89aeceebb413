"""Check-in codes: unguessable, from the join codes' alphabet (no look-alikes).

Same alphabet as join codes (bot/features/membership/join_codes.py) but longer, so neither
reader mistakes one kind for the other.
"""

from __future__ import annotations

import secrets

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def new_code() -> str:
    """An unguessable check-in code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
