"""LINE's published OpenAPI spec, used as a request validator.

The stand-in LINE platform and the tests check every request the bot sends
against ``messaging-api.yml`` from github.com/line/line-openapi, plus the
documented limits that the spec does not encode (see ``_limit_errors``).

OpenAPI 3.0 is not plain JSON Schema: ``nullable`` and ``discriminator`` need
translating. LINE models its polymorphic objects (Message, Action, Template,
FlexComponent, ...) as a base schema with ``discriminator.mapping`` whose
subschemas are ``allOf: [$ref base, {...}]``. Validated naively, a reference to
the base checks only the base's few properties, so a flex button without its
``action`` would pass. ``to_json_schemas`` therefore rewrites each base into a
dispatch on the discriminator value (an if/then per mapped type) and lets the
subschemas extend a copy of the base without the dispatch.

Text lengths follow LINE's counting rules: message text and altText in UTF-16
code units; action labels and template texts in grapheme clusters, which
``grapheme_length`` approximates without a third-party dependency.

Every request is first checked by a validator that fastjsonschema compiles from the
same schemas (≈10× faster than jsonschema, which matters when the stand-in shares a
machine with the bot it measures); only a request it refuses goes through jsonschema,
which names every error. Both read the translated schemas, and a test holds them to the
same verdicts.
"""

from __future__ import annotations

import copy
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7

SPEC_FILE_NAME = "messaging-api.yml"
SPEC_DIR_ENV = "LINE_OPENAPI_DIR"
SPEC_SKIP_REASON = (
    "LINE's OpenAPI spec folder (messaging-api.yml, expected in ../shared/line-openapi "
    "or in $LINE_OPENAPI_DIR) is absent, so the spec checks are skipped."
)

_DOC_URI = "urn:line-openapi:messaging-api"
_SCHEMA_PREFIX = "#/components/schemas/"
_BASE_SUFFIX = "__base"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_MESSAGE_MAX = 200
# Fields LINE's reference documents as required that the spec leaves optional.
DOCUMENTED_REQUIRED: dict[str, tuple[str, ...]] = {
    "PostbackAction": ("data",),
    "MessageAction": ("text",),
    "URIAction": ("uri",),
    "DatetimePickerAction": ("data", "mode"),
    "RichMenuSwitchAction": ("richMenuAliasId", "data"),
}


def find_spec_dir() -> Path | None:
    """Locate the folder holding LINE's OpenAPI files, or None when it is absent.

    ``$LINE_OPENAPI_DIR`` wins; otherwise ``<repo root>/../shared/line-openapi``.
    """
    configured = os.environ.get(SPEC_DIR_ENV)
    repo_root = Path(__file__).resolve().parents[2]
    candidate = Path(configured) if configured else repo_root.parent / "shared" / "line-openapi"
    return candidate if (candidate / SPEC_FILE_NAME).is_file() else None


@dataclass(frozen=True)
class SpecError:
    """One way a request departs from the spec; ``property`` uses LINE's notation."""

    property: str
    message: str

    def __str__(self) -> str:
        return f"{self.property}: {self.message}" if self.property else self.message


@dataclass(frozen=True)
class Operation:
    """One (method, path template) of the spec with its merged parameters."""

    method: str
    template: str
    pattern: re.Pattern[str]
    literal_segments: int
    parameters: tuple[dict[str, Any], ...]
    request_body: dict[str, Any] | None
    needs_bearer: bool


