"""The LINE quota banner: read from LINE (the stand-in) by the scheduler's quota check, shown
on every staff page past 80%, and more strongly once non-urgent pushes are held."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.clock import FixedClock
from bot.platform.line.gateway import SdkLineGateway
from bot.platform.scheduler.lease import LocalLease
from bot.scheduling import build_scheduler as build_runner
from bot.simulator.standin import LineStandin
from tests.conftest import TOKEN
from tests.staff.conftest import START, City, log_in

PAGES = ("/staff/", "/staff/events", "/staff/notices", "/staff/surveys", "/staff/qr")


def _read_quota(
    client: TestClient, engine: Engine, standin: LineStandin, limit: int, used: int, minutes: int
) -> None:
    """LINE reports `used` of `limit`; the scheduler's quota check reads it as it would."""
    standin.set_quota(limit, used)
    app = client.app.state  # type: ignore[attr-defined]

    async def check() -> int | None:
        gateway = SdkLineGateway(host=standin.url, access_token=TOKEN)  # type: ignore[attr-defined]
        try:
            runner = build_runner(
                engine=engine,
                settings=app.settings,
                content=app.content,
                quota_source=gateway,
                lease=LocalLease(),
                clock=FixedClock(START + timedelta(minutes=minutes)),
            )
            spec = next(s for s in runner.jobs if s.name == "quota_check")
            return await runner.run_job(spec)
        finally:
            await gateway.close()

    assert asyncio.run(check()) == used


def _banner(client: TestClient, path: str) -> tuple[str, str] | None:
    page = client.get(path)
    assert page.status_code == 200, path
    found = re.search(
        r'<p class="quota-banner (\w+)" role="alert" data-testid="quota-banner">'
        r"([^<]+)</p>",
        page.text,
    )
    return (found.group(1), html.unescape(found.group(2))) if found else None


def test_staff_pages_warn_past_80_percent_and_say_when_pushes_are_held(
    client: TestClient,
    city: City,
    engine: Engine,
    standin: LineStandin,
) -> None:
    log_in(client, "admin")
    assert _banner(client, "/staff/") is None  # no reading yet
    _read_quota(client, engine, standin, 1000, 500, minutes=0)
    assert _banner(client, "/staff/") is None  # half the month's quota: nothing to say
    _read_quota(client, engine, standin, 1000, 850, minutes=15)
    for path in PAGES:
        assert _banner(client, path) == (
            "warning",
            "今月のLINE送信数が上限の85%に達しました（850/1000通）。"
            "大量のお知らせは控えめにしてください。",
        ), path
    _read_quota(client, engine, standin, 1000, 970, minutes=30)
    level, text = _banner(client, "/staff/events?lang=en") or ("", "")
    assert level == "holding"
    assert text.startswith(
        "This month's LINE messages have reached 97% of the limit, so "
        "non-urgent notices and reminders are on hold (970/1000)."
    )
    assert [r.path for r in standin.requests] == [
        "/v2/bot/message/quota",
        "/v2/bot/message/quota/consumption",
    ] * 3


def test_every_role_sees_the_banner_but_the_login_page_does_not(
    client: TestClient,
    city: City,
    engine: Engine,
    standin: LineStandin,
) -> None:
    _read_quota(client, engine, standin, 1000, 990, minutes=0)
    login = client.get("/staff/login")
    assert "quota-banner" not in login.text
    log_in(client, "officer_a")
    assert (_banner(client, "/staff/") or ("",))[0] == "holding"
