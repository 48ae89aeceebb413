"""Typed postback actions: one small dataclass per button kind, with its prefix and fields.

A button's postback data is a short query string (`a=rsvp&e=42&v=yes`). Instead of reading
`data.get("e")` and `int(...)` by hand in each handler, an action declares its fields once:

    @dataclass(frozen=True)
    class RsvpTap(Action, prefix="rsvp"):
        event_id: int = wire("e")
        answer: str = wire("v", choices=("yes", "maybe", "no"))

`RsvpTap(42, "yes").encode()` builds the data (refusing what LINE would refuse), and
`RsvpTap.decode(data)` reads it back or raises `Forged` when a field is missing, not a
number, out of range or not one of its choices: a forged or stale payload then gets a polite
reply from the runner and changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Self, get_type_hints

from bot.conversation import postback

DB_ID_MAX = 2_147_483_647  # PostgreSQL's integer: a larger id can name no row


class Forged(ValueError):
    """Postback data that no button of ours could have sent (or one of an older version)."""


def wire(
    key: str,
    *,
    default: Any = dataclasses.MISSING,
    choices: tuple[str, ...] = (),
    minimum: int = 1,
) -> Any:
    """A field carried in the postback data under the short name `key`; an int field is a
    row id (from 1) unless `minimum` says otherwise (0 for a position in a list)."""
    metadata = {"key": key, "choices": choices, "minimum": minimum}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class Action:
    """Base of typed postback actions; subclasses are frozen dataclasses with `wire` fields."""

    PREFIX: ClassVar[str]

    def __init_subclass__(cls, prefix: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix:
            cls.PREFIX = prefix

    def encode(self) -> str:
        """The postback data of this action."""
        fields: dict[str, str | int] = {"a": self.PREFIX}
        for spec, _hint in _fields_of(type(self)):
            value = getattr(self, spec.name)
            if value is not None:
                fields[spec.metadata["key"]] = value
        return postback.encode(**fields)

    @classmethod
    def decode(cls, data: Mapping[str, str]) -> Self:
        """Read the action back from parsed postback data; `Forged` if it does not fit."""
        if data.get("a") != cls.PREFIX:
            raise Forged(f"not a {cls.PREFIX} action")
        values: dict[str, Any] = {}
        for spec, hint in _fields_of(cls):
            raw = data.get(spec.metadata["key"])
            if raw is None:
                if spec.default is dataclasses.MISSING:
                    raise Forged(f"{cls.PREFIX}: {spec.name} missing")
                continue
            values[spec.name] = _convert(cls.PREFIX, spec, hint, raw)
        return cls(**values)


_FIELDS: dict[type[Action], tuple[tuple[dataclasses.Field[Any], Any], ...]] = {}


def _fields_of(cls: type[Action]) -> tuple[tuple[dataclasses.Field[Any], Any], ...]:
    """An action's fields with their resolved types, worked out once per class (resolving
    the annotations was a tenth of a surge batch's time)."""
    if cls not in _FIELDS:
        hints = get_type_hints(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # subclasses are dataclasses
        _FIELDS[cls] = tuple((spec, hints[spec.name]) for spec in fields)
    return _FIELDS[cls]


def _convert(prefix: str, spec: dataclasses.Field[Any], hint: Any, raw: str) -> Any:
    choices = spec.metadata["choices"]
    if choices and raw not in choices:
        raise Forged(f"{prefix}: {spec.name} not one of {choices}")
    if hint is int or hint == int | None:
        minimum = spec.metadata["minimum"]
        if not raw.isascii() or not raw.isdigit() or not minimum <= int(raw) <= DB_ID_MAX:
            raise Forged(f"{prefix}: {spec.name} is not a number from {minimum}")
        return int(raw)
    if len(raw) > 200:
        raise Forged(f"{prefix}: {spec.name} too long")
    return raw