class SpecValidator:
    """Checks requests against LINE's Messaging API spec and documented limits."""

    def __init__(self, document: Mapping[str, Any], *, crosscheck: bool = False) -> None:
        """``crosscheck`` runs jsonschema on every request too and reports any verdict the
        fast validator got differently (the test suite turns it on)."""
        self._crosscheck = crosscheck
        schemas = to_json_schemas(document.get("components", {}).get("schemas", {}))
        _require_documented_fields(schemas)
        self._document = {"components": {"schemas": schemas}}
        self._registry: Registry = Registry().with_resource(
            _DOC_URI, DRAFT7.create_resource(self._document)
        )
        self._validators: dict[str, Draft7Validator] = {}
        self._fast: dict[str, Callable[[Any], Any]] = {}
        global_security = bool(document.get("security"))
        self._operations = sorted(
            _operations(document.get("paths", {}), global_security),
            key=lambda op: -op.literal_segments,  # /user/all/... before /user/{userId}/...
        )

    @classmethod
    def load(cls, spec_dir: Path, *, crosscheck: bool = False) -> SpecValidator:
        """Read ``messaging-api.yml`` from ``spec_dir``."""
        with (spec_dir / SPEC_FILE_NAME).open(encoding="utf-8") as stream:
            return cls(yaml.safe_load(stream), crosscheck=crosscheck)

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The spec operation serving ``method path`` (query string ignored)."""
        bare = path.split("?", 1)[0]
        for op in self._operations:
            if op.method == method.lower() and op.pattern.fullmatch(bare):
                return op
        return None

    def check(
        self, method: str, path: str, body: Any | None, headers: Mapping[str, str]
    ) -> list[SpecError]:
        """Structured form of ``validate``."""
        op = self.find_operation(method, path)
        if op is None:
            return [SpecError("", f"{method.upper()} {path.split('?', 1)[0]} is not in the spec")]
        lowered = {key.lower(): value for key, value in headers.items()}
        errors = _header_errors(op, lowered) + _query_errors(op, path)
        errors += self._body_errors(op, body)
        if isinstance(body, dict):
            errors += [SpecError(prop, msg) for prop, msg in limit_errors(op.template, body)]
        return errors

    def validate(
        self, method: str, path: str, body: Any | None, headers: Mapping[str, str]
    ) -> list[str]:
        """Human-readable errors for one request; an empty list means it conforms."""
        return [str(error) for error in self.check(method, path, body, headers)]

    def validate_schema(self, schema_name: str, instance: Any) -> list[str]:
        """Validate any value against a named component schema (e.g. ``"Message"``)."""
        return [str(error) for error in self._schema_errors(schema_name, instance)]

    def conforms(self, schema_name: str, instance: Any) -> bool:
        """The fast verdict alone: True when ``instance`` meets the named schema."""
        check = self._fast.get(schema_name)
        if check is None:
            root = {"$ref": _SCHEMA_PREFIX + schema_name, **self._document}
            # jsonschema checks no formats unless asked; neither does this.
            check = fastjsonschema.compile(root, use_formats=False)
            self._fast[schema_name] = check
        try:
            check(instance)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    def exhaustive_errors(self, schema_name: str, instance: Any) -> list[str]:
        """jsonschema's full list of errors, without the fast verdict (tests compare both)."""
        return [str(_to_spec_error(e)) for e in self._iter_errors(schema_name, instance)]

    def _schema_errors(self, schema_name: str, instance: Any) -> list[SpecError]:
        fast_pass = self.conforms(schema_name, instance)
        if fast_pass and not self._crosscheck:
            return []
        errors = [_to_spec_error(e) for e in self._iter_errors(schema_name, instance)]
        if fast_pass != (not errors):  # a bug of ours, never a pass for the request
            verdicts = f"fastjsonschema {'passes' if fast_pass else 'refuses'}, jsonschema "
            verdicts += "refuses" if errors else "passes"
            return [*errors, SpecError("", f"validators disagree on {schema_name}: {verdicts}")]
        return errors

    def _body_errors(self, op: Operation, body: Any | None) -> list[SpecError]:
        content = (op.request_body or {}).get("content", {})
        json_media = content.get("application/json")
        if json_media is None:
            return []  # binary uploads (rich menu images) carry no JSON to check
        if body is None:
            required = bool((op.request_body or {}).get("required"))
            return [SpecError("", "request body is required")] if required else []
        ref = json_media.get("schema", {}).get("$ref", "")
        if not ref.startswith(_SCHEMA_PREFIX):
            return []
        return self._schema_errors(ref.removeprefix(_SCHEMA_PREFIX), body)

    def _iter_errors(self, schema_name: str, instance: Any) -> Iterator[ValidationError]:
        validator = self._validators.get(schema_name)
        if validator is None:
            ref = {"$ref": f"{_DOC_URI}{_SCHEMA_PREFIX}{schema_name}"}
            validator = Draft7Validator(ref, registry=self._registry)
            self._validators[schema_name] = validator
        return iter(sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))))


def to_json_schemas(schemas: Mapping[str, Any]) -> dict[str, Any]:
    """Translate OpenAPI 3.0 component schemas into JSON Schema (draft 7)."""
    converted: dict[str, Any] = _convert_nullable(copy.deepcopy(dict(schemas)))
    for name in [n for n, s in converted.items() if "discriminator" in s]:
        _dispatch_on_discriminator(converted, name)
    return converted


