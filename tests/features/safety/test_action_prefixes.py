"""No two features register a postback action under the same prefix (a second registration
silently replaced the first: the safety checks' list once took the surveys' answers)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bot.conversation.registry import Registry
from bot.wiring import build_registry


def test_every_action_prefix_is_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: Counter[str] = Counter()
    original = Registry.on

    def counting(self: Registry, action: Any, handler: Any) -> None:
        seen[action.PREFIX] += 1
        original(self, action, handler)

    monkeypatch.setattr(Registry, "on", counting)
    build_registry()
    assert {"sfa", "sfl", "mh"} <= set(seen)
    assert [p for p, n in seen.items() if n > 1] == []
