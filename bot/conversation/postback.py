"""Postback data: a short query string (`f=join&s=ward&v=3`), parsed once, under 300 chars."""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote_plus

POSTBACK_DATA_LIMIT = 300
# What quote_plus leaves as it is: most keys and values (`a`, `sfp`, `42`) need no quoting.
_UNQUOTED = frozenset(string.ascii_letters + string.digits + "_.-~")


def encode(**fields: str | int) -> str:
    """Build postback data (as urlencode would); refuses what LINE would refuse."""
    data = "&".join(f"{_quoted(k)}={_quoted(str(v))}" for k, v in fields.items())
    if len(data) > POSTBACK_DATA_LIMIT:
        raise ValueError(f"postback data of {len(data)} chars exceeds {POSTBACK_DATA_LIMIT}")
    return data


def _quoted(text: str) -> str:
    # urlencode quoted every key and value: a seventh of a surge batch's time.
    return text if _UNQUOTED.issuperset(text) else quote_plus(text)


def decode(data: str) -> Mapping[str, str]:
    """Parse postback data; garbage yields an empty mapping rather than an error."""
    try:
        return dict(parse_qsl(data, keep_blank_values=True, max_num_fields=20))
    except ValueError:
        return {}
