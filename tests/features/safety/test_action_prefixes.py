"""No two features register a postback action under the same prefix: a second registration
raises when the registry is built (it used to replace the first silently, and the safety
checks' list once took the surveys' answers)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from bot.conversation.actions import Action
from bot.conversation.registry import DuplicateAction, Registry
from bot.wiring import build_registry


def test_every_action_prefix_is_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: Counter[str] = Counter()
    original = Registry.on

    def counting(self: Registry, action: Any, handler: Any) -> None:
        seen[action.PREFIX] += 1
        original(self, action, handler)

    monkeypatch.setattr(Registry, "on", counting)
    registry = build_registry()
    assert {"sfa", "sfl", "mh"} <= set(seen)
    assert [p for p, n in seen.items() if n > 1] == []
    assert set(registry.actions) == set(seen)


@dataclass(frozen=True)
class _First(Action, prefix="zzdup"):
    """A test action."""


@dataclass(frozen=True)
class _Second(Action, prefix="zzdup"):
    """Another test action under the same prefix."""


def test_a_prefix_registered_twice_raises_and_keeps_the_first() -> None:
    registry = Registry()
    registry.on(_First, lambda ctx, tap: [])
    first = registry.actions["zzdup"]
    with pytest.raises(DuplicateAction, match="zzdup"):
        registry.on(_Second, lambda ctx, tap: [])
    assert registry.actions["zzdup"] is first
