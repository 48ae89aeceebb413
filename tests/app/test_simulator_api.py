"""The simulator's JSON API over real HTTP: signed webhooks in, LINE's deliveries out.

The bot runs in uvicorn on an ephemeral port with the simulator on; the LINE
stand-in runs on its own port and the bot's SDK client talks to it. Every
assertion reads the transcript the page would read.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr

from bot.app import Overrides, create_app
from bot.content import Content, load_content
from bot.settings import DEFAULT_CONTENT_DIR, Settings, SettingsError, load_settings
from bot.simulator.demo import (
    DEMO_DATABASE_URL,
    banner,
    demo_settings,
    local_base_url,
    staff_accounts,
)
from bot.simulator.line_links import LineLink, UnsupportedLink, parse_line_link, same_account
from bot.simulator.routes import add_scan_examples
from bot.simulator.server import StandinServer
from bot.simulator.spec import SPEC_SKIP_REASON, SpecValidator, find_spec_dir
from bot.simulator.standin import LineStandin

SECRET = "simulator-test-secret"
TOKEN = "simulator-test-token"
BASIC_ID = "@tsunagari-test"
WAIT_S = 20.0  # upper bound for the bot to answer; the long-poll returns as soon as it does

Entries = list[dict[str, Any]]


@pytest.fixture(scope="module")
def spec() -> SpecValidator | None:
    """LINE's messaging API spec, or None when the spec folder is absent."""
    spec_dir = find_spec_dir()
    return SpecValidator.load(spec_dir) if spec_dir else None


@pytest.fixture(scope="module")
def content() -> Content:
    """The texts the bot speaks, so assertions never restate them."""
    return load_content(DEFAULT_CONTENT_DIR)


@dataclass
class Harness:
    """The running bot with its simulator, the stand-in, and an HTTP client for the API."""

    client: httpx.Client
    standin: LineStandin
    settings: Settings
    app: Any = None

    def add_resident(self, name: str = "テスト 太郎") -> str:
        """Add a resident and return their user ID."""
        answer = self.client.post("/simulator/api/residents", json={"display_name": name})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["user_id"])

    def send(self, resident: str, **turn: Any) -> dict[str, Any]:
        """One resident action; asserts the simulator accepted it."""
        answer = self.client.post("/simulator/api/send", json={"resident": resident, **turn})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_for(self, resident: str, done: Callable[[Entries], bool], after: int = 0) -> Entries:
        """Long-poll the transcript after ``after`` until ``done`` holds for what arrived."""
        entries: Entries = []
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            last = entries[-1]["seq"] if entries else after
            params = {"resident": resident, "after": last, "wait": 5}
            answer = self.client.get("/simulator/api/transcript", params=params)
            assert answer.status_code == 200, answer.text
            entries.extend(answer.json()["entries"])
            if done(entries):
                return entries
        raise AssertionError(f"transcript never reached the expected state: {entries}")


def _settings(tmp_path: Path, line_url: str, **extra: Any) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'simulator.db'}",
        line_channel_secret=SECRET,
        line_channel_access_token=TOKEN,
        line_api_base_url=line_url,
        line_data_api_base_url=line_url,
        line_bot_basic_id=BASIC_ID,
        line_max_attempts=1,
        simulator_enabled=True,
        run_scheduler=False,
        **extra,
    )


@pytest.fixture
def harness(tmp_path: Path, spec: SpecValidator | None) -> Iterator[Harness]:
    """The bot (simulator on) and the LINE stand-in, each on its own ephemeral port."""
    standin = LineStandin(spec=spec, access_token=TOKEN)
    with StandinServer(standin.app) as line:
        app = create_app(_settings(tmp_path, line.url), Overrides(extra={"line_standin": standin}))
        with StandinServer(app) as bot, httpx.Client(base_url=bot.url, timeout=30) as client:
            yield Harness(client, standin, app.state.settings, app)


def received(entries: Entries) -> list[dict[str, Any]]:
    """The LINE message objects delivered, in order."""
    return [e["message"] for e in entries if e["kind"] == "received"]


def texts(entries: Entries) -> list[str]:
    """The text (or altText) of each delivered message."""
    return [m.get("text") or m.get("altText", "") for m in received(entries)]