def _require_documented_fields(schemas: dict[str, Any]) -> None:
    for name, fields in DOCUMENTED_REQUIRED.items():
        if name in schemas:
            schemas[name].setdefault("allOf", []).append({"required": list(fields)})


def _convert_nullable(node: Any) -> Any:
    """OAS ``nullable: true`` becomes a JSON Schema type union with ``null``."""
    if isinstance(node, list):
        return [_convert_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _convert_nullable(value) for key, value in node.items()}
    if result.pop("nullable", False):
        if "type" in result:
            result["type"] = [result["type"], "null"]
            if "enum" in result:
                result["enum"] = [*result["enum"], None]
        else:
            result = {"anyOf": [{"type": "null"}, result]}
    return result


def _dispatch_on_discriminator(schemas: dict[str, Any], name: str) -> None:
    """Make ``name`` pick its mapped subschema by the discriminator property's value."""
    base = schemas[name]
    discriminator = base.pop("discriminator")
    mapping: dict[str, str] = discriminator.get("mapping", {})
    if not mapping:
        return
    prop = discriminator["propertyName"]
    base_name = name + _BASE_SUFFIX
    schemas[base_name] = base
    targets: dict[str, list[str]] = {}
    for value, ref in mapping.items():
        targets.setdefault(ref.removeprefix(_SCHEMA_PREFIX), []).append(value)
    for target, values in targets.items():
        _extend_base_copy(schemas[target], name, base_name, prop, values)
    schemas[name] = {
        "type": "object",
        "required": [prop],
        "properties": {prop: {"type": "string", "enum": list(mapping)}},
        "allOf": [
            {
                "if": {"required": [prop], "properties": {prop: {"const": value}}},
                "then": {"$ref": ref},
            }
            for value, ref in mapping.items()
        ],
    }


def _extend_base_copy(
    target: dict[str, Any], name: str, base_name: str, prop: str, values: list[str]
) -> None:
    """Point a subschema's ``allOf`` at the dispatch-free base and pin its type value.

    Pinning matters where the subschema is referenced directly (a bubble's
    ``body`` is a FlexBox): the type must still say ``box``.
    """
    base_ref = {"$ref": _SCHEMA_PREFIX + name}
    all_of = [
        {"$ref": _SCHEMA_PREFIX + base_name} if part == base_ref else part
        for part in target.get("allOf", [])
    ]
    all_of.append({"properties": {prop: {"enum": values}}})
    target["allOf"] = all_of


def _operations(paths: Mapping[str, Any], global_security: bool) -> Iterator[Operation]:
    for template, item in paths.items():
        shared = tuple(item.get("parameters", []))
        for method, spec in item.items():
            if method not in _HTTP_METHODS:
                continue
            security = spec.get("security")
            yield Operation(
                method=method,
                template=template,
                pattern=_template_pattern(template),
                literal_segments=sum("{" not in seg for seg in template.split("/")),
                parameters=shared + tuple(spec.get("parameters", [])),
                request_body=spec.get("requestBody"),
                needs_bearer=bool(security) if security is not None else global_security,
            )


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _header_errors(op: Operation, headers: Mapping[str, str]) -> list[SpecError]:
    errors: list[SpecError] = []
    if op.needs_bearer:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            errors.append(SpecError("Authorization", "a Bearer channel access token is required"))
    for param in _params_in(op.parameters, "header"):
        name = param["name"]
        value = headers.get(name.lower())
        if value is None:
            if param.get("required"):
                errors.append(SpecError(name, "required header is missing"))
        elif param.get("schema", {}).get("format") == "uuid" and not _UUID.match(value):
            errors.append(SpecError(name, f"{value!r} is not a UUID in hexadecimal form"))
    return errors


def _query_errors(op: Operation, path: str) -> list[SpecError]:
    query = path.split("?", 1)[1] if "?" in path else ""
    present = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
    return [
        SpecError(param["name"], "required query parameter is missing")
        for param in _params_in(op.parameters, "query")
        if param.get("required") and param["name"] not in present
    ]


def _params_in(params: Iterable[dict[str, Any]], where: str) -> Iterator[dict[str, Any]]:
    return (p for p in params if p.get("in") == where and "name" in p)


