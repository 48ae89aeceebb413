"""The period and area filters staff pages share (indicators, the council report).

Query parameters as the browser's date inputs and area picker send them; a page turns them
into dates with `day_of` and checks the area against what the caller may see.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import HTTPException, Query

# Dates from <input type=date>: empty when not chosen.
DAY = r"^(\d{4}-\d{2}-\d{2})?$"
Since = Annotated[str, Query(max_length=10, pattern=DAY)]
Until = Annotated[str, Query(max_length=10, pattern=DAY)]
AREA = r"^(city|ward:\d{1,9}|district:\d{1,9}|association:\d{1,9})$"
AreaKey = Annotated[str, Query(max_length=40, pattern=AREA)]


def day_of(value: str) -> date | None:
    """A filter's day, or None when empty; an impossible date is refused (400)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(status_code=400, detail="invalid date") from None
