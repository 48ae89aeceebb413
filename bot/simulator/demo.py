"""`tsunagari demo`: the whole bot in one process, with the LINE simulator standing in for LINE.

Embedded defaults (a SQLite file under var/, a demo channel secret and token,
the LINE stand-in mounted at ``/line-standin`` of the same server) replace
anything LINE-related, and the demo refuses to start when real LINE
credentials or hosts are configured: the simulator never runs beside LINE.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import uvicorn

from bot.settings import (
    REPO_ROOT,
    Settings,
    SettingsError,
    is_line_host,
    is_loopback_host,
    load_settings,
)

DEMO_CHANNEL_SECRET = "demo-channel-secret-not-for-line"
DEMO_ACCESS_TOKEN = "demo-channel-access-token-not-for-line"
DEMO_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'demo.db'}"
STANDIN_PATH = "/line-standin"
SHUTDOWN_GRACE_S = 3
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def local_base_url(host: str, port: int) -> str:
    """The URL this machine reaches the server at (a wildcard bind means loopback)."""
    reachable = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    if ":" in reachable:  # an IPv6 literal needs brackets in a URL
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


def refuse_real_line(configured: Settings) -> None:
    """SettingsError when LINE credentials or LINE's own hosts are configured."""
    set_fields = configured.model_fields_set
    for field, variable in (
        ("line_channel_secret", "LINE_CHANNEL_SECRET"),
        ("line_channel_access_token", "LINE_CHANNEL_ACCESS_TOKEN"),
    ):
        if getattr(configured, field).get_secret_value():
            raise SettingsError(
                f"{variable} is set; `tsunagari demo` never runs beside real LINE credentials "
                "(unset it, or use `tsunagari serve`)"
            )
    for field, variable in (
        ("line_api_base_url", "LINE_API_BASE_URL"),
        ("line_data_api_base_url", "LINE_DATA_API_BASE_URL"),
    ):
        if field in set_fields and is_line_host(getattr(configured, field)):
            raise SettingsError(
                f"{variable} points at LINE; `tsunagari demo` talks to its simulator only"
            )


def demo_settings(
    host: str, port: int, configured: Settings | None = None, **overrides: Any
) -> Settings:
    """Settings for the demo: the environment's, with every LINE part pointed at the stand-in."""
    configured = configured or load_settings()
    refuse_real_line(configured)
    base = local_base_url(host, port)
    values: dict[str, Any] = {
        "line_channel_secret": DEMO_CHANNEL_SECRET,
        "line_channel_access_token": DEMO_ACCESS_TOKEN,
        "line_api_base_url": base + STANDIN_PATH,
        "line_data_api_base_url": base + STANDIN_PATH,
        "simulator_enabled": True,
        "public_base_url": base,
    }
    chosen = configured.model_fields_set
    values["database_url"] = (
        configured.database_url if "database_url" in chosen else DEMO_DATABASE_URL
    )
    # A person reads this console, not a log collector, unless LOG_FORMAT says otherwise.
    values["log_format"] = configured.log_format if "log_format" in chosen else "text"
    # Nobody is woken by the simulator: without this, trying the demo in the city's evening
    # would hold every push (an approval, a notice) until 08:00.
    for key in ("quiet_hours_start", "quiet_hours_end"):
        if key not in chosen:
            values[key] = "00:00"
    values.update(overrides)
    return load_settings(**values)


def prepare_database(settings: Settings) -> str | None:
    """Migrate, then load the sample city when the database has none; the seed summary."""
    from bot.platform import migrate

    migrate.upgrade(settings.database_url)
    try:
        from bot.demo.seed import is_empty, seed_demo
    except ImportError:  # the demo data arrived later than the simulator
        return None
    from bot.db import make_engine, session_scope

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            empty = is_empty(session)
    finally:
        engine.dispose()
    return seed_demo(settings) if empty else None


def staff_accounts(settings: Settings) -> list[Mapping[str, Any]]:
    """The demo staff accounts in content/demo/staff.yaml, or none when it is absent."""
    try:
        from bot.demo.seed import read_demo

        accounts = read_demo(settings.content_dir, "staff").get("accounts") or []
    except (ImportError, OSError, ValueError):
        return []
    return [a for a in accounts if isinstance(a, Mapping) and "username" in a]


def banner(settings: Settings, seeded: str | None) -> str:
    """What the demo prints at start: the URL to open first, then the staff web and accounts."""
    lines = [
        "",
        "Tsunagari demo (LINE simulator; no LINE channel needed)",
        f"  Open: {settings.public_base_url}/simulator",
        "",
    ]
    if seeded:
        lines += [f"  Loaded {seeded}", ""]
    accounts = staff_accounts(settings)
    if accounts:
        # Officers approve the simulator's applicants here, in a second tab.
        lines += [f"  Staff web: {settings.public_base_url}/staff/login", ""]
        lines.append("  Staff demo accounts (sample passwords, demo only):")
        lines += [
            f"    {a.get('role', ''):<20} {a['username']:<24} {a.get('password', '')}"
            for a in accounts
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def run_demo(host: str, port: int, out: TextIO | None = None) -> int:
    """Set up the demo database, serve, and print where to look once the server listens."""
    from bot.app import create_app
    from bot.platform.observability.logs import configure_logging

    if not is_loopback_host(host):
        # The demo's channel secret, session secret and staff passwords are all public.
        raise SettingsError(
            f"--host {host}: the demo listens on this machine only (127.0.0.1 or ::1); "
            "its secrets and staff passwords are public"
        )
    settings = demo_settings(host, port)
    configure_logging(
        settings.log_level, settings.log_format, settings.pseudonym_salt.get_secret_value()
    )
    seeded = prepare_database(settings)
    stream = out or sys.stdout

    def announce() -> None:
        stream.write(banner(settings, seeded))
        stream.flush()

    # Open long-polls would otherwise hold Ctrl-C for up to their full wait.
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    _AnnouncingServer(config, announce).run()
    return 0


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server, announcing the URL only once it accepts connections."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._announce()