def chip(entries: Entries, label: str) -> dict[str, Any]:
    """The action of the newest quick-reply chip labelled ``label``."""
    for message in reversed(received(entries)):
        for item in message.get("quickReply", {}).get("items", []):
            if item["action"].get("label") == label:
                return dict(item["action"])
    raise AssertionError(f"no chip {label!r} in {received(entries)}")


def has_text(expected: str) -> Callable[[Entries], bool]:
    """A ``wait_for`` condition: a delivered message with this text has arrived."""
    return lambda entries: expected in texts(entries)


def offers_chip(label: str) -> Callable[[Entries], bool]:
    """A ``wait_for`` condition: a delivered message offers a chip labelled ``label``."""

    def done(entries: Entries) -> bool:
        items = [i for m in received(entries) for i in m.get("quickReply", {}).get("items", [])]
        return any(i["action"].get("label") == label for i in items)

    return done


def assert_conforms(standin: LineStandin, spec: SpecValidator | None) -> None:
    """Every request the bot made conforms to LINE's spec (skip when the spec is absent)."""
    if spec is None:
        pytest.skip(SPEC_SKIP_REASON)
    assert standin.requests, "the bot made no API request at all"
    assert standin.spec_violations() == []


# --- residents and friendship ----------------------------------------------------------


def test_added_resident_has_a_line_user_id_and_a_profile(harness: Harness) -> None:
    user_id = harness.add_resident("盛岡 花子")
    listed = harness.client.get("/simulator/api/residents").json()["residents"]
    assert [r["user_id"] for r in listed] == [user_id]
    assert user_id.startswith("U") and len(user_id) == 33
    int(user_id[1:], 16)  # the rest is hexadecimal, as LINE's IDs are
    profile = httpx.get(
        f"{harness.settings.line_api_base_url}/v2/bot/profile/{user_id}",
        headers={"authorization": f"Bearer {TOKEN}"},
    ).json()
    assert profile["displayName"] == "盛岡 花子"


def test_follow_is_greeted_with_the_menu(harness: Harness, content: Content, spec: Any) -> None:
    user_id = harness.add_resident()
    answer = harness.send(user_id, kind="follow")
    assert answer["status"] == 200  # /callback accepted the signature
    assert answer["resident"]["friend"] is True
    entries = harness.wait_for(user_id, offers_chip(content.text("menu.items.language")))
    assert texts(entries)[0] == content.text("common.greeting")
    replies = [e for e in entries if e["kind"] == "api" and e["path"] == "/v2/bot/message/reply"]
    assert [r["status"] for r in replies] == [200]
    assert_conforms(harness.standin, spec)


def test_typed_text_gets_a_reply(harness: Harness, content: Content, spec: Any) -> None:
    user_id = harness.add_resident()
    harness.send(user_id, kind="follow")
    after = harness.wait_for(user_id, offers_chip(content.text("menu.items.language")))[-1]["seq"]
    harness.send(user_id, kind="text", text="ヘルプ")
    entries = harness.wait_for(user_id, has_text(content.text("common.help")), after)
    sent = [e for e in entries if e["kind"] == "sent"]
    assert sent[0]["bubble"] == {"type": "text", "text": "ヘルプ"}
    assert sent[0]["webhook"]["body"]["events"][0]["message"]["text"] == "ヘルプ"
    assert_conforms(harness.standin, spec)


def test_quick_reply_postback_round_trip(harness: Harness, content: Content, spec: Any) -> None:
    user_id = harness.add_resident()
    harness.send(user_id, kind="follow")
    entries = harness.wait_for(user_id, offers_chip(content.text("menu.items.language")))
    language = chip(entries, content.text("menu.items.language"))
    assert language["type"] == "postback"
    harness.send(
        user_id, kind="postback", data=language["data"], displayText=language["displayText"]
    )
    entries = harness.wait_for(user_id, has_text(content.text("language.ask")), entries[-1]["seq"])
    english = chip(entries, content.text("language.names.en"))
    harness.send(user_id, kind="postback", data=english["data"], displayText=english["displayText"])
    entries = harness.wait_for(
        user_id, has_text(content.text("language.done", "en")), entries[-1]["seq"]
    )
    bubbles = [e["bubble"] for e in entries if e["kind"] == "sent"]
    assert bubbles == [{"type": "text", "text": english["displayText"]}]
    assert_conforms(harness.standin, spec)


