"""班長 in LINE: my 班's households, for notices and for joining.

  班長: [班の名簿] → bot: 1班：10世帯（LINE 6・紙 4） [お知らせの配布] [紙で配った家] [LINEに誘う]
  班長: [LINEに誘う] → bot: LINEに登録していない家：4軒
                            101 山田 / 102 佐藤 …  [案内票を印刷]（その家だけのQR付き）

The notice worklist itself is the notices feature's (flow `hancho_worklist`, started by name).
The slips link is signed for this 班 and expires, so a forwarded link does not open the
register for long. What a 班長 sees is name and room only, for their own 班 as it is now: the
April hand-over (bot/core/han.py) moves the lists with the role.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation import postback
from bot.conversation.actions import Action
from bot.conversation.context import FlowContext
from bot.conversation.engine import Option, Say
from bot.conversation.leader_flows import leader_of
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.core import audit
from bot.features.households import progress
from bot.features.households.public_routes import slips_url

NOTICE_WORKLIST = "hancho_worklist"  # the notices feature's flows, started by name
PAPER_BY_NUMBER = "hancho_paper"
LISTED = 30  # households named in one message


@dataclass(frozen=True)
class HanchoHouseholds(Action, prefix="hh"):
    """The 班長's 班の名簿 menu entry."""


@dataclass(frozen=True)
class JoinList(Action, prefix="hj"):
    """The households of my 班 not on LINE, with their slips."""


def register(registry: Registry) -> None:
    """Add the 班長's household menu and the join worklist."""
    registry.on(HanchoHouseholds, on_menu)
    registry.on(JoinList, on_join_list)


def on_menu(ctx: FlowContext, tap: HanchoHouseholds) -> list[Say]:
    """My 班 in figures, and the two worklists."""
    leader = leader_of(ctx)
    if leader is None:
        return [with_menu(ctx, "hancho.leaders_only")]
    row = next(
        (
            p
            for p in progress.by_han(ctx.session, association_id=leader.association_id)
            if p.han == leader.han
        ),
        None,
    )
    if row is None:  # no register yet: typing house numbers is what there is
        paper = Option("menu.items.hancho_paper", postback.encode(a="start", f=PAPER_BY_NUMBER))
        return [Say("hancho.han_empty", {"han": leader.han}, options=(paper,))]
    options = (
        Option("hancho.to_notices", postback.encode(a="start", f=NOTICE_WORKLIST)),
        Option("menu.items.hancho_paper", postback.encode(a="start", f=PAPER_BY_NUMBER)),
        Option("hancho.to_join", JoinList().encode()),
        # After a disaster: the safety feature's visit list (its action, named by prefix).
        Option("menu.items.safety_visits", postback.encode(a="sfm")),
    )
    params = {
        "han": leader.han,
        "households": row.households,
        "line": row.line,
        "paper": row.paper_only + row.not_reached,
    }
    return [Say("hancho.han_summary", params, options=options)]


def on_join_list(ctx: FlowContext, tap: JoinList) -> list[Say]:
    """Households of my 班 not on LINE (name and room), and the link to their slips."""
    leader = leader_of(ctx)
    if leader is None:
        return [with_menu(ctx, "hancho.leaders_only")]
    found = progress.not_on_line(ctx.session, association_id=leader.association_id, han=leader.han)
    audit.record(
        ctx.session,
        account_id=None,
        action="household_worklist_viewed",
        now=ctx.now,
        target_type="association",
        target_id=leader.association_id,
        han_leader_id=leader.id,
        rows=len(found),
    )
    if not found:
        return [with_menu(ctx, "hancho.join_all_done", {"han": leader.han})]
    names = "\n".join(" ".join(p for p in (h.address, h.contact_name) if p) for h in found[:LISTED])
    url = slips_url(ctx.settings, leader.association_id, leader.han, ctx.now)
    slips = Option("hancho.print_slips", kind="uri", uri=url)
    params = {"han": leader.han, "count": len(found), "households": names}
    return [Say("hancho.join_list", params, options=(slips,))]
