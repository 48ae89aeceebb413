"""Typing what a menu shows works like tapping it, in every language.

For a member in ja, en and ja-easy: every chip of the main menu and every tile of the
member's rich menu is tapped (its postback), then its label is typed; the bot answers both
the same way. Before this, typing 「わたしの出欠」 or 「アンケート」 got 「よくわかりませんでした」.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.content import Content
from bot.conversation import richmenu_file
from bot.conversation.menu import entry_postback, menu_words, normalise_label
from bot.settings import REPO_ROOT
from tests.builders import add_member, make_area, uid
from tests.harness import chips, text_of

LOCALES = ("ja", "en", "ja-easy")


def _answer(bot: Any, user: str, act: Any) -> list[dict[str, Any]]:
    """What the bot replies to one act, starting from no conversation in progress."""
    bot.say(user, "キャンセル")
    before = len(bot.standin.messages_to(user))
    act()
    return bot.standin.messages_to(user)[before:]


def _tiles(content: Content) -> list[tuple[str, str]]:
    """(label key, postback data) of the member's rich menu tiles."""
    raw = richmenu_file.read(content)
    return [(str(item["label"]), entry_postback(item)) for item in raw["menus"]["member"]["items"]]


@pytest.mark.parametrize("locale", LOCALES)
def test_typing_a_menu_label_answers_as_tapping_it(
    bot: Any, engine: Any, locale: str, content: Content
) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "hanako", locale=locale)
    user = uid("hanako")
    bot.say(user, "メニュー")
    menu = chips(bot.last(user))
    assert len(menu) >= 6, menu
    targets = [(label, action["data"]) for label, action in menu.items()]
    targets += [(content.text(key, locale), data) for key, data in _tiles(content)]
    for label, data in targets:
        tapped = _answer(bot, user, lambda d=data: bot.press(user, d))
        typed = _answer(bot, user, lambda t=label: bot.say(user, t))
        assert tapped, label
        assert typed == tapped, f"typing {label!r} ≠ tapping it: {[text_of(m) for m in typed]}"
        not_understood = content.text("menu.not_understood", locale)
        assert all(text_of(m) != not_understood for m in typed), label


def test_the_usability_tests_words_now_work(bot: Any, engine: Any, content: Content) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "hanako")
    user = uid("hanako")
    for typed in ("わたしの出欠", "アンケート", " わたしの 出欠 ", "ＭＹ ＥＶＥＮＴＳ"):
        before = len(bot.standin.messages_to(user))
        bot.say(user, typed)
        replies = [text_of(m) for m in bot.standin.messages_to(user)[before:]]
        assert content.text("menu.not_understood") not in replies, typed


def test_every_label_names_one_target(content: Content) -> None:
    words = menu_words(content)
    assert words[normalise_label("わたしの出欠")] == words[normalise_label("申込んだ行事")]
    assert words[normalise_label("My events")] == words[normalise_label("わたしの出欠")]
    assert normalise_label("わたしの 町内会") == normalise_label("わたしの町内会")


@pytest.fixture(scope="module")
def content() -> Content:
    """The bot's texts, to find what each menu shows."""
    from bot.content import load_content

    return load_content(REPO_ROOT / "content")
