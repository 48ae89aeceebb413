"""The LINE stand-in, spoken to over real HTTP with httpx and line-bot-sdk's async client."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from io import BytesIO
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    MulticastRequest,
    PostbackAction,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    TextMessage,
)
from PIL import Image

from bot.simulator.server import StandinServer
from bot.simulator.spec import SPEC_SKIP_REASON, SpecValidator, find_spec_dir
from bot.simulator.standin import (
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    Delivery,
    FailurePlan,
    LineStandin,
    ReplyTokens,
    TokenBucket,
)

TOKEN = "channel-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALICE, BOB, CAROL = (f"U{n:032x}" for n in (0xA, 0xB, 0xC))


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def spec() -> SpecValidator | None:
    spec_dir = find_spec_dir()
    return SpecValidator.load(spec_dir) if spec_dir else None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def standin(spec: SpecValidator | None, clock: FakeClock) -> LineStandin:
    return LineStandin(spec=spec, access_token=TOKEN, clock=clock, rate_limits={"multicast": 1.0})


@pytest.fixture
def server(standin: LineStandin) -> Iterator[StandinServer]:
    with StandinServer(standin.app) as running:
        yield running


@pytest.fixture
def http(server: StandinServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        yield client


@asynccontextmanager
async def line_api(server: StandinServer) -> AsyncIterator[AsyncMessagingApi]:
    async with AsyncApiClient(Configuration(host=server.url, access_token=TOKEN)) as client:
        yield AsyncMessagingApi(client)


def text_push(to: str, *texts: str) -> dict[str, Any]:
    return {"to": to, "messages": [{"type": "text", "text": t} for t in texts]}


def test_reply_token_is_single_use(standin: LineStandin, http: httpx.Client) -> None:
    token = standin.issue_reply_token(ALICE)
    body = {"replyToken": token, "messages": [{"type": "text", "text": "ようこそ"}]}

    first = http.post("/v2/bot/message/reply", json=body)
    second = http.post("/v2/bot/message/reply", json=body)

    assert first.status_code == 200
    assert first.json()["sentMessages"][0]["id"]
    assert second.status_code == 400
    assert second.json() == {"message": "Invalid reply token"}
    assert standin.messages_to(ALICE) == [{"type": "text", "text": "ようこそ"}]


async def test_reply_token_expires_after_its_ttl(
    standin: LineStandin, server: StandinServer, clock: FakeClock
) -> None:
    fresh, stale = standin.issue_reply_token(ALICE), standin.issue_reply_token(ALICE)
    on_time, late = TextMessage(text="間に合う"), TextMessage(text="遅い")
    clock.advance(59)
    async with line_api(server) as api:
        await api.reply_message(ReplyMessageRequest(reply_token=fresh, messages=[on_time]))
        clock.advance(2)
        with pytest.raises(ApiException) as refused:
            await api.reply_message(ReplyMessageRequest(reply_token=stale, messages=[late]))
    assert refused.value.status == 400
    assert [m["text"] for m in standin.messages_to(ALICE)] == ["間に合う"]


async def test_same_retry_key_is_answered_409_and_delivered_once(
    standin: LineStandin, server: StandinServer
) -> None:
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=ALICE, messages=[TextMessage(text="回覧板")])
    async with line_api(server) as api:
        first = await api.push_message_with_http_info(request, x_line_retry_key=key)
        with pytest.raises(ApiException) as conflict:
            await api.push_message(request, x_line_retry_key=key)

    assert conflict.value.status == 409
    accepted_id = conflict.value.headers["x-line-accepted-request-id"]
    assert accepted_id == first.headers["x-line-request-id"]
    body = json.loads(conflict.value.body)
    assert body["message"] == "The retry key is already accepted"
    assert body["sentMessages"][0]["id"] == first.data.sent_messages[0].id
    assert len(standin.messages_to(ALICE)) == 1
    assert [r.retry_key for r in standin.requests] == [key, key]


async def test_failed_attempt_does_not_accept_its_retry_key(
    standin: LineStandin, server: StandinServer
) -> None:
    standin.fail_next(500, endpoint="push")
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=ALICE, messages=[TextMessage(text="再送")])
    async with line_api(server) as api:
        with pytest.raises(ApiException) as failed:
            await api.push_message(request, x_line_retry_key=key)
        assert standin.messages_to(ALICE) == []
        await api.push_message(request, x_line_retry_key=key)
        with pytest.raises(ApiException) as repeated:
            await api.push_message(request, x_line_retry_key=key)

    assert (failed.value.status, repeated.value.status) == (500, 409)
    assert len(standin.messages_to(ALICE)) == 1


async def test_rate_limit_answers_429_until_the_bucket_refills(
    standin: LineStandin, server: StandinServer, clock: FakeClock
) -> None:
    request = MulticastRequest(to=[ALICE, BOB], messages=[TextMessage(text="お知らせ")])
    async with line_api(server) as api:
        await api.multicast(request)
        with pytest.raises(ApiException) as limited:
            await api.multicast(request)
        clock.advance(1.0)
        await api.multicast(request)

    assert limited.value.status == 429
    assert json.loads(limited.value.body) == {"message": RATE_LIMITED}
    assert len(standin.messages_to(BOB)) == 2


def test_blocked_user_gets_200_and_nothing(standin: LineStandin, http: httpx.Client) -> None:
    standin.block(BOB)

    answer = http.post("/v2/bot/message/push", json=text_push(BOB, "届かない"))

    assert answer.status_code == 200
    assert standin.messages_to(BOB) == []
    assert http.get("/v2/bot/message/quota/consumption").json() == {"totalUsage": 0}


async def test_quota_counts_messages_times_recipients(
    standin: LineStandin, server: StandinServer
) -> None:
    standin.set_quota(8, used=3)
    standin.block(CAROL)
    messages = [TextMessage(text="一"), TextMessage(text="二")]
    async with line_api(server) as api:
        await api.multicast(MulticastRequest(to=[ALICE, BOB, CAROL], messages=messages))
        quota = await api.get_message_quota()
        usage = await api.get_message_quota_consumption()
        with pytest.raises(ApiException) as exhausted:
            await api.push_message(PushMessageRequest(to=ALICE, messages=messages))

    assert (quota.type, quota.value) == ("limited", 8)
    assert usage.total_usage == 3 + 2 * 2  # CAROL blocked: not delivered, not counted
    assert exhausted.value.status == 429
    assert json.loads(exhausted.value.body) == {"message": QUOTA_EXHAUSTED}
    assert len(standin.messages_to(ALICE)) == 2


def test_nonconforming_body_is_refused_and_recorded(
    spec: SpecValidator | None, standin: LineStandin, http: httpx.Client
) -> None:
    if spec is None:
        pytest.skip(SPEC_SKIP_REASON)
    key = str(uuid.uuid4())
    bad = {"to": ALICE, "messages": [{"type": "text"}]}

    refused = http.post("/v2/bot/message/push", json=bad, headers={"X-Line-Retry-Key": key})
    accepted = http.post(
        "/v2/bot/message/push", json=text_push(ALICE, "直した"), headers={"X-Line-Retry-Key": key}
    )

    assert refused.status_code == 400
    assert refused.json()["details"] == [
        {"message": "'text' is a required property", "property": "messages[0]"}
    ]
    assert accepted.status_code == 200  # the refused attempt did not use up the key
    [violation] = standin.spec_violations()
    assert violation.status == 400
    assert violation.json == bad
    assert violation.spec_errors == ["messages[0]: 'text' is a required property"]
    assert violation.headers["authorization"] == "Bearer [redacted]"
    assert standin.messages_to(ALICE) == [{"type": "text", "text": "直した"}]


def test_wrong_token_is_401(server: StandinServer) -> None:
    wrong = {"Authorization": "Bearer not-the-token"}
    answer = httpx.get(f"{server.url}/v2/bot/profile/{ALICE}", headers=wrong)
    assert answer.status_code == 401


def test_profile_and_unknown_path(standin: LineStandin, http: httpx.Client) -> None:
    standin.set_profile(ALICE, "山田 花子")

    profile = http.get(f"/v2/bot/profile/{ALICE}").json()
    missing = http.get("/v2/bot/no-such-endpoint")

    assert profile == {"userId": ALICE, "displayName": "山田 花子", "language": "ja"}
    assert http.get(f"/v2/bot/profile/{BOB}").json()["displayName"] == "利用者"
    assert missing.status_code == 404
    assert missing.json() == {"message": "Not found"}


async def test_rich_menu_create_upload_and_link(
    standin: LineStandin, server: StandinServer
) -> None:
    menu = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843),
        selected=True,
        name="main",
        chatBarText="メニュー",
        areas=[
            RichMenuArea(
                bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                action=PostbackAction(label="予定", data="f=events"),
            )
        ],
    )
    image = BytesIO()
    Image.new("RGB", (2500, 843), "white").save(image, format="PNG")
    async with AsyncApiClient(Configuration(host=server.url, access_token=TOKEN)) as client:
        api, blob = AsyncMessagingApi(client), AsyncMessagingApiBlob(client)
        menu_id = (await api.create_rich_menu(menu)).rich_menu_id
        with pytest.raises(ApiException) as too_early:
            await api.link_rich_menu_id_to_user(ALICE, menu_id)
        await blob.set_rich_menu_image(
            menu_id, image.getvalue(), _headers={"Content-Type": "image/png"}
        )
        await api.link_rich_menu_id_to_user(ALICE, menu_id)
        linked = await api.get_rich_menu_id_of_user(ALICE)
        listed = await api.get_rich_menu_list()

    assert menu_id.startswith("richmenu-")
    assert too_early.value.status == 400  # LINE wants the image before linking
    assert linked.rich_menu_id == menu_id == standin.rich_menu_of(ALICE)
    assert [m.rich_menu_id for m in listed.richmenus] == [menu_id]
    assert standin.rich_menu_image(menu_id) == ("image/png", image.getvalue())
    assert standin.spec_violations() == []


def test_listener_and_deliveries_after(standin: LineStandin, http: httpx.Client) -> None:
    heard: list[Delivery] = []
    standin.add_listener(heard.append)

    http.post("/v2/bot/message/push", json=text_push(ALICE, "一"))
    http.post("/v2/bot/message/push", json=text_push(BOB, "二", "三"))

    first = standin.deliveries[0]
    later = standin.deliveries_after(first.seq)
    assert heard == standin.deliveries
    assert [(d.user_id, d.message["text"], d.via) for d in later] == [
        (BOB, "二", "push"),
        (BOB, "三", "push"),
    ]
    assert standin.deliveries_after(first.seq, user_id=ALICE) == []
    assert later[0].request_index == 1


def test_reset_forgets_requests_but_seq_keeps_rising(
    standin: LineStandin, http: httpx.Client
) -> None:
    http.post("/v2/bot/message/push", json=text_push(ALICE, "前"))
    last_seq = standin.deliveries[-1].seq

    standin.reset()
    http.post("/v2/bot/message/push", json=text_push(ALICE, "後"))

    assert len(standin.requests) == 1
    assert [d.seq > last_seq for d in standin.deliveries] == [True]


def test_random_failures_are_reproducible() -> None:
    def draws(seed: int) -> list[int | None]:
        plan = FailurePlan()
        plan.set_rate(0.5, (429, 500), seed)
        return [plan.draw("push") for _ in range(20)]

    assert draws(7) == draws(7)
    assert {None, 429, 500} <= set(draws(7))
    assert FailurePlan().draw("push") is None


def test_planned_failure_targets_its_endpoint() -> None:
    plan = FailurePlan()
    plan.fail_next(503, times=2, endpoint="multicast")
    assert [plan.draw("push"), plan.draw("multicast"), plan.draw("multicast")] == [None, 503, 503]
    assert plan.draw("multicast") is None


def test_token_bucket_refills_at_its_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(2.0, clock)
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    clock.advance(0.5)
    assert [bucket.try_take() for _ in range(2)] == [True, False]


def test_reply_tokens_belong_to_their_user(clock: FakeClock) -> None:
    tokens = ReplyTokens(ttl_s=60.0, clock=clock)
    token = tokens.issue(ALICE)
    assert tokens.user_for(token) == ALICE
    tokens.spend(token)
    with pytest.raises(Exception, match="Invalid reply token"):
        tokens.user_for(token)


def test_server_runs_any_asgi_app_with_its_lifespan() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("start")
        yield
        events.append("stop")

    app = FastAPI(lifespan=lifespan)
    app.get("/ping")(lambda: {"pong": True})

    with StandinServer(app) as server:
        assert server.port != 0
        assert httpx.get(f"{server.url}/ping").json() == {"pong": True}
    assert events == ["start", "stop"]
