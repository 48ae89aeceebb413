"""Chip labels cut at a word boundary within LINE's 20 characters; the tap shows the whole."""

from __future__ import annotations

import pytest

from bot.content import load_content
from bot.conversation.engine import Option, Say
from bot.conversation.labels import shorten
from bot.conversation.render import LABEL_LIMIT, Renderer
from bot.settings import REPO_ROOT


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("取消 ふれあい地域カフェ（サンデー）のお手伝い", "取消 ふれあい地域カフェ（サンデー）…"),
        ("ふれあい地域カフェサンデーのお手伝い募集中です", "ふれあい地域カフェサンデーのお手伝い…"),
        ("Cancel Community cafe (Sunday) helpers", "Cancel Community…"),
        ("まだ わからない", "まだ わからない"),  # fits: untouched
    ],
)
def test_labels_are_cut_between_words(text: str, short: str) -> None:
    assert shorten(text, LABEL_LIMIT) == short
    assert len(short) <= LABEL_LIMIT


def test_a_word_is_never_split_even_without_spaces() -> None:
    cut = shorten("上田一丁目町内会防災訓練受付ボランティア募集", LABEL_LIMIT).removesuffix("…")
    assert cut in ("上田一丁目町内会防災訓練受付", "上田一丁目町内会防災訓練受付ボランティア")


def test_the_chip_shows_the_short_label_and_the_bubble_the_whole() -> None:
    renderer = Renderer(load_content(REPO_ROOT / "content"))
    long = "ふれあい地域カフェ（サンデー）のお手伝いに行きます"
    message = renderer.message(Say("common.help", options=(Option("x", "a=x", label=long),)), "ja")
    action = message["quickReply"]["items"][0]["action"]
    assert action["label"] == "ふれあい地域カフェ（サンデー）…"
    assert action["displayText"] == long
