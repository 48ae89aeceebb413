"""QR codes: the oaMessage link carries the code, PNG/SVG render, the A4 poster, the CLI."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.content import load_content
from bot.db import session_scope
from bot.features.membership import join_codes, qr
from bot.settings import REPO_ROOT
from bot.simulator.line_links import parse_line_link, same_account
from tests.features.membership.join_support import seed_city

CONTENT = load_content(REPO_ROOT / "content")
CODE = "K7P2QX9M"


def test_link_opens_the_chat_with_the_code_typed_in() -> None:
    url = qr.join_url(CONTENT, "@tsunagari", CODE)
    assert url.startswith("https://line.me/R/oaMessage/@tsunagari/?")
    assert " " not in url and "#" not in url  # percent-encoded, or the fragment would be lost
    link = parse_line_link(url)
    assert same_account(link.basic_id, "@tsunagari") and link.is_message
    assert link.prefilled_text == qr.prefilled_text(CONTENT, CODE)
    assert join_codes.candidates(link.prefilled_text or "") == [(CODE, True)]


def test_liff_entry_url_carries_the_code() -> None:
    assert qr.liff_url("1234567890-AbCdEfGh", CODE) == (
        "https://liff.line.me/1234567890-AbCdEfGh?code=K7P2QX9M"
    )


def test_png_and_svg() -> None:
    url = qr.join_url(CONTENT, "@tsunagari", CODE)
    image = Image.open(io.BytesIO(qr.png_bytes(url, scale=4)))
    modules = qr.qr_code(url).symbol_size(scale=4)
    assert image.format == "PNG" and image.size == modules
    root = ET.fromstring(qr.svg_text(url))
    assert root.tag.endswith("svg")


def test_poster_has_the_code_three_languages_and_escapes_names() -> None:
    url = qr.join_url(CONTENT, "@tsunagari", CODE)
    html = qr.poster_html(CONTENT, url, CODE, qr.PosterText("<b>市民課</b> 転入窓口", "盛岡地域"))
    assert "size: A4" in html and "<svg" in html and f"#{CODE}" in html
    assert "&lt;b&gt;市民課&lt;/b&gt; 転入窓口" in html and "<b>市民課" not in html
    for locale in ("ja", "en", "ja-easy"):
        assert CONTENT.text("join.poster.title", locale) in html


def test_cli_writes_files_and_reuses_the_live_code(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_city(engine)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LINE_BOT_BASIC_ID", "@city")
    out = tmp_path / "qr"
    assert main(["qr", "--counter", "counter-morioka", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    code = first.split()[1]
    assert "(new)" in first and "https://line.me/R/oaMessage/@city/?" in first
    assert sorted(p.name for p in out.iterdir()) == [
        "counter-counter-morioka.html",
        "counter-counter-morioka.png",
        "counter-counter-morioka.svg",
    ]
    assert main(["qr", "--counter", "counter-morioka", "--out", str(out)]) == 0
    assert f"code {code} (already live)" in capsys.readouterr().out
    assert main(["qr", "--retire", code]) == 0
    assert f"{code}: retired" in capsys.readouterr().out
    assert main(["qr", "--counter", "counter-morioka", "--out", str(out)]) == 0
    replacement = capsys.readouterr().out
    assert "(new)" in replacement and replacement.split()[1] != code
    assert main(["qr", "--association", "NOPE", "--out", str(out)]) == 1
    with session_scope(engine) as session:
        row = join_codes.by_code(session, code)
        assert row is not None and row.retired_at is not None
        assert row.retired_at <= datetime.now(UTC)
