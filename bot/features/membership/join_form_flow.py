"""The application itself: only what the association needs, each answer checked, then a summary.

bot: お名前（世帯の代表の方）を入力してください。        resident: 山田 花子
bot: 世帯の人数は？ [1] [2] [3] [4] [5] [6人以上]     resident: [3]
bot: 部屋番号（マンション名・号室）は？ [なし]           resident: コーポ上田 201
bot: 町内会からの連絡方法は？ [LINE] [電話] [訪問・回覧]  resident: [電話]
bot: 電話番号を入力してください。                         resident: 019-123-4567
bot: 以下の内容で申し込みます。…  [送信する] [修正する]
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, FlowInput, Invalid, Option, Step
from bot.core import place_names
from bot.core.models.areas import Association
from bot.core.models.membership import ContactMethod
from bot.features.membership import join_codes
from bot.features.membership.join_address_flow import chosen
from bot.features.membership.join_steps import JoinStep
from bot.features.membership.memberships import MAX_HOUSEHOLD

NAME_MAX = 40
ROOM_MAX = 40
NO_ROOM = "-"
_URLISH = re.compile(r"https?://|www\.|[<>{}]")
_PHONE = re.compile(r"0\d{9,10}")


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse_name(given: FlowInput, data: Data, ctx: Any) -> str:
    """A person's name: 1-40 characters, some of them letters, no links.

    A QR message scanned mid-form (it holds a join code) is not taken for a name.
    """
    name = _clean(given.text)
    if not name or len(name) > NAME_MAX or _URLISH.search(name) or _has_code(name):
        raise Invalid("join.name_invalid", limit=NAME_MAX)
    if not any(ch.isalpha() for ch in name):
        raise Invalid("join.name_invalid", limit=NAME_MAX)
    return name


def _has_code(text: str) -> bool:
    return any(deliberate for _, deliberate in join_codes.candidates(text))


def parse_household(given: FlowInput, data: Data, ctx: Any) -> str:
    """A typed household size: 1-20 (「3人」 and full-width digits accepted)."""
    digits = _clean(given.text).removesuffix("人").strip()
    if not digits.isdigit() or not 1 <= int(digits) <= MAX_HOUSEHOLD:
        raise Invalid("join.household_invalid", limit=MAX_HOUSEHOLD)
    return str(int(digits))


def parse_room(given: FlowInput, data: Data, ctx: Any) -> str:
    """A building and room (free text, short)."""
    room = _clean(given.text)
    if not room or len(room) > ROOM_MAX or _URLISH.search(room) or _has_code(room):
        raise Invalid("join.room_invalid", limit=ROOM_MAX)
    return room


def parse_phone(given: FlowInput, data: Data, ctx: Any) -> str:
    """A Japanese phone number: 10 or 11 digits starting with 0, separators ignored."""
    digits = re.sub(r"[\s\-‐ー()（）]", "", _clean(given.text))
    if not _PHONE.fullmatch(digits):
        raise Invalid("join.phone_invalid")
    return digits


def summary_params(data: Data, ctx: FlowContext) -> dict[str, Any]:
    """What the summary shows: exactly what the association will see."""
    association_id, town = chosen(data)
    association = ctx.session.get(Association, association_id)
    text = ctx.content.text
    return {
        "association": place_names.association_name(association, ctx.locale) if association else "",
        "town": place_names.stored_town_label(
            ctx.session, association_id, town, ctx.locale, ctx.content
        )
        if town
        else text("join.not_given", ctx.locale),
        "name": data["name"],
        "household": data["household"],
        "room": data["room"] if data.get("room") != NO_ROOM else text("join.not_given", ctx.locale),
        "contact": text(f"join.contact.{data['contact']}", ctx.locale)
        + (f" ({data['phone']})" if data["contact"] == ContactMethod.PHONE else ""),
    }


HOUSEHOLD_OPTIONS = tuple(Option(f"join.household_{n}", str(n)) for n in range(1, 6)) + (
    Option("join.household_more", "6"),
)

STEPS = (
    Step(
        JoinStep.NAME,
        "join.name_ask",
        parse=parse_name,
        next=JoinStep.HOUSEHOLD,
        max_text_length=80,
        help_key="join.name_help",
    ),
    Step(
        JoinStep.HOUSEHOLD,
        "join.household_ask",
        options=HOUSEHOLD_OPTIONS,
        parse=parse_household,
        next=JoinStep.ROOM,
    ),
    Step(
        JoinStep.ROOM,
        "join.room_ask",
        options=(Option("join.no_room", NO_ROOM),),
        parse=parse_room,
        next=JoinStep.CONTACT,
        skip_if=lambda d, ctx: bool(d.get("slip")),  # the slip's household gave its address
        max_text_length=80,
    ),
    Step(
        JoinStep.CONTACT,
        "join.contact_ask",
        options=tuple(Option(f"join.contact.{m.value}", m.value) for m in ContactMethod),
        next=lambda a, d: JoinStep.PHONE if a == ContactMethod.PHONE else JoinStep.CONFIRM,
    ),
    Step(
        JoinStep.PHONE,
        "join.phone_ask",
        parse=parse_phone,
        next=JoinStep.CONFIRM,
        max_text_length=30,
    ),
    Step(
        JoinStep.CONFIRM,
        "join.summary",
        prompt_params=summary_params,
        options=(Option("join.send", "send"), Option("join.fix", "fix")),
        next=lambda a, d: None if a == "send" else JoinStep.NAME,
    ),
)
