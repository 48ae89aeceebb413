"""Settings come from the environment; a bad one stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINE_", "TSUNAGARI_", "DATABASE_URL"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=60,
        cwd="/tmp",
    )


def test_malformed_database_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match="^DATABASE_URL: "):
        load_settings(_env_file=None)


def test_unknown_timezone_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSUNAGARI_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="^TSUNAGARI_TIMEZONE: "):
        load_settings(_env_file=None)


def test_postgres_scheme_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_settings(_env_file=None).database_url == "postgresql+psycopg://u@h/db"


def test_serve_without_credentials_prints_one_line() -> None:
    result = _run(["serve"])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tsunagari: configuration error: LINE_CHANNEL_SECRET is not set (needed to talk to LINE)"
    ]


def test_malformed_setting_prints_one_line_not_a_traceback() -> None:
    result = _run(["db", "upgrade"], LINE_TIMEOUT_SECONDS="soon")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "tsunagari: configuration error: LINE_TIMEOUT_SECONDS"
    )


def test_help_lists_the_commands() -> None:
    result = _run(["--help"])
    assert result.returncode == 0
    for command in ("serve", "demo", "db", "seed-demo"):
        assert command in result.stdout


def test_env_example_lists_every_setting() -> None:
    from bot.settings import REPO_ROOT, Settings

    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0].lstrip("# ").strip() for line in example.splitlines() if "=" in line
    }
    missing = [
        f.validation_alias
        for f in Settings.model_fields.values()
        if f.validation_alias not in names
    ]
    assert missing == []


def test_areas_import_loads_the_tables_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/areas.db"
    first = _run(["areas", "import"], DATABASE_URL=url)
    second = _run(["areas", "import"], DATABASE_URL=url)
    assert first.returncode == 0 and second.returncode == 0
    assert " 0 rows" not in first.stdout
    assert ": 0 rows created or changed" in second.stdout
