"""代理入力 in LINE: a 班長 enters RSVPs for households without LINE (shown only in a 班長's
menu).

  班長: [代わりに出欠] → [行事] → 家の番号 → [参加]/[不参加] → 人数 → [記録する]

Anyone else who reaches a step (a forged postback) is refused at the first step and nothing
is stored; the role (bot/core/han.py) is checked again when the answers are recorded. Paper
rounds are the notices feature's (bot/features/notices/paper_flow.py).
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any

from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, FlowInput, Invalid, Option, Say, Step
from bot.conversation.leader_flows import (
    cannot_start,
    first_next,
    initial_with,
    leader_of,
    nothing_to_pick,
    yes_no,
)
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.features.events import proxy
from bot.features.events.models import Event
from bot.features.events.rsvp_flow import result_says, tell_offers

PROXY = "hancho_rsvp"
TEXT_LIMIT = 300  # typed household labels: a 班 is a few dozen houses
COUNTS = ("1", "2", "3", "4", "5")


def register(registry: Registry) -> None:
    """Add the 代理入力 flow (started from the menu entry shown to 班長 only)."""
    registry.add_flow(PROXY_FLOW)


def _event_options(data: Data, ctx: FlowContext) -> list[Option]:
    leader = leader_of(ctx)
    if leader is None:
        return []
    found = proxy.open_events(ctx.session, association_id=leader.association_id, now=ctx.now)
    return [Option("hancho.item", str(e.id), label=e.title) for e in found]


def _event_of(data: Data, ctx: FlowContext) -> Event | None:
    return ctx.session.get(Event, int(data.get("event") or 0))


def _parse_label(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    label = unicodedata.normalize("NFKC", given.text).strip()
    if not label:
        raise Invalid("hancho.label_empty")
    if "\n" in label or len(label) > proxy.MAX_LABEL:
        raise Invalid("common.too_long", limit=proxy.MAX_LABEL)
    return label


def _no_headcount(data: Data, ctx: FlowContext) -> bool:
    event = _event_of(data, ctx)
    return data.get("answer") != "going" or event is None or not event.headcount_allowed


def _count_options(data: Data, ctx: FlowContext) -> list[Option]:
    event = _event_of(data, ctx)
    limit = min(event.max_party if event else 1, len(COUNTS))
    return [Option("hancho.count_option", n, label_params={"n": n}) for n in COUNTS[:limit]]


def _parse_count(given: FlowInput, data: Data, ctx: FlowContext) -> str:
    text = unicodedata.normalize("NFKC", given.text).strip()
    event = _event_of(data, ctx)
    limit = event.max_party if event else 1
    if not text.isdigit() or not 1 <= int(text) <= limit:
        raise Invalid("hancho.count_range", limit=limit)
    return text


def _proxy_summary(data: Data, ctx: FlowContext) -> dict[str, Any]:
    event = _event_of(data, ctx)
    if data.get("answer") == "going":
        answer = ctx.content.text("hancho.going_party", ctx.locale, n=data.get("count") or 1)
    else:
        answer = ctx.content.text("hancho.answer.not", ctx.locale)
    return {"title": event.title if event else "", "label": data.get("label", ""), "answer": answer}


def _proxy_done(ctx: FlowContext, data: Data) -> list[Say]:
    leader = leader_of(ctx)
    refused = cannot_start(ctx, data, leader, "event", "hancho.no_events")
    if refused is not None or leader is None:
        return refused or []
    event = _event_of(data, ctx)
    if data.get("confirm") != "yes" or event is None:
        return [with_menu(ctx, "hancho.not_recorded")]
    result = proxy.proxy_answer(
        ctx.session,
        leader=leader,
        event_id=int(event.id or 0),
        label=str(data["label"]),
        choice=str(data["answer"]),
        adults=int(data.get("count") or 1),
        now=ctx.now,
    )
    tell_offers(ctx, event, result)
    if result.status in ("saved", "waitlisted"):
        return [
            with_menu(
                ctx,
                f"hancho.proxy_{result.status}",
                {**_proxy_summary(data, ctx), "position": result.position or 0},
            )
        ]
    return result_says(ctx, event, result)


PROXY_FLOW = Flow(
    name=PROXY,
    steps=(
        Step(
            "event",
            "hancho.pick_event",
            options=_event_options,
            skip_if=nothing_to_pick,
            next=first_next("label"),
        ),
        Step(
            "label",
            "hancho.ask_label",
            parse=_parse_label,
            next="answer",
            help_key="hancho.help_label",
            max_text_length=TEXT_LIMIT,
        ),
        Step(
            "answer",
            "hancho.ask_answer",
            options=(Option("hancho.answer.going", "going"), Option("hancho.answer.not", "not")),
            next="count",
        ),
        Step(
            "count",
            "hancho.ask_count",
            options=_count_options,
            parse=_parse_count,
            skip_if=_no_headcount,
            next="confirm",
        ),
        Step("confirm", "hancho.confirm_proxy", prompt_params=_proxy_summary, options=yes_no()),
    ),
    on_complete=_proxy_done,
    ttl=timedelta(minutes=30),
    initial=initial_with(_event_options),
)