def test_block_then_follow_again_is_an_unblock(harness: Harness, content: Content) -> None:
    user_id = harness.add_resident()
    harness.send(user_id, kind="follow")
    harness.wait_for(user_id, offers_chip(content.text("menu.items.language")))
    blocked = harness.send(user_id, kind="unfollow")
    assert blocked["resident"]["blocked"] is True
    harness.send(user_id, kind="follow")
    entries = harness.wait_for(user_id, has_text(content.text("common.welcome_back")))
    follows = [
        e["webhook"]["body"]["events"][0]
        for e in entries
        if e["kind"] == "sent" and e["event_type"] == "follow"
    ]
    assert [f["follow"]["isUnblocked"] for f in follows] == [False, True]
    unfollow = next(e for e in entries if e["kind"] == "sent" and e["event_type"] == "unfollow")
    assert "replyToken" not in unfollow["webhook"]["body"]["events"][0]


# --- what LINE would send, exactly -------------------------------------------------------


def test_webhooks_are_signed_and_shaped_as_line_sends_them(harness: Harness) -> None:
    user_id = harness.add_resident()
    harness.send(user_id, kind="follow")
    harness.send(user_id, kind="text", text="こんにちは 🌸")
    harness.send(
        user_id, kind="postback", data="a=start&f=language", params={"datetime": "2025-05-01T10:00"}
    )
    harness.send(
        user_id,
        kind="location",
        latitude=39.7016,
        longitude=141.1365,
        title="盛岡駅",
        address="岩手県盛岡市盛岡駅前通1-44",
    )
    harness.send(user_id, kind="sticker")
    harness.send(user_id, kind="image")
    entries = harness.wait_for(user_id, lambda es: sum(e["kind"] == "ack" for e in es) == 6)
    assert [e["status"] for e in entries if e["kind"] == "ack"] == [200] * 6
    webhooks = [e["webhook"] for e in entries if e["kind"] == "sent"]
    for webhook in webhooks:
        _check_signature(webhook, SECRET)
        _check_against_webhook_spec(webhook["body"])
    tokens = [w["body"]["events"][0]["replyToken"] for w in webhooks]
    assert len(set(tokens)) == len(tokens)


def _check_signature(webhook: dict[str, Any], secret: str) -> None:
    from bot.platform.line.signature import is_valid
    from bot.simulator.webhook_events import webhook_body

    body = webhook["body"]
    raw = webhook_body(body["destination"], body["events"])
    assert is_valid(raw, webhook["headers"]["x-line-signature"], secret)


def _check_against_webhook_spec(body: dict[str, Any]) -> None:
    spec_dir = find_spec_dir()
    webhook_spec = spec_dir / "webhook.yml" if spec_dir else None
    if webhook_spec is None or not webhook_spec.is_file():
        pytest.skip(SPEC_SKIP_REASON)
    validator = _webhook_validator(webhook_spec)
    assert validator.validate_schema("CallbackRequest", body) == []


_WEBHOOK_VALIDATORS: dict[Path, SpecValidator] = {}


def _webhook_validator(path: Path) -> SpecValidator:
    if path not in _WEBHOOK_VALIDATORS:
        with path.open(encoding="utf-8") as stream:
            _WEBHOOK_VALIDATORS[path] = SpecValidator(yaml.safe_load(stream))
    return _WEBHOOK_VALIDATORS[path]


def test_a_push_appears_in_the_chat_between_turns(harness: Harness, content: Content) -> None:
    user_id = harness.add_resident()
    harness.send(user_id, kind="follow")
    after = harness.wait_for(user_id, offers_chip(content.text("menu.items.language")))[-1]["seq"]
    reminder = {"type": "text", "text": "リマインダー (test push)"}
    pushed = httpx.post(  # what the scheduler's push looks like to LINE
        f"{harness.settings.line_api_base_url}/v2/bot/message/push",
        json={"to": user_id, "messages": [reminder]},
        headers={"authorization": f"Bearer {TOKEN}", "x-line-retry-key": _uuid()},
    )
    assert pushed.status_code == 200, pushed.text
    entries = harness.wait_for(user_id, has_text(reminder["text"]), after)
    delivery = next(e for e in entries if e["kind"] == "received")
    assert delivery["via"] == "push"
    api = next(e for e in entries if e["kind"] == "api")
    assert api["path"] == "/v2/bot/message/push" and api["json"]["to"] == user_id


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def test_refused_requests_show_in_the_panel_without_a_bubble(harness: Harness) -> None:
    user_id = harness.add_resident()
    # A wrong channel token: refused whether or not LINE's spec folder is there to check
    # bodies against (a user's fresh clone has none).
    refused = httpx.post(
        f"{harness.settings.line_api_base_url}/v2/bot/message/push",
        json={"to": user_id, "messages": [{"type": "text", "text": "届かないはず"}]},
        headers={"authorization": "Bearer not-the-channel-token"},
    )
    assert refused.status_code == 401
    entries = harness.wait_for(user_id, lambda es: any(e["kind"] == "api" for e in es))
    assert received(entries) == []
    assert next(e for e in entries if e["kind"] == "api")["status"] == 401


