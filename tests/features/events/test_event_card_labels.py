"""Issue 16: the event card shows its category in words in every resident language, and an
unknown code (an old row, a hand-edited import such as 'disaster_drill') reads as the
generic word, never raw."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.content import load_content
from bot.conversation.render import Renderer
from bot.features.events.messages import event_card_say
from bot.features.events.models import Event
from bot.settings import REPO_ROOT

CONTENT = load_content(REPO_ROOT / "content")
START = datetime(2026, 9, 6, 1, tzinfo=UTC)


def _card(category: str, locale: str) -> str:
    event = Event(
        id=7,
        association_id=1,
        title="秋の訓練",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        category=category,
    )
    say = event_card_say(event, CONTENT, locale, "https://example.org")
    return json.dumps(Renderer(CONTENT).messages([say], locale), ensure_ascii=False)


@pytest.mark.parametrize("locale", ["ja", "en", "ja-easy"])
def test_the_card_names_its_category_in_words(locale: str) -> None:
    card = _card("drill", locale)
    assert CONTENT.text("events.categories.drill", locale) in card
    assert '"drill"' not in card and "drill<" not in card


@pytest.mark.parametrize("locale", ["ja", "en", "ja-easy"])
def test_an_unknown_category_code_never_reaches_the_card(locale: str) -> None:
    card = _card("disaster_drill", locale)
    assert "disaster_drill" not in card
    assert CONTENT.text("events.categories.other", locale) in card
