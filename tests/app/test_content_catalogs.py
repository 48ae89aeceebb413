"""Start-up checks of content/'s catalogs beside the messages (consent, rich menus, surveys,
volunteering): a broken file stops the app being built, with one line naming file and key."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import create_app
from bot.content import ContentError, load_content
from bot.settings import REPO_ROOT
from bot.wiring import check_catalogs
from tests.scheduler_support import settings_for

CONTENT = REPO_ROOT / "content"


def _edit(relative: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    return apply


def _write(relative: str, text: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / relative).write_text(text, encoding="utf-8")

    return apply


def _remove(relative: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / relative).unlink()

    return apply


def _menu_items(role: str, change: Callable[[list[Any]], None]) -> Callable[[Path], None]:
    return _edit("richmenu.yaml", lambda d: change(d["menus"][role]["items"]))


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "consent version differs": (
        _edit("consent/en.yaml", lambda d: d.update(version="2020-01-01")),
        r"consent/en\.yaml: key 'version': consent versions differ \('2020-01-01' here",
    ),
    "consent text missing": (
        _edit("consent/ja-easy.yaml", lambda d: d.pop("text")),
        r"consent/ja-easy\.yaml: key 'text' is missing or empty",
    ),
    "consent not YAML": (
        _write("consent/ja.yaml", "version: '1'\ntext: [unclosed\n"),
        r"consent/ja\.yaml: not valid YAML at line \d+",
    ),
    "rich menu too many tiles": (
        _menu_items("member", lambda items: items.append(items[0])),
        r"richmenu\.yaml: menus\.member\.items: must list 1-6 tiles",
    ),
    "rich menu label key unknown": (
        _menu_items("officer", lambda items: items[1].update(label="richmenu.nope")),
        r"richmenu\.yaml: menus\.officer\.items\[1\]\.label: content key 'richmenu\.nope'",
    ),
    "rich menu tile with two targets": (
        _menu_items("subscriber", lambda items: items[0].update(command="menu")),
        r"richmenu\.yaml: menus\.subscriber\.items\[0\]: needs exactly one of start",
    ),
    "rich menu unknown role": (
        _edit("richmenu.yaml", lambda d: d["menus"].update(visitor=d["menus"]["member"])),
        r"richmenu\.yaml: menus\.visitor: unknown role",
    ),
    "rich menu bad colour": (
        _edit("richmenu.yaml", lambda d: d["style"]["tiles"].__setitem__(2, "orange")),
        r"richmenu\.yaml: style\.tiles\[2\]: 'orange' is not a #RRGGBB colour",
    ),
    "disabled survey with unknown audience": (
        _edit("surveys/tokorozawa_community.yaml", lambda d: d.update(audience="neighbours")),
        r"surveys/tokorozawa_community\.yaml: key 'audience': unknown audience 'neighbours'",
    ),
    "disabled survey without questions": (
        _edit("surveys/osaka_ward_ties.yaml", lambda d: d.pop("questions")),
        r"surveys/osaka_ward_ties\.yaml: key 'questions' is missing",
    ),
    "volunteer code twice": (
        _edit("volunteer/interests.yaml", lambda d: d["interests"].append("bousai")),
        r"volunteer/interests\.yaml: key 'interests' lists 'bousai' twice",
    ),
    "volunteer code without words": (
        _edit("volunteer/interests.yaml", lambda d: d["skills"].append("knitting")),
        r"volunteer/interests\.yaml: skills code 'knitting' has no words: add "
        r"'volunteer\.skills\.knitting'",
    ),
    "volunteer catalog missing": (
        _remove("volunteer/interests.yaml"),
        r"content file missing: .*volunteer/interests\.yaml",
    ),
}


def _broken_copy(tmp_path: Path, breakage: Callable[[Path], None]) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    breakage(copy)
    return copy


def test_the_shipped_catalogs_pass() -> None:
    check_catalogs(load_content(CONTENT))


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_catalog_stops_start_up_naming_file_and_key(tmp_path: Path, case: str) -> None:
    breakage, expected = BROKEN[case]
    copy = _broken_copy(tmp_path, breakage)
    with pytest.raises(ContentError) as caught:
        create_app(settings_for(f"sqlite:///{tmp_path}/t.db", content_dir=copy))
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(expected, message), message


def test_serve_prints_the_catalog_fault_in_one_line(tmp_path: Path) -> None:
    breakage, _ = BROKEN["rich menu label key unknown"]
    copy = _broken_copy(tmp_path, breakage)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINE_", "TSUNAGARI_", "DATABASE_URL"))
    }
    env.update(
        LINE_CHANNEL_SECRET="s",
        LINE_CHANNEL_ACCESS_TOKEN="t",
        # A stand-in on this machine: LINE's own hosts would make it production, whose
        # secrets are checked first.
        LINE_API_BASE_URL="http://127.0.0.1:9",
        LINE_DATA_API_BASE_URL="http://127.0.0.1:9",
        TSUNAGARI_CONTENT_DIR=str(copy),
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
        TSUNAGARI_AUTO_MIGRATE="false",
        LOG_FORMAT="text",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd="/tmp",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(
        r"tsunagari: configuration error: .*richmenu\.yaml: "
        r"menus\.officer\.items\[1\]\.label: content key 'richmenu\.nope'",
        lines[0],
    )
