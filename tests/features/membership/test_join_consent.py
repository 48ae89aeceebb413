"""The consent text: one version in every locale, scoped answers, a new version asks again."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.content import LOCALES, ContentError
from bot.core import consent
from bot.core.residents import get_or_create
from bot.db import session_scope
from bot.settings import REPO_ROOT

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def test_shipped_consent_covers_every_locale_and_both_audiences() -> None:
    text = consent.load(REPO_ROOT / "content")
    assert set(text.texts) == set(LOCALES)
    assert "役員" in text.text("ja") and "市" in text.text("ja")
    assert "counts only" in text.text("en")
    assert "データ削除" in text.text("ja-easy")


def test_versions_must_agree(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content" / "consent", copy / "consent")
    path = copy / "consent" / "en.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('version: "', 'version: "x'), encoding="utf-8"
    )
    with pytest.raises(ContentError, match="versions differ"):
        consent.load(copy)


def test_agreement_is_per_scope_and_per_version(engine: Engine) -> None:
    with session_scope(engine) as session:
        who = get_or_create(session, "U" + "a1" * 16, T0, "ja")
        assert who.id is not None
        rows = consent.record(session, who.id, agreed=True, version="v1", locale="en", now=T0)
        assert sorted(r.scope for r in rows) == ["association", "city"]
        assert consent.has_agreed(session, who.id, "v1")
        assert not consent.has_agreed(session, who.id, "v2")  # a new text is asked again
        assert consent.withdraw_all(session, who.id, T0) == 2
        assert not consent.has_agreed(session, who.id, "v1")