def _to_spec_error(error: ValidationError) -> SpecError:
    return SpecError(format_property(error.absolute_path), _describe(error))


def _describe(error: ValidationError) -> str:
    """jsonschema's message, without echoing a long instance back."""
    limit, instance = error.validator_value, error.instance
    if error.validator in ("maxItems", "minItems") and isinstance(instance, list):
        bound = "most" if error.validator == "maxItems" else "least"
        return f"has {len(instance)} items; LINE allows at {bound} {limit}"
    if error.validator in ("maxLength", "minLength") and isinstance(instance, str):
        bound = "most" if error.validator == "maxLength" else "least"
        return f"is {len(instance)} characters long; LINE allows at {bound} {limit}"
    message = error.message
    return message if len(message) <= _MESSAGE_MAX else message[: _MESSAGE_MAX - 1] + "…"


def format_property(path: Iterable[str | int]) -> str:
    """``["messages", 0, "text"]`` -> ``"messages[0].text"``, as LINE reports it."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# --- LINE's documented limits that messaging-api.yml leaves out -------------
# The spec already encodes: at most 5 messages per request, multicast `to` at
# most 500, quick reply at most 13 items, postback/datetimepicker data at most
# 300 characters, rich menu chatBarText 14 and name 300. The rest is below.
TEXT_MAX = 5000  # text and textV2 messages, UTF-16 code units
ALT_TEXT_MAX = {"template": 400, "flex": 1500, "imagemap": 1500}
LABEL_MAX = 20  # quick reply items, buttons/confirm/carousel templates, rich menu areas
IMAGE_CAROUSEL_LABEL_MAX = 12
ACTION_TEXT_MAX = 300  # message action text, postback displayText
URI_MAX = 1000
CAROUSEL_COLUMNS_MAX = 10
RICH_MENU_AREAS_MAX = 20
# card kind: (max actions, max title, max text, max text when an image or title is shown)
_CARD_LIMITS: dict[str, tuple[int, int | None, int, int]] = {
    "buttons": (4, 40, 160, 60),
    "confirm": (2, None, 240, 240),
    "carousel_column": (3, 40, 120, 60),
}
_RICH_MENU_REQUIRED = ("size", "selected", "name", "chatBarText", "areas")
_RICH_MENU_TEMPLATES = frozenset({"/v2/bot/richmenu", "/v2/bot/richmenu/validate"})
_GRAPHEME_EXTENDERS = ((0xFE00, 0xFE0F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F))

Problem = tuple[str, str]  # (property, message)


def limit_errors(template: str, body: Mapping[str, Any]) -> list[Problem]:
    """Documented LINE limits broken by a request body of operation ``template``."""
    if template in _RICH_MENU_TEMPLATES:
        return _rich_menu_limits(body)
    problems: list[Problem] = []
    for i, message in enumerate(_dicts(body.get("messages"))):
        problems += _message_limits(message, f"messages[{i}]")
    return problems


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as LINE counts message text."""
    return len(text.encode("utf-16-le")) // 2


def grapheme_length(text: str) -> int:
    """Approximate number of grapheme clusters (user-perceived characters).

    Combining marks, variation selectors, skin-tone modifiers, emoji tags and
    whatever follows a zero-width joiner extend the previous cluster; a pair of
    regional indicators is one flag. Hangul jamo sequences are not joined.
    """
    count, after_joiner, open_flag = 0, False, False
    for char in text:
        code = ord(char)
        if after_joiner or code == 0x200D:
            after_joiner = code == 0x200D
            continue
        extends = any(lo <= code <= hi for lo, hi in _GRAPHEME_EXTENDERS)
        if extends or unicodedata.category(char) in ("Mn", "Me"):
            continue
        is_indicator = 0x1F1E6 <= code <= 0x1F1FF
        if is_indicator and open_flag:
            open_flag = False
            continue
        open_flag = is_indicator
        count += 1
    return count


