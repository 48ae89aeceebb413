"""Headless Chromium (Debian's package) driven by Playwright, and the demo bot to point it at.

Nothing here downloads a browser: CI installs Debian's ``chromium`` and
``pip install playwright``; a fresh clone without them skips these tests.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.content import Content, load_content
from bot.settings import REPO_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# CI points TSUNAGARI_TEST_OUTPUT at its artefacts folder; locally it is test-output/.
TEST_OUTPUT = Path(os.environ.get("TSUNAGARI_TEST_OUTPUT") or REPO_ROOT / "test-output")
SCREENSHOTS = TEST_OUTPUT / "screenshots"
REPLY_TIMEOUT_MS = 20_000  # the page shows a reply as soon as the long-poll returns it


@pytest.fixture(scope="module")  # sync Playwright holds an event loop while open
def browser() -> Iterator[Any]:
    """One headless Chromium for the session; skips when Chromium or Playwright is absent."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (CI installs it with `apt-get install chromium`)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (`pip install playwright`)"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DemoServer:
    """The bot as `tsunagari demo` runs it: sample data, the stand-in in the same process."""

    url: str
    app: Any
    settings: Settings


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    """Serve the demo app on a free port (its own URL must be known before it starts)."""
    from bot.app import create_app
    from bot.simulator.demo import demo_settings, prepare_database
    from bot.simulator.server import StandinServer

    port = _free_port()
    settings = demo_settings(
        "127.0.0.1",
        port,
        configured=Settings.model_construct(),
        database_url=f"sqlite:///{tmp_path / 'demo.db'}",
        # Its jobs poll on the wall clock and could push (a survey invitation, a reminder)
        # into the middle of a walk; a test that wants a job's push runs the job itself.
        run_scheduler=False,
    )
    prepare_database(settings)
    app = create_app(settings)
    with StandinServer(app, port=port) as server:
        yield DemoServer(server.url, app, settings)


@pytest.fixture(scope="session")
def content() -> Content:
    """The bot's texts, so the browser test looks for what the bot really says."""
    return load_content(REPO_ROOT / "content")


_ANSWERED_JS = """() => {
  const items = [...document.querySelectorAll("[data-testid=chat] > li.msg")];
  const mine = items.findLastIndex((item) => item.classList.contains("from-me"));
  return mine >= 0 && items.slice(mine + 1).some((item) => item.classList.contains("from-bot"));
}"""


class SimulatorPage:
    """The simulator page as a resident uses it: helpers that find things by their labels."""

    def __init__(self, page: Any, base_url: str, name: str) -> None:
        from playwright.sync_api import expect

        self.page, self.base_url, self.name, self.expect = page, base_url, name, expect
        self.shots: list[Path] = []

    def open(self) -> None:
        """Load the page and wait for the first resident to be selected."""
        self.page.goto(f"{self.base_url}/simulator")
        self.expect(self.page.get_by_test_id("friend-status")).not_to_be_empty()

    def add_resident(self, display_name: str) -> None:
        """Add a resident through the dialog; the new one becomes the current one."""
        self.page.get_by_test_id("add-resident").click()
        self.page.get_by_label("表示名 Display name").fill(display_name)
        self.page.get_by_test_id("resident-ok").click()
        self.expect(self.page.get_by_test_id("friend-status")).to_contain_text(display_name)

    def follow(self) -> None:
        """Add the bot as a friend."""
        self.page.get_by_test_id("tool-follow").click()
        self.expect(self.page.get_by_test_id("friend-status")).to_contain_text("Friend")

    def send_text(self, text: str) -> None:
        """Type a message and press Enter."""
        box = self.page.get_by_test_id("composer-input")
        box.fill(text)
        box.press("Enter")

    def scan(self, url: str) -> None:
        """Open a QR code's link as the LINE app would."""
        self.page.get_by_test_id("tool-scan").click()
        self.page.get_by_test_id("scan-url").fill(url)
        self.page.get_by_test_id("scan-ok").click()

    def tap(self, label: str) -> None:
        """Tap the newest chip or button (quick reply, template, flex) showing ``label``."""
        exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
        quick = self.page.get_by_test_id("quick-replies").get_by_role("button", name=exact)
        in_chat = self.chat().get_by_role("button", name=exact)
        # The chip bar follows the chat in the page, so `last` prefers a chip when both exist.
        target = quick.or_(in_chat).last
        self.expect(target).to_be_visible(timeout=REPLY_TIMEOUT_MS)
        target.click()

    def chat(self) -> Any:
        """The conversation list."""
        return self.page.get_by_test_id("chat")

    def expect_bot_says(self, text: str) -> None:
        """Wait until a bot message containing ``text`` is shown."""
        bot = self.chat().locator(".msg.from-bot").filter(has_text=text)
        self.expect(bot.last).to_be_visible(timeout=REPLY_TIMEOUT_MS)

    def expect_reply(self) -> None:
        """Wait until the bot has answered the resident's latest bubble."""
        self.page.wait_for_function(_ANSWERED_JS, timeout=REPLY_TIMEOUT_MS)

    def expect_chip(self, label: str) -> None:
        """Wait until a quick-reply chip labelled ``label`` is offered."""
        chips = self.page.get_by_test_id("quick-replies").get_by_role("button", name=label)
        self.expect(chips.first).to_be_visible(timeout=REPLY_TIMEOUT_MS)

    def screenshot(self, step: str) -> Path:
        """Save a screenshot as <test output>/screenshots/<test>-<n>-<step>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{len(self.shots) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


@pytest.fixture
def simulator(
    browser: Any, demo_server: DemoServer, request: pytest.FixtureRequest
) -> Iterator[SimulatorPage]:
    """A fresh browser context on the demo's simulator page, reporting page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(REPLY_TIMEOUT_MS)
    try:
        yield SimulatorPage(page, demo_server.url, request.node.name)
    finally:
        context.close()
    assert errors == [], f"the page raised JavaScript errors: {errors}"
