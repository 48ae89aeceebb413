"""Membership life: see it, leave, move to another association, delete my data (データ削除).

resident: [わたしの町内会]  → bot: ○○町内会の会員です（12/01から）。
                          → bot: 保存しているあなたの情報です。お名前：… 部屋番号：… 同意：…
                                [退会する] [町内会を変更] [データ削除]
resident: 退会            → bot: 退会しますか？ [退会する] [やめておく]
resident: データ削除       → bot: すべて消去します。よろしいですか？ [消去する] [やめておく]
                          → bot: 消去しました。（人数の集計だけが残ります）
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.conversation import postback
from bot.conversation.chain import start_flow
from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Flow, Option, Say, Step
from bot.conversation.registry import Registry
from bot.conversation.replies import with_menu
from bot.conversation.richmenu_links import relink_after_commit
from bot.core import consent, erasure, place_names, standing
from bot.core.models.areas import Association
from bot.core.models.membership import Membership
from bot.features.membership import memberships as membership
from bot.features.membership.actions import MyMembership
from bot.features.membership.join_flow import CONSENT_FLOW

CONFIRM = (Option("membership.confirm_yes", "yes"), Option("membership.confirm_no", "no"))


def _when(row: Membership, ctx: FlowContext) -> str:
    moment = row.decided_at or row.applied_at
    return moment.astimezone(ctx.settings.tz).strftime("%Y-%m-%d")


def _given(value: str | None, ctx: FlowContext) -> str:
    return value or ctx.content.text("join.not_given", ctx.locale)


def _consent(ctx: FlowContext) -> str:
    agreed = consent.latest_agreement(ctx.session, ctx.resident.id or 0)
    if agreed is None:
        return ctx.content.text("membership.consent_none", ctx.locale)
    date = agreed.decided_at.astimezone(ctx.settings.tz).strftime("%Y-%m-%d")
    return ctx.content.text(
        "membership.consent_given", ctx.locale, date=date, version=agreed.version
    )


def my_data(ctx: FlowContext, row: Membership | None, options: tuple[Option, ...]) -> Say:
    """The values kept about the resident (not the kinds of data): what they typed when they
    applied, their language and their consent, with what they can do about it."""
    language = ctx.content.text(f"language.names.{ctx.resident.locale}", ctx.locale)
    if row is None:
        params = {"language": language, "consent": _consent(ctx)}
        return Say("membership.my_data_basic", params, options=options)
    contact = (
        ctx.content.text(f"join.contact.{row.contact_method}", ctx.locale)
        if row.contact_method and ctx.content.has(f"join.contact.{row.contact_method}")
        else None
    )
    household = (
        ctx.content.text("membership.household_n", ctx.locale, n=row.household_size)
        if row.household_size
        else None
    )
    params = {
        "name": _given(row.full_name, ctx),
        "town": _given(
            place_names.stored_town_label(
                ctx.session, row.association_id, row.town_label, ctx.locale, ctx.content
            )
            if row.town_label
            else None,
            ctx,
        ),
        "room": _given(row.room, ctx),
        "phone": _given(row.phone, ctx),
        "contact": _given(contact, ctx),
        "household": _given(household, ctx),
        "language": language,
        "consent": _consent(ctx),
    }
    return Say("membership.my_data", params, options=options)


def my_membership(ctx: FlowContext, _tap: MyMembership) -> list[Say]:
    """What the resident's membership is and the values kept about them, with what they can
    do about it (leave, change, withdraw, delete)."""
    resident_id = ctx.resident.id or 0
    erase = Option("membership.erase_option", postback.encode(a="start", f="erase"))
    pending = membership.pending_application(ctx.session, resident_id)
    if pending is not None:
        name = _name(membership.association_of(ctx.session, pending), ctx)
        withdraw = Option("membership.withdraw_option", postback.encode(a="start", f="withdraw"))
        return [
            Say("membership.pending", {"association": name, "since": _when(pending, ctx)}),
            my_data(ctx, pending, (withdraw, erase)),
        ]
    current = membership.current_membership(ctx.session, resident_id)
    if current is None:
        join = Option("membership.join_option", postback.encode(a="start", f="join"))
        return [Say("membership.none"), my_data(ctx, None, (join, erase))]
    options = (
        # 見守り (the mimamori feature's action, named by its prefix: features do not import
        # each other) is a member's own choice, so it sits with the membership's.
        Option("menu.items.mimamori", postback.encode(a="mh")),
        Option("membership.leave_option", postback.encode(a="start", f="leave")),
        Option("membership.change_option", postback.encode(a="start", f="membership_change")),
        erase,
    )
    params = {
        "association": _name(membership.association_of(ctx.session, current), ctx),
        "since": _when(current, ctx),
    }
    return [Say("membership.current", params), my_data(ctx, current, options)]


def _current_name(data: Data, ctx: FlowContext) -> dict[str, str]:
    current = membership.current_membership(ctx.session, ctx.resident.id or 0)
    name = _name(membership.association_of(ctx.session, current), ctx) if current else ""
    return {"association": name}


def _name(association: Association, ctx: FlowContext) -> str:
    """The association's name in the resident's language."""
    return place_names.association_name(association, ctx.locale)


def _leave(ctx: FlowContext, data: Data) -> list[Say]:
    if data["confirm"] != "yes":
        return [with_menu(ctx, "membership.kept")]
    left = membership.leave(ctx.session, ctx.resident.id or 0, ctx.now)
    if left is None:
        return [with_menu(ctx, "membership.none_to_leave")]
    relink_after_commit(ctx.session, ctx.resident)
    return [with_menu(ctx, "membership.left")]


def _withdraw(ctx: FlowContext, data: Data) -> list[Say]:
    if data["confirm"] != "yes":
        return [with_menu(ctx, "membership.kept")]
    withdrawn = membership.withdraw(ctx.session, ctx.resident.id or 0, ctx.now)
    return [with_menu(ctx, "membership.withdrawn" if withdrawn else "membership.none_pending")]


def _change(ctx: FlowContext, data: Data) -> list[Say]:
    if data["confirm"] != "yes":
        return [with_menu(ctx, "membership.kept")]
    return start_flow(ctx, CONSENT_FLOW, {"mode": "change"})


def _erase(ctx: FlowContext, data: Data) -> list[Say]:
    if data["confirm"] != "yes":
        return [with_menu(ctx, "membership.erase_kept")]
    user_id = ctx.resident.line_user_id
    relink_after_commit(ctx.session, ctx.resident, user_id=user_id, role=standing.ROLE_SUBSCRIBER)
    erasure.erase_resident(ctx.session, ctx.resident, ctx.now)
    return [Say("membership.erased")]


def _confirm_flow(
    name: str,
    prompt: str,
    on_complete: Callable[[FlowContext, Data], list[Say]],
    *,
    prompt_params: Callable[[Data, FlowContext], Mapping[str, str]] | None = None,
    help_key: str | None = None,
) -> Flow:
    step = Step("confirm", prompt, options=CONFIRM, prompt_params=prompt_params, help_key=help_key)
    return Flow(name=name, steps=(step,), on_complete=on_complete)


LEAVE = _confirm_flow("leave", "membership.leave_ask", _leave, prompt_params=_current_name)
WITHDRAW = _confirm_flow("withdraw", "membership.withdraw_ask", _withdraw)
CHANGE = _confirm_flow(
    "membership_change", "membership.change_ask", _change, prompt_params=_current_name
)
ERASE = _confirm_flow("erase", "membership.erase_ask", _erase, help_key="membership.erase_help")


def schedule_purge_on_unfollow(ctx: FlowContext) -> list[Say]:
    """Retention: an unfollowed resident's data is erased after the configured days."""
    if ctx.resident.id is not None:
        erasure.schedule_purge(
            ctx.session, ctx.resident.id, ctx.now, ctx.settings.unfollow_retention_days
        )
    return []


def cancel_purge_on_follow(ctx: FlowContext) -> list[Say]:
    """A returning friend keeps their data."""
    if ctx.resident.id is not None:
        erasure.cancel_purge(ctx.session, ctx.resident.id)
    return []


def register(registry: Registry) -> None:
    """Add the membership flows, the 「わたしの町内会」 action and the retention hooks."""
    registry.add_flow(LEAVE, "leave")
    registry.add_flow(WITHDRAW)
    registry.add_flow(CHANGE, "change_association")
    registry.add_flow(ERASE, "erase")
    registry.on(MyMembership, my_membership)
    registry.on_follow.insert(0, cancel_purge_on_follow)
    registry.on_unfollow.append(schedule_purge_on_unfollow)
