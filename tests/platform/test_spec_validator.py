"""SpecValidator: LINE's OpenAPI spec plus documented limits, as request checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bot.simulator.spec import (
    SPEC_DIR_ENV,
    SPEC_FILE_NAME,
    SPEC_SKIP_REASON,
    SpecValidator,
    find_spec_dir,
    grapheme_length,
    to_json_schemas,
    utf16_length,
)

AUTH = {"Authorization": "Bearer token"}
RETRY_KEY = "123e4567-e89b-12d3-a456-426614174000"


@pytest.fixture(scope="module")
def validator() -> SpecValidator:
    spec_dir = find_spec_dir()
    if spec_dir is None:
        pytest.skip(SPEC_SKIP_REASON)
    return SpecValidator.load(spec_dir, crosscheck=True)


def text(body: str = "こんにちは") -> dict[str, Any]:
    return {"type": "text", "text": body}


def postback(data: str = "f=rsvp&s=choose&v=1", label: str = "参加する") -> dict[str, Any]:
    return {"type": "postback", "label": label, "data": data, "displayText": label}


def buttons_message(*actions: dict[str, Any]) -> dict[str, Any]:
    template = {"type": "buttons", "title": "夏祭り", "text": "参加しますか?"}
    template["actions"] = list(actions)
    return {"type": "template", "altText": "夏祭りのお知らせ", "template": template}


def flex_message(button: dict[str, Any]) -> dict[str, Any]:
    body = {
        "type": "box",
        "layout": "vertical",
        "contents": [{"type": "text", "text": "清掃活動", "wrap": True}, button],
    }
    return {"type": "flex", "altText": "清掃活動", "contents": {"type": "bubble", "body": body}}


def quick_reply(count: int, label: str = "はい") -> dict[str, Any]:
    item = {"type": "action", "action": {"type": "message", "label": label, "text": label}}
    return {**text("どれにしますか"), "quickReply": {"items": [item] * count}}


def push(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"to": "U" + "0" * 32, "messages": list(messages)}


def errors_for_push(validator: SpecValidator, *messages: dict[str, Any]) -> list[str]:
    return validator.validate("POST", "/v2/bot/message/push", push(*messages), AUTH)


GOOD_MESSAGES = {
    "text with quick reply": quick_reply(13),
    "buttons template with postback": buttons_message(postback(), postback("f=rsvp&v=0", "不参加")),
    "flex bubble with button": flex_message({"type": "button", "action": postback()}),
    "sticker": {"type": "sticker", "packageId": "446", "stickerId": "1988"},
}


@pytest.mark.parametrize("message", GOOD_MESSAGES.values(), ids=GOOD_MESSAGES.keys())
def test_conforming_push_passes(validator: SpecValidator, message: dict[str, Any]) -> None:
    headers = {**AUTH, "X-Line-Retry-Key": RETRY_KEY}
    assert validator.validate("POST", "/v2/bot/message/push", push(message), headers) == []


def test_conforming_reply_and_multicast_pass(validator: SpecValidator) -> None:
    reply = {"replyToken": "abc", "messages": [text(), buttons_message(postback())]}
    multicast = {"to": [f"U{i:032d}" for i in range(500)], "messages": [text()] * 5}
    assert validator.validate("POST", "/v2/bot/message/reply", reply, AUTH) == []
    assert validator.validate("POST", "/v2/bot/message/multicast", multicast, AUTH) == []


def test_get_with_path_parameter_passes(validator: SpecValidator) -> None:
    assert validator.validate("GET", "/v2/bot/profile/U123", None, AUTH) == []


BAD_MESSAGES = {
    "missing text": ({"type": "text"}, "messages[0]: 'text' is a required property"),
    "unknown type": ({"type": "bogus"}, "messages[0].type: 'bogus' is not one of"),
    "14 quick reply items": (quick_reply(14), "messages[0].quickReply.items: has 14 items"),
    "quick reply label of 21": (quick_reply(1, "あ" * 21), "items[0].action.label: is 21"),
    "postback data of 301": (
        buttons_message(postback("x" * 301)),
        "messages[0].template.actions[0].data: is 301 characters long; LINE allows at most 300",
    ),
    "button template label of 21": (
        buttons_message(postback(label="い" * 21)),
        "messages[0].template.actions[0].label: is 21 characters long",
    ),
    "five buttons": (buttons_message(*[postback()] * 5), "template.actions: has 5 items"),
    "flex button without action": (
        flex_message({"type": "button"}),
        "messages[0].contents.body.contents[1]: 'action' is a required property",
    ),
    "flex button action without uri": (
        flex_message({"type": "button", "action": {"type": "uri", "label": "開く"}}),
        "contents[1].action: 'uri' is a required property",
    ),
    "postback action without data": (
        buttons_message({"type": "postback", "label": "参加"}),
        "actions[0]: 'data' is a required property",
    ),
    "text of 5001": (text("a" * 5001), "messages[0].text: is 5001 characters long"),
    "flex altText of 1501": (
        {**flex_message({"type": "button", "action": postback()}), "altText": "a" * 1501},
        "messages[0].altText: is 1501 characters long; LINE allows at most 1500",
    ),
}


@pytest.mark.parametrize(("message", "expected"), BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
def test_nonconforming_message_is_reported(
    validator: SpecValidator, message: dict[str, Any], expected: str
) -> None:
    errors = errors_for_push(validator, message)
    assert any(expected in error for error in errors), errors


ALL_MESSAGES = {**GOOD_MESSAGES, **{name: case[0] for name, case in BAD_MESSAGES.items()}}


@pytest.mark.parametrize("message", ALL_MESSAGES.values(), ids=ALL_MESSAGES.keys())
def test_fast_and_exhaustive_validators_agree(
    validator: SpecValidator, message: dict[str, Any]
) -> None:
    body = push(message)
    exhaustive = validator.exhaustive_errors("PushMessageRequest", body)
    assert validator.conforms("PushMessageRequest", body) == (exhaustive == [])


def test_a_disagreement_between_validators_is_an_error(
    validator: SpecValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validator, "conforms", lambda name, instance: True)
    errors = errors_for_push(validator, {"type": "text"})
    assert "messages[0]: 'text' is a required property" in errors
    assert any("validators disagree on PushMessageRequest" in e for e in errors), errors


def test_six_messages_are_too_many(validator: SpecValidator) -> None:
    errors = errors_for_push(validator, *[text()] * 6)
    assert errors == ["messages: has 6 items; LINE allows at most 5"]


def test_501_multicast_recipients_are_too_many(validator: SpecValidator) -> None:
    body = {"to": [f"U{i:032d}" for i in range(501)], "messages": [text()]}
    errors = validator.validate("POST", "/v2/bot/message/multicast", body, AUTH)
    assert errors == ["to: has 501 items; LINE allows at most 500"]


def test_flex_component_type_must_match_its_slot(validator: SpecValidator) -> None:
    bubble = {"type": "bubble", "body": {"type": "text", "text": "本文"}}
    message = {"type": "flex", "altText": "お知らせ", "contents": bubble}
    errors = errors_for_push(validator, message)
    assert "messages[0].contents.body.type: 'text' is not one of ['box']" in errors


def test_retry_key_must_be_a_uuid(validator: SpecValidator) -> None:
    headers = {**AUTH, "x-line-retry-key": "retry-1"}
    errors = validator.validate("POST", "/v2/bot/message/push", push(text()), headers)
    assert errors == ["X-Line-Retry-Key: 'retry-1' is not a UUID in hexadecimal form"]


def test_missing_body_and_authorization_are_reported(validator: SpecValidator) -> None:
    errors = validator.validate("POST", "/v2/bot/message/push", None, {})
    assert errors == [
        "Authorization: a Bearer channel access token is required",
        "request body is required",
    ]


def test_required_query_parameter_is_checked(validator: SpecValidator) -> None:
    path = "/v2/bot/message/delivery/push"
    assert validator.validate("GET", path, None, AUTH) == [
        "date: required query parameter is missing"
    ]
    assert validator.validate("GET", f"{path}?date=20250101", None, AUTH) == []


def test_unknown_path_or_method_is_an_error(validator: SpecValidator) -> None:
    assert validator.validate("GET", "/v2/bot/nothing", None, AUTH) == [
        "GET /v2/bot/nothing is not in the spec"
    ]
    assert validator.validate("PUT", "/v2/bot/message/push", push(text()), AUTH) != []


def test_literal_path_segments_win_over_templates(validator: SpecValidator) -> None:
    default_menu = validator.find_operation("POST", "/v2/bot/user/all/richmenu/richmenu-1")
    menu_list = validator.find_operation("GET", "/v2/bot/richmenu/list")
    assert default_menu is not None and menu_list is not None
    assert default_menu.template == "/v2/bot/user/all/richmenu/{richMenuId}"
    assert menu_list.template == "/v2/bot/richmenu/list"


def test_rich_menu_needs_the_fields_line_documents(validator: SpecValidator) -> None:
    errors = validator.validate("POST", "/v2/bot/richmenu", {"name": "menu"}, AUTH)
    assert "size: required by LINE" in errors
    assert "areas: required by LINE" in errors


def test_nullable_becomes_a_null_union() -> None:
    limit = {"type": "integer", "nullable": True}
    schemas = {"Plan": {"type": "object", "properties": {"limit": limit}}}
    converted = to_json_schemas(schemas)
    assert converted["Plan"]["properties"]["limit"]["type"] == ["integer", "null"]


def test_discriminator_dispatches_to_the_mapped_schema() -> None:
    mapping = {"cat": "#/components/schemas/Cat"}
    schemas = {
        "Pet": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string"}},
            "discriminator": {"propertyName": "kind", "mapping": mapping},
        },
        "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"required": ["purr"]}]},
    }
    converted = to_json_schemas(copy.deepcopy(schemas))
    assert converted["Cat"]["allOf"][0] == {"$ref": "#/components/schemas/Pet__base"}
    assert "discriminator" not in converted["Pet__base"]
    validator = SpecValidator({"paths": {}, "components": {"schemas": schemas}})
    assert validator.validate_schema("Pet", {"kind": "cat", "purr": True}) == []
    assert validator.validate_schema("Pet", {"kind": "cat"}) == ["'purr' is a required property"]
    dog_errors = validator.validate_schema("Pet", {"kind": "dog"})
    assert dog_errors == ["kind: 'dog' is not one of ['cat']"]


def test_find_spec_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SPEC_DIR_ENV, str(tmp_path))
    assert find_spec_dir() is None
    (tmp_path / SPEC_FILE_NAME).write_text("openapi: 3.0.0\n", encoding="utf-8")
    assert find_spec_dir() == tmp_path


def test_lengths_are_counted_as_line_counts_them() -> None:
    assert utf16_length("🍎") == 2  # message text counts UTF-16 code units
    assert grapheme_length("🍎") == 1  # labels count user-perceived characters
    assert grapheme_length("👨‍👩‍👧🇯🇵") == 2
    assert grapheme_length("か\u3099き") == 2  # か + combining dakuten is one character
