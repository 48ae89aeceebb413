"""班長 in LINE: tick households handed the paper 回覧板 (shown only in a 班長's menu).

  班長: [紙で配った家] → bot: どのお知らせ？ [ごみ集積所の清掃] …
  班長: [ごみ集積所の清掃] → bot: 配った家の番号を書いてください（例：3-12, 3-14）
  班長: 3-12, 3-14        → bot: 2軒を記録します。よろしいですか？ [記録する] [やめる]
  班長: [記録する]         → bot: 2軒を「紙で配った」と記録しました。

Anyone else who reaches a step (a forged postback) is refused at the first step and nothing
is stored; the role (bot/core/han.py) is checked again when the answers are recorded. The
RSVPs a 班長 enters for households without LINE are the events feature's
(bot/features/events/proxy_flow.py).
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
from bot.features.notices import paper_rounds
from bot.features.notices.paper_rounds import PaperError, parse_households

PAPER = "hancho_paper"
TEXT_LIMIT = 300  # typed household labels: a 班 is a few dozen houses


def register(registry: Registry) -> None:
    """Add the paper-round flow (started from the menu entry shown to 班長 only)."""
    registry.add_flow(PAPER_FLOW)


def _notice_options(data: Data, ctx: FlowContext) -> list[Option]:
    leader = leader_of(ctx)
    if leader is None:
        return []
    found = paper_rounds.recent_notices(ctx.session, association_id=leader.association_id)
    return [Option("hancho.item", str(n.id), label=n.title) for n in found]


def _parse_households(given: FlowInput, data: Data, ctx: FlowContext) -> list[str]:
    try:
        return parse_households(unicodedata.normalize("NFKC", given.text))
    except PaperError as bad:
        raise Invalid(f"hancho.households_{bad.code}") from None


def _paper_summary(data: Data, ctx: FlowContext) -> dict[str, Any]:
    households = list(data.get("households") or [])
    return {"count": len(households), "households": ctx.content.join(households, ctx.locale)}


def _paper_done(ctx: FlowContext, data: Data) -> list[Say]:
    leader = leader_of(ctx)
    refused = cannot_start(ctx, data, leader, "notice", "hancho.no_notices")
    if refused is not None or leader is None:
        return refused or []
    if data.get("confirm") != "yes":
        return [with_menu(ctx, "hancho.not_recorded")]
    try:
        result = paper_rounds.tick_as_leader(
            ctx.session,
            leader=leader,
            notice_id=int(data["notice"]),
            households=list(data["households"]),
            now=ctx.now,
        )
    except (PaperError, ValueError):
        return [with_menu(ctx, "hancho.notice_gone")]
    return [
        with_menu(
            ctx,
            "hancho.ticked",
            {"added": result.added, "already": result.already, "han": leader.han},
        )
    ]


PAPER_FLOW = Flow(
    name=PAPER,
    steps=(
        Step(
            "notice",
            "hancho.pick_notice",
            options=_notice_options,
            skip_if=nothing_to_pick,
            next=first_next("households"),
        ),
        Step(
            "households",
            "hancho.ask_households",
            parse=_parse_households,
            next="confirm",
            help_key="hancho.help_households",
            max_text_length=TEXT_LIMIT,
        ),
        Step("confirm", "hancho.confirm_paper", prompt_params=_paper_summary, options=yes_no()),
    ),
    on_complete=_paper_done,
    ttl=timedelta(minutes=30),
    initial=initial_with(_notice_options),
)