def _message_limits(message: Mapping[str, Any], at: str) -> list[Problem]:
    kind = message.get("type")
    problems: list[Problem] = []
    if kind in ("text", "textV2"):
        problems += _too_long(message.get("text"), TEXT_MAX, f"{at}.text", utf16_length)
    if isinstance(kind, str) and kind in ALT_TEXT_MAX:
        limit = ALT_TEXT_MAX[kind]
        problems += _too_long(message.get("altText"), limit, f"{at}.altText", utf16_length)
    if kind == "template" and isinstance(message.get("template"), dict):
        problems += _template_limits(message["template"], f"{at}.template")
    if kind == "flex":
        problems += _flex_limits(message.get("contents"), f"{at}.contents")
    quick_reply = message.get("quickReply")
    items = quick_reply.get("items") if isinstance(quick_reply, dict) else None
    for j, item in enumerate(_dicts(items)):
        problems += _action_limits(item.get("action"), f"{at}.quickReply.items[{j}].action")
    return problems


def _template_limits(template: Mapping[str, Any], at: str) -> list[Problem]:
    kind = template.get("type")
    if kind in ("buttons", "confirm"):
        return _card_limits(template, at, kind)
    if kind not in ("carousel", "image_carousel"):
        return []
    columns = template.get("columns")
    problems = _too_many(columns, CAROUSEL_COLUMNS_MAX, f"{at}.columns")
    for k, column in enumerate(_dicts(columns)):
        where = f"{at}.columns[{k}]"
        if kind == "carousel":
            problems += _card_limits(column, where, "carousel_column")
        else:
            problems += _action_limits(
                column.get("action"), f"{where}.action", IMAGE_CAROUSEL_LABEL_MAX
            )
    return problems


def _card_limits(card: Mapping[str, Any], at: str, kind: str) -> list[Problem]:
    max_actions, max_title, max_text, max_text_rich = _CARD_LIMITS[kind]
    rich = "thumbnailImageUrl" in card or "title" in card
    text_max = max_text_rich if rich else max_text
    problems = _too_many(card.get("actions"), max_actions, f"{at}.actions")
    if max_title is not None:
        problems += _too_long(card.get("title"), max_title, f"{at}.title", grapheme_length)
    problems += _too_long(card.get("text"), text_max, f"{at}.text", grapheme_length)
    for n, action in enumerate(_dicts(card.get("actions"))):
        problems += _action_limits(action, f"{at}.actions[{n}]")
    # a defaultAction has no visible button, so its label is not limited
    problems += _action_limits(card.get("defaultAction"), f"{at}.defaultAction", None)
    return problems


def _flex_limits(node: Any, at: str) -> list[Problem]:
    """Action texts anywhere in a flex container (labels there follow other rules)."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _flex_limits(item, f"{at}[{i}]")]
    if not isinstance(node, dict):
        return []
    problems: list[Problem] = []
    for key, value in node.items():
        if key in ("action", "defaultAction"):
            problems += _action_limits(value, f"{at}.{key}", None)
        else:
            problems += _flex_limits(value, f"{at}.{key}")
    return problems


def _action_limits(action: Any, at: str, label_max: int | None = LABEL_MAX) -> list[Problem]:
    if not isinstance(action, dict):
        return []
    problems: list[Problem] = []
    if label_max is not None:
        problems += _too_long(action.get("label"), label_max, f"{at}.label", grapheme_length)
    text_max = ACTION_TEXT_MAX
    problems += _too_long(action.get("displayText"), text_max, f"{at}.displayText", len)
    if action.get("type") == "message":
        problems += _too_long(action.get("text"), text_max, f"{at}.text", grapheme_length)
    if action.get("type") == "postback" and "displayText" in action and "text" in action:
        problems.append((at, "displayText and text cannot both be set"))
    if action.get("type") == "uri":
        problems += _too_long(action.get("uri"), URI_MAX, f"{at}.uri", len)
    return problems


def _rich_menu_limits(body: Mapping[str, Any]) -> list[Problem]:
    problems = [(key, "required by LINE") for key in _RICH_MENU_REQUIRED if key not in body]
    areas = body.get("areas")
    problems += _too_many(areas, RICH_MENU_AREAS_MAX, "areas")
    for i, area in enumerate(_dicts(areas)):
        problems += _action_limits(area.get("action"), f"areas[{i}].action")
    return problems


def _too_long(value: Any, limit: int, at: str, measure: Callable[[str], int]) -> list[Problem]:
    if not isinstance(value, str) or (length := measure(value)) <= limit:
        return []
    return [(at, f"is {length} characters long; LINE allows at most {limit}")]


def _too_many(value: Any, limit: int, at: str) -> list[Problem]:
    if not isinstance(value, list) or len(value) <= limit:
        return []
    return [(at, f"has {len(value)} items; LINE allows at most {limit}")]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
