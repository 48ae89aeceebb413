"""Membership's content checks at start-up: the poster and the application card templates."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.content import ContentError, load_content
from bot.features.membership import catalogs
from bot.features.membership.feature import FEATURE

CONTENT = Path(__file__).resolve().parents[3] / "content"


def test_the_record_checks_the_shipped_templates() -> None:
    assert catalogs.check_templates in FEATURE.catalogs
    catalogs.check_templates(load_content(CONTENT))


@pytest.mark.parametrize(
    ("name", "breakage", "expected"),
    [
        ("poster missing", lambda p: p.unlink(), r"content file missing: .*poster\.html\.j2"),
        ("poster broken", lambda p: p.write_text("{% if %}"), r"poster\.html\.j2:1: "),
    ],
)
def test_a_broken_template_is_named(
    tmp_path: Path, name: str, breakage: Callable[[Path], object], expected: str
) -> None:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    breakage(copy / "posters" / "poster.html.j2")
    with pytest.raises(ContentError, match=expected) as caught:
        catalogs.check_templates(load_content(copy))
    assert "\n" not in str(caught.value)
