"""Counts typed as residents say them."""

from __future__ import annotations

import pytest

from bot.conversation.numbers import parse_count


@pytest.mark.parametrize(
    ("typed", "count"),
    [
        ("3", 3),
        ("３", 3),
        ("3人", 3),
        ("ふたり", 2),
        ("ひとり", 1),
        ("二人", 2),
        ("三名", 3),
        ("十二", 12),
        ("二十", 20),
        ("three", 3),
        ("Two people", 2),
        (" FOUR ", 4),
        ("よにん", 4),
    ],
)
def test_counts_as_words_are_read(typed: str, count: int) -> None:
    assert parse_count(typed) == count


@pytest.mark.parametrize("typed", ["", "たくさん", "21", "二十一", "百", "three and a half", "3-4"])
def test_anything_else_is_not_a_count(typed: str) -> None:
    assert parse_count(typed) is None
