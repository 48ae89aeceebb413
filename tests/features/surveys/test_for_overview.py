"""The overview's judgement of an indicator against its target uses the 95% interval shown,
not the point alone (worked out by hand against target 56.5)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.features.surveys.for_overview import status


def _ref(target: float | None) -> Any:
    figure = None if target is None else SimpleNamespace(value=target)
    return SimpleNamespace(indicator=SimpleNamespace(target=figure))


@pytest.mark.parametrize(
    ("shown", "target", "expected"),
    [
        ("56.5–70.0", 56.5, "met"),  # the lower end on the target counts as reached
        ("30.1–75.2", 56.5, "unclear"),  # 8 of 15: the target inside the interval
        ("40.0–56.4", 56.5, "short"),
        ("40.0–56.5", 56.5, "unclear"),
        ("40.0–50.0", None, "none"),
        (None, 56.5, "hidden"),
        ("", 56.5, "hidden"),
    ],
)
def test_status_against_the_target(shown: str | None, target: float | None, expected: str) -> None:
    assert status(_ref(target), shown) == expected
