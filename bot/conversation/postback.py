"""Postback data: a short query string (`f=join&s=ward&v=3`), parsed once, under 300 chars."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

POSTBACK_DATA_LIMIT = 300


def encode(**fields: str | int) -> str:
    """Build postback data; refuses what LINE would refuse."""
    data = urlencode({k: str(v) for k, v in fields.items()})
    if len(data) > POSTBACK_DATA_LIMIT:
        raise ValueError(f"postback data of {len(data)} chars exceeds {POSTBACK_DATA_LIMIT}")
    return data


def decode(data: str) -> Mapping[str, str]:
    """Parse postback data; garbage yields an empty mapping rather than an error."""
    try:
        return dict(parse_qsl(data, keep_blank_values=True, max_num_fields=20))
    except ValueError:
        return {}
