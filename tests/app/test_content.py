"""Content lint: every key in every locale, same placeholders, labels within LINE's limits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.content import LOCALES, ContentError, load_content
from bot.conversation.engine import Step
from bot.settings import REPO_ROOT
from bot.wiring import build_registry

CONTENT = REPO_ROOT / "content"


def test_shipped_content_loads() -> None:
    content = load_content(CONTENT)
    assert content.text("common.too_long", "en", limit=5).endswith("5 characters.")


def test_missing_key_in_a_locale_fails_startup(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    en = yaml.safe_load((copy / "messages" / "en" / "common.yaml").read_text(encoding="utf-8"))
    del en["common"]["greeting"]
    (copy / "messages" / "en" / "common.yaml").write_text(
        yaml.safe_dump(en, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(ContentError, match="'en' is missing key 'common.greeting'"):
        load_content(copy)


def test_placeholder_mismatch_fails(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    path = copy / "messages" / "ja-easy" / "common.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["common"]["too_long"] = "ながすぎます {limits}"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match="too_long"):
        load_content(copy)


def _step_keys(step: Step) -> list[str]:
    keys = [step.prompt]
    if step.help_key:
        keys.append(step.help_key)
    if not callable(step.options):
        keys.extend(o.label_key for o in step.options if not o.label)
    return keys


def test_every_key_flows_use_exists_and_labels_fit() -> None:
    content = load_content(CONTENT)
    registry = build_registry()
    for flow in registry.flows.values():
        for step in flow.steps:
            for key in _step_keys(step):
                assert content.has(key), f"{flow.name}.{step.name} uses missing key {key}"
            if not callable(step.options):
                assert len(step.options) <= 13
                for option in step.options:
                    for locale in LOCALES:
                        label = content.text(option.label_key, locale)
                        assert len(label) <= 20, f"{locale}:{option.label_key} too long"


def test_menu_labels_exist_and_fit() -> None:
    content = load_content(CONTENT)
    menu = yaml.safe_load((CONTENT / "menu.yaml").read_text(encoding="utf-8"))["main"]
    assert 1 <= len(menu) <= 13
    for entry in menu:
        for locale in LOCALES:
            assert len(content.text(entry["label"], locale)) <= 20
