"""Requests built from checked message dicts reach the wire as those dicts, through the SDK."""

from __future__ import annotations

from linebot.v3.messaging import ApiClient, Configuration, ReplyMessageRequest

from bot.platform.line.prepared import (
    PreparedApiClient,
    multicast_request,
    push_request,
    reply_request,
)

MENU = {
    "type": "text",
    "text": "メニューから選んでください。",
    "quickReply": {
        "items": [
            {
                "type": "action",
                "action": {
                    "type": "postback",
                    "label": "参加",
                    "data": "a=cmd&v=menu",
                    "displayText": "参加",
                },
            }
        ]
    },
}


def _wire(request: object) -> object:
    """What the SDK's client serialises for a request body (the async client shares the code)."""
    client = ApiClient(Configuration(host="http://127.0.0.1:9", access_token="token"))
    return client.sanitize_for_serialization(request)


async def test_the_gateways_client_serialises_them_as_the_sdk_does() -> None:
    client = PreparedApiClient(Configuration(host="http://127.0.0.1:9", access_token="token"))
    try:
        for request in (
            reply_request("token-1", [MENU]),
            push_request("U1", [MENU]),
            multicast_request(["U1", "U2"], [MENU]),
        ):
            assert client.sanitize_for_serialization(request) == _wire(request)
        plain = ReplyMessageRequest.from_dict({"replyToken": "t", "messages": [MENU]})
        assert client.sanitize_for_serialization(plain) == _wire(plain)
    finally:
        await client.close()


def test_reply_push_and_multicast_carry_the_dicts_unchanged() -> None:
    assert _wire(reply_request("token-1", [MENU])) == {
        "replyToken": "token-1",
        "messages": [MENU],
        "notificationDisabled": False,
    }
    assert _wire(push_request("U1", [MENU])) == {
        "to": "U1",
        "messages": [MENU],
        "notificationDisabled": False,
    }
    assert _wire(multicast_request(["U1", "U2"], [MENU])) == {
        "to": ["U1", "U2"],
        "messages": [MENU],
        "notificationDisabled": False,
    }


def test_the_same_body_as_the_sdks_own_models_build() -> None:
    sdk = ReplyMessageRequest.from_dict({"replyToken": "token-1", "messages": [MENU]})
    assert _wire(reply_request("token-1", [MENU])) == _wire(sdk)


def test_the_sdks_argument_check_keeps_the_prepared_body() -> None:
    """`reply_message` validates its argument as a ReplyMessageRequest; that copy must
    still serialise as the prepared one does."""
    checked = ReplyMessageRequest.validate(reply_request("token-1", [MENU]))
    assert _wire(checked) == _wire(reply_request("token-1", [MENU]))
