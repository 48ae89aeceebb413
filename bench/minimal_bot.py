"""The comparison bot: line-bot-sdk-python's own FastAPI echo example, as its README shows it.

Followed line by line from line/line-bot-sdk-python, examples/fastapi-echo/main.py: the
event is handled inside the webhook request and the reply is awaited before LINE gets its
200. Two changes only: ``host=``, so that the SDK talks to the benchmark's LINE stand-in
(``LINE_API_BASE_URL``) instead of api.line.me; and the AsyncApiClient is created in the
app's lifespan rather than at import, because the example as published fails at import
with the aiohttp installed here (3.14: "RuntimeError: no running event loop" from
aiohttp.TCPConnector). Everything else, the SDK's defaults included (no request timeout;
an aiohttp pool of cpu_count * 5 connections), is kept.
``linebot.v3.webhook.WebhookParser`` is the class also exported as
``linebot.v3.WebhookParser``.

Run: ``LINE_CHANNEL_SECRET=… LINE_CHANNEL_ACCESS_TOKEN=… LINE_API_BASE_URL=http://…
uvicorn minimal_bot:app --app-dir bench --port 8001``
"""

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import MessageEvent, TextMessageContent

# get channel_secret and channel_access_token from your environment variable
channel_secret = os.getenv("LINE_CHANNEL_SECRET", None)
channel_access_token = os.getenv("LINE_CHANNEL_ACCESS_TOKEN", None)
if channel_secret is None:
    print("Specify LINE_CHANNEL_SECRET as environment variable.")
    sys.exit(1)
if channel_access_token is None:
    print("Specify LINE_CHANNEL_ACCESS_TOKEN as environment variable.")
    sys.exit(1)

configuration = Configuration(
    # The benchmark's only change: the LINE stand-in instead of https://api.line.me.
    host=os.getenv("LINE_API_BASE_URL", "https://api.line.me"),
    access_token=channel_access_token,
)

line_bot_api: AsyncMessagingApi


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Create the SDK's async client inside the event loop (aiohttp requires one)."""
    global line_bot_api
    async_api_client = AsyncApiClient(configuration)
    line_bot_api = AsyncMessagingApi(async_api_client)
    yield
    await async_api_client.close()


app = FastAPI(lifespan=lifespan)
parser = WebhookParser(channel_secret)


@app.post("/callback")
async def handle_callback(request: Request) -> str:
    """Verify, parse, and reply to each text message before answering LINE."""
    signature = request.headers["X-Line-Signature"]

    # get request body as text
    body = (await request.body()).decode()

    try:
        events = parser.parse(body, signature)
    except InvalidSignatureError as exc:
        raise HTTPException(status_code=400, detail="Invalid signature") from exc

    for event in events:
        if not isinstance(event, MessageEvent):
            continue
        if not isinstance(event.message, TextMessageContent):
            continue

        await line_bot_api.reply_message(
            ReplyMessageRequest(
                reply_token=event.reply_token,
                messages=[TextMessage(text=event.message.text)],
            )
        )

    return "OK"
