"""Production is decided by what is configured: LINE's hosts or a public URL make it so, and
then every secret must be set, long and unpublished, and the simulator never mounts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings, SettingsError, is_line_host
from bot.simulator.demo import run_demo

# Long random-looking values, as an operator would set them.
GOOD = {
    "line_channel_secret": "5f0c1b2a3d4e5f60718293a4b5c6d7e8",
    "line_channel_access_token": "k" * 170,
    "staff_session_secret": "s3ss10n-" + "a1b2c3d4" * 5,
    "survey_token_secret": "surv3y-" + "e5f6a7b8" * 5,
    "pseudonym_salt": "p5eud0-" + "c9d0e1f2" * 5,
}
LOCAL = "http://127.0.0.1:9"


def settings(tmp_path: Path, **values: Any) -> Settings:
    """Explicit settings (never the developer's .env) on a throw-away SQLite file."""
    base: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'x.db'}",
        "line_api_base_url": LOCAL,
        "line_data_api_base_url": LOCAL,
        "log_format": "text",
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "production"),
    [
        ({}, False),  # everything on this machine: development
        ({"public_base_url": "http://localhost:8000"}, False),
        ({"environment": "prod"}, True),
        ({"line_api_base_url": "https://api.line.me"}, True),
        ({"line_api_base_url": "https://API.LINE.ME"}, True),
        ({"line_api_base_url": "https://api.line.me:443"}, True),
        ({"line_api_base_url": "https://api.line.me./"}, True),
        ({"line_data_api_base_url": "https://api-data.line.me"}, True),
        ({"line_api_base_url": "http://10.0.0.5:8080"}, True),  # not this machine
        ({"public_base_url": "https://tsunagari.city.example.jp"}, True),
    ],
)
def test_production_is_decided_by_what_is_configured(
    tmp_path: Path, values: dict[str, Any], production: bool
) -> None:
    assert settings(tmp_path, **values).is_production is production


@pytest.mark.parametrize(
    "url",
    [
        "https://api.line.me",
        "https://API.LINE.ME",
        "https://api.line.me:443",
        "https://api.line.me./",
    ],
)
def test_line_hosts_are_recognised_by_parsed_hostname(url: str) -> None:
    assert is_line_host(url)
    assert not is_line_host("https://line.me.example.org")
    assert not is_line_host("http://127.0.0.1:9/line.me")


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("staff_session_secret", None, "TSUNAGARI_SESSION_SECRET"),  # the published default
        ("staff_session_secret", "short-but-set", "TSUNAGARI_SESSION_SECRET"),
        ("staff_session_secret", "dev-only-change-me", "TSUNAGARI_SESSION_SECRET"),
        ("survey_token_secret", None, "TSUNAGARI_SURVEY_SECRET"),
        ("pseudonym_salt", None, "TSUNAGARI_PSEUDONYM_SALT"),
        ("pseudonym_salt", GOOD["staff_session_secret"], "TSUNAGARI_PSEUDONYM_SALT"),  # reused
        ("line_channel_secret", None, "LINE_CHANNEL_SECRET"),
        ("metrics_token", "tiny", "TSUNAGARI_METRICS_TOKEN"),
    ],
)
def test_real_line_with_a_weak_secret_stops_start_up_naming_it(
    tmp_path: Path, setting: str, value: str | None, named: str
) -> None:
    values: dict[str, Any] = {**GOOD, "line_api_base_url": "https://api.line.me:443"}
    if value is None:
        values.pop(setting)
    else:
        values[setting] = value
    with pytest.raises(SettingsError, match=f"^{named} "):
        create_app(settings(tmp_path, **values))


def test_the_development_session_secret_cannot_sign_a_production_cookie(tmp_path: Path) -> None:
    # The finding: with real LINE credentials and TSUNAGARI_ENV left at dev, the public
    # secret was accepted and a cookie signed with it opened /staff/accounts.
    with pytest.raises(SettingsError, match="TSUNAGARI_SESSION_SECRET"):
        create_app(
            settings(
                tmp_path,
                **{**GOOD, "staff_session_secret": "dev-only-change-me"},
                line_api_base_url="https://api.line.me",
            )
        )


def test_production_with_strong_secrets_starts_without_docs_and_with_hsts(tmp_path: Path) -> None:
    app = create_app(
        settings(tmp_path, **GOOD, public_base_url="https://tsunagari.city.example.jp")
    )
    http = TestClient(app, base_url="http://testserver", follow_redirects=False)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert http.get(path).status_code == 404, path
    login = http.get("/staff/login")
    assert login.status_code == 200
    assert login.headers["strict-transport-security"].startswith("max-age=")
    cookie = login.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_development_keeps_docs_and_sends_no_hsts(tmp_path: Path) -> None:
    http = TestClient(create_app(settings(tmp_path)), base_url="http://testserver")
    assert http.get("/openapi.json").status_code == 200
    login = http.get("/staff/login")
    assert "strict-transport-security" not in login.headers
    assert "Secure" not in login.headers["set-cookie"]


@pytest.mark.parametrize(
    "line_url",
    [
        "https://api.line.me:443",
        "https://API.LINE.ME",
        "https://api.line.me./",
        "https://x.line.me",
    ],
)
def test_simulator_never_mounts_beside_line(tmp_path: Path, line_url: str) -> None:
    # The finding: these spellings passed an exact-string guard, and an anonymous POST
    # /simulator/api/residents answered 201 and posted webhooks signed with the real secret.
    with pytest.raises(SettingsError, match="^TSUNAGARI_SIMULATOR"):
        create_app(settings(tmp_path, **GOOD, line_api_base_url=line_url, simulator_enabled=True))


def test_simulator_on_loopback_mounts(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, simulator_enabled=True))
    assert any(getattr(r, "path", "").startswith("/simulator") for r in app.routes)


def test_demo_refuses_to_listen_beyond_this_machine() -> None:
    with pytest.raises(SettingsError, match="--host 0.0.0.0"):
        run_demo("0.0.0.0", 8000)


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


def test_serve_with_real_credentials_and_default_secrets_prints_one_line() -> None:
    result = _run(
        ["serve"],
        LINE_CHANNEL_SECRET=GOOD["line_channel_secret"],
        LINE_CHANNEL_ACCESS_TOKEN=GOOD["line_channel_access_token"],
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tsunagari: configuration error: TSUNAGARI_SESSION_SECRET must be set to 32+ random "
        "characters in production"
    ]
