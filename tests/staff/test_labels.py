"""Issue 16: every code a staff page can show has words in content/staff (ja and en): audit
actions and their target kinds, contact methods, funnel sources, officer states."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.features.membership.models import JoinCodeKind
from bot.settings import REPO_ROOT
from bot.staff.i18n import translators


def _audited() -> tuple[set[str], set[str]]:
    """Every action and target type passed to audit.record in bot/ (and the notices'
    `_decided` helper, which passes its action through)."""
    actions: set[str] = set()
    targets: set[str] = set()
    for path in (REPO_ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name == "audit.record":
                for keyword in node.keywords:
                    found = {
                        c.value
                        for c in ast.walk(keyword.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    }
                    if keyword.arg == "action":
                        actions |= found
                    elif keyword.arg == "target_type":
                        targets |= found
            elif name == "_decided" and node.args and isinstance(node.args[-1], ast.Constant):
                actions.add(str(node.args[-1].value))
    return actions, targets


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_code_shown_to_staff_has_words(locale: str) -> None:
    t = translators(Path(REPO_ROOT / "content"))[locale]
    actions, targets = _audited()
    assert {"login", "approve", "notice_sent", "officer_link_code"} <= actions
    for action in sorted(actions):
        assert t(f"audit_action.{action}") != action
    for target in sorted(targets):
        t(f"audit_target.{target}")
    for method in ("line", "phone", "visit"):
        t(f"contact.{method}")
    for kind in [*JoinCodeKind, "none"]:
        assert t(f"source_kind.{kind}") != kind
    for state in ("linked", "none"):
        t(f"officer_state.{state}")