# --- scanning a QR code -----------------------------------------------------------------


def test_scanning_a_message_link_follows_then_sends_the_text(
    harness: Harness, content: Content
) -> None:
    user_id = harness.add_resident()
    link = f"https://line.me/R/oaMessage/{BASIC_ID}/?%E3%83%98%E3%83%AB%E3%83%97"  # ヘルプ
    answer = harness.client.post("/simulator/api/scan", json={"resident": user_id, "url": link})
    assert answer.status_code == 200, answer.text
    assert answer.json()["statuses"] == [200, 200]
    entries = harness.wait_for(user_id, has_text(content.text("common.help")))
    kinds = [e["event_type"] for e in entries if e["kind"] == "sent"]
    assert kinds == ["follow", "text"]
    assert texts(entries)[0] == content.text("common.greeting")


def test_scanning_a_friend_link_twice_follows_once(harness: Harness) -> None:
    user_id = harness.add_resident()
    link = f"https://line.me/R/ti/p/{BASIC_ID.replace('@', '%40')}"
    for _ in range(2):
        answer = harness.client.post("/simulator/api/scan", json={"resident": user_id, "url": link})
        assert answer.status_code == 200, answer.text
    sent = harness.client.get("/simulator/api/transcript", params={"resident": user_id}).json()[
        "entries"
    ]
    assert [e["event_type"] for e in sent if e["kind"] == "sent"] == ["follow"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/R/ti/p/@tsunagari-test",
        "https://line.me/R/ti/p/@someone-else",
        "https://line.me/R/nv/chat",
    ],
)
def test_scanning_a_foreign_link_is_refused(harness: Harness, url: str) -> None:
    user_id = harness.add_resident()
    answer = harness.client.post("/simulator/api/scan", json={"resident": user_id, "url": url})
    assert answer.status_code == 400
    assert (
        harness.client.get("/simulator/api/transcript", params={"resident": user_id}).json()[
            "entries"
        ]
        == []
    )


# --- refusals and the page ------------------------------------------------------------


def test_bad_turns_are_refused_before_anything_is_sent(harness: Harness) -> None:
    user_id = harness.add_resident()
    for turn in (
        {"kind": "text"},
        {"kind": "postback"},
        {"kind": "location", "latitude": 39.7},
        {"kind": "wave"},
    ):
        answer = harness.client.post("/simulator/api/send", json={"resident": user_id, **turn})
        assert answer.status_code == 422, turn
    nobody = {"resident": "Unobody", "kind": "follow"}
    unknown = harness.client.post("/simulator/api/send", json=nobody)
    assert unknown.status_code == 404
    assert harness.standin.requests == []


def test_the_page_and_its_assets_are_served(harness: Harness) -> None:
    page = harness.client.get("/simulator")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("simulator.js", "simulator.css"):
        assert f"/simulator/static/{asset}" in page.text
        assert harness.client.get(f"/simulator/static/{asset}").status_code == 200
    # No CDN: the machine running a demo may have no internet.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text)


def test_config_names_the_bot_and_offers_registered_scan_links(
    harness: Harness, spec: SpecValidator | None
) -> None:
    counter = {
        "label": "盛岡地域 転入窓口",
        "url": f"https://line.me/R/oaMessage/{BASIC_ID}/?%23ABCD2345",
    }
    add_scan_examples(harness.app, lambda settings: [counter])
    config = harness.client.get("/simulator/api/config").json()
    assert config == {
        "basic_id": BASIC_ID,
        "spec_checked": spec is not None,
        "scan_examples": [counter],
    }


