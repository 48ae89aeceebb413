"""Finding the resident's association: from the QR's association, or ward → district → town.

bot: 「○○町内会」に申し込みますか？            (only after an association's QR)
bot: お住まいの地域は？ [盛岡地域] [都南地域] …   (skipped after a counter's QR: its ward)
bot: 地区は？ [仁王] [桜城] … [次へ] [わからない]
bot: 町名と丁目を入力してください。 [📍位置情報を送る]
resident: 上田                → bot: どちらですか？ [上田一丁目] [上田三丁目] … [この中にない]
resident: (location)          → bot: 近くの町内会です。 [高松自治会] …
"""

from __future__ import annotations

from typing import Any

from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, FlowInput, Invalid, Option, Step
from bot.core import areas, place_names
from bot.core.models.areas import Association, District
from bot.features.membership.join_steps import JoinStep

PAGE = 11  # districts per page: with 次へ and わからない, 13 quick replies at most
ANY_DISTRICT = "any"
NONE_OF_THESE = "none"


LABEL_LIMIT = 20  # LINE's quick-reply label limit


def _chip(shown: str, plain: str) -> str:
    """A chip label: the localised name when it fits LINE's limit, else the plain one
    (a reading cut in half helps nobody; the message itself carries the full text)."""
    return shown if len(shown) <= LABEL_LIMIT else plain


def _code_association_name(data: Data, ctx: FlowContext) -> str:
    association = ctx.session.get(Association, int(data.get("code_association") or 0))
    if association is None:
        return str(data.get("code_association_name", ""))
    return place_names.association_name(association, ctx.locale)


def _ward_options(data: Data, ctx: FlowContext) -> list[Option]:
    return [
        Option(
            "join.ward_option",
            str(w.id),
            label=_chip(place_names.ward_name(w, ctx.locale), w.name_en or w.name),
        )
        for w in areas.wards(ctx.session)[:13]
    ]


def _district_options(data: Data, ctx: FlowContext) -> list[Option]:
    value = str(data.get("district", ""))
    page = int(value.removeprefix("more:")) if value.startswith("more:") else 0
    rows = areas.districts(ctx.session, int(data["ward"]))
    shown = rows[page * PAGE : (page + 1) * PAGE]
    options = [
        Option(
            "join.district_option",
            str(d.id),
            label=_chip(place_names.district_name(d, ctx.locale), d.name),
        )
        for d in shown
    ]
    if len(rows) > (page + 1) * PAGE:
        options.append(Option("join.more", f"more:{page + 1}"))
    options.append(Option("join.district_unknown", ANY_DISTRICT))
    return options


def _district_name(data: Data, ctx: FlowContext) -> dict[str, Any]:
    district = _district(data, ctx)
    if district is None:
        return {"district": ctx.content.text("join.whole_city", ctx.locale)}
    return {"district": place_names.district_name(district, ctx.locale)}


def _district(data: Data, ctx: FlowContext) -> District | None:
    value = str(data.get("district", ANY_DISTRICT))
    return ctx.session.get(District, int(value)) if value.isdigit() else None


def _parse_town(given: FlowInput, data: Data, ctx: FlowContext) -> dict[str, Any]:
    district = _district(data, ctx)
    district_id = district.id if district else None
    if given.kind == "location" and given.latitude is not None and given.longitude is not None:
        near = areas.nearest_associations(
            ctx.session, given.latitude, given.longitude, district_id=district_id, limit=5
        )
        if not near:
            raise Invalid("join.nothing_nearby")
        return {"nearby": [[a.association_id, a.association_name] for a in near]}
    matches = areas.find_towns(ctx.session, given.text, district_id=district_id, limit=5)
    if not matches:
        raise Invalid("join.town_not_found")
    if len(areas.association_ids(matches)) == 1:
        # Several 丁目 of one association: the town name is all the officers need.
        label = matches[0].label if len(matches) == 1 else matches[0].name
        return {"association": matches[0].association_id, "town": label}
    return {"candidates": [[m.label, m.association_id] for m in matches]}


def _after_town(answer: Any, data: Data) -> str:
    if "candidates" in answer:
        return JoinStep.TOWN_CHOICE
    if "nearby" in answer:
        return JoinStep.NEARBY_CHOICE
    return JoinStep.NAME


def _candidate_options(data: Data, ctx: FlowContext) -> list[Option]:
    options = []
    for i, (label, association_id) in enumerate(data["town"].get("candidates", [])):
        shown = place_names.stored_town_label(
            ctx.session, int(association_id), str(label), ctx.locale, ctx.content
        )
        options.append(Option("join.candidate", str(i), label=_chip(shown, str(label))))
    return [*options, Option("join.none_of_these", NONE_OF_THESE)]


def _nearby_options(data: Data, ctx: FlowContext) -> list[Option]:
    options = []
    for i, (association_id, name) in enumerate(data["town"].get("nearby", [])):
        association = ctx.session.get(Association, int(association_id))
        shown = place_names.association_name(association, ctx.locale) if association else name
        options.append(Option("join.candidate", str(i), label=_chip(shown, str(name))))
    return [*options, Option("join.none_of_these", NONE_OF_THESE)]


def _retry_or_form(answer: Any, data: Data) -> str:
    return JoinStep.TOWN if answer == NONE_OF_THESE else JoinStep.NAME


def chosen(data: Data) -> tuple[int, str | None]:
    """The association (and the town, when typed) the address steps settled on."""
    if data.get("assoc_confirm") == "yes":
        return int(data["code_association"]), None
    town = data["town"]
    if "candidates" in town:
        label, association_id = town["candidates"][int(data["town_choice"])]
        return int(association_id), str(label)
    if "nearby" in town:
        association_id, _ = town["nearby"][int(data["nearby_choice"])]
        return int(association_id), None
    return int(town["association"]), str(town["town"])


STEPS = (
    Step(
        JoinStep.ASSOC_CONFIRM,
        "join.assoc_confirm",
        options=(Option("join.assoc_yes", "yes"), Option("join.assoc_other", "other")),
        prompt_params=lambda d, ctx: {"association": _code_association_name(d, ctx)},
        skip_if=lambda d, ctx: not d.get("code_association"),
        next=lambda a, d: JoinStep.NAME if a == "yes" else JoinStep.WARD,
    ),
    Step(
        JoinStep.WARD,
        "join.ward_ask",
        options=_ward_options,
        next=JoinStep.DISTRICT,
        skip_if=lambda d, ctx: bool(d.get("ward")),
    ),
    Step(
        JoinStep.DISTRICT,
        "join.district_ask",
        options=_district_options,
        next=lambda a, d: JoinStep.DISTRICT if str(a).startswith("more:") else JoinStep.TOWN,
    ),
    Step(
        JoinStep.TOWN,
        "join.town_ask",
        parse=_parse_town,
        next=_after_town,
        options=(Option("join.send_location", kind="location"),),
        prompt_params=_district_name,
        help_key="join.town_help",
        max_text_length=60,
    ),
    Step(
        JoinStep.TOWN_CHOICE,
        "join.town_choice_ask",
        options=_candidate_options,
        next=_retry_or_form,
    ),
    Step(JoinStep.NEARBY_CHOICE, "join.nearby_ask", options=_nearby_options, next=_retry_or_form),
)