# --- the demo's own arrangement: the stand-in mounted in the bot's process -----------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_stand_in_mounted_in_the_same_process(
    tmp_path: Path, content: Content, spec: SpecValidator | None
) -> None:
    # The bot's URL must be known before it starts, so a free port is picked first.
    port = _free_port()
    settings = _settings(tmp_path, f"http://127.0.0.1:{port}/line-standin")
    app = create_app(settings)
    with StandinServer(app, port=port) as bot, httpx.Client(base_url=bot.url, timeout=30) as client:
        harness = Harness(client, app.state.line_standin, settings)
        user_id = harness.add_resident()
        harness.send(user_id, kind="follow")
        harness.wait_for(user_id, offers_chip(content.text("menu.items.language")))
        paths = [r.path for r in harness.standin.requests]
        assert "/v2/bot/message/reply" in paths  # the mount hides its prefix from the stand-in
        if spec is not None:
            assert harness.standin.spec_violations() == []


# --- links a QR code holds, and the demo's settings (no server needed) ---------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://line.me/R/ti/p/@tsunagari", LineLink("@tsunagari", None)),
        ("https://line.me/R/ti/p/%40tsunagari", LineLink("@tsunagari", None)),
        ("line://ti/p/@tsunagari", LineLink("@tsunagari", None)),
        (
            "https://line.me/R/oaMessage/@tsunagari/?%E5%85%A5%E4%BC%9A%20%23AB23CD45",
            LineLink("@tsunagari", "入会 #AB23CD45"),
        ),
        ("https://line.me/R/oaMessage/%40tsunagari/", LineLink("@tsunagari", "")),
    ],
)
def test_line_links_parse_as_the_line_app_reads_them(url: str, expected: LineLink) -> None:
    assert parse_line_link(url) == expected


@pytest.mark.parametrize(
    "url", ["https://lin.ee/abc", "https://line.me/R/ti/p/", "ftp://line.me/x"]
)
def test_other_links_are_not_line_links(url: str) -> None:
    with pytest.raises(UnsupportedLink):
        parse_line_link(url)


def test_basic_ids_compare_without_case_or_at_sign() -> None:
    assert same_account("tsunagari", "@Tsunagari")
    assert not same_account("@tsunagari2", "@tsunagari")


@pytest.mark.parametrize(
    "configured",
    [
        {"line_channel_secret": SecretStr("a-real-secret")},
        {"line_channel_access_token": SecretStr("a-real-token")},
        {"line_api_base_url": "https://api.line.me"},
        {"line_data_api_base_url": "https://api-data.line.me"},
    ],
)
def test_demo_refuses_to_run_beside_real_line(configured: dict[str, Any]) -> None:
    with pytest.raises(SettingsError):
        demo_settings("127.0.0.1", 8000, configured=Settings.model_construct(**configured))


def test_demo_points_every_line_part_at_its_own_stand_in() -> None:
    configured = Settings.model_construct(line_api_base_url="http://127.0.0.1:9999")
    settings = demo_settings("0.0.0.0", 8123, configured=configured)
    assert settings.line_api_base_url == "http://127.0.0.1:8123/line-standin"
    assert settings.line_data_api_base_url == settings.line_api_base_url
    assert settings.simulator_enabled and not settings.talks_to_real_line
    assert settings.database_url == DEMO_DATABASE_URL
    assert settings.public_base_url == "http://127.0.0.1:8123"


def test_demo_keeps_a_configured_database() -> None:
    configured = Settings.model_construct(database_url="sqlite:////tmp/elsewhere.db")
    settings = demo_settings("127.0.0.1", 8000, configured=configured)
    assert settings.database_url == "sqlite:////tmp/elsewhere.db"


def test_local_base_url_reaches_a_wildcard_bind_over_loopback() -> None:
    assert local_base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert local_base_url("::1", 8000) == "http://[::1]:8000"


def test_demo_banner_prints_the_simulator_first_then_the_staff_web_and_accounts() -> None:
    settings = demo_settings("127.0.0.1", 8000, configured=Settings.model_construct())
    text = banner(settings, seeded="sample city: 30 districts")
    assert re.findall(r"https?://\S+", text) == [
        "http://127.0.0.1:8000/simulator",
        "http://127.0.0.1:8000/staff/login",
    ]
    accounts = staff_accounts(settings)
    assert accounts, "content/demo/staff.yaml lists the demo staff accounts"
    for account in accounts:
        assert account["username"] in text and str(account["password"]) in text
