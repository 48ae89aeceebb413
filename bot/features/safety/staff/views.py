"""Safety checks as staff see them: the areas one may start a check for, the counts by 班
(the live page and the printout read the same `Counts`), and the printable visit list.

Counts are for everyone with the permission; names and addresses (the printout) are for the
association's officers only (VIEW_MEMBERS), as the residents' consent says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from sqlmodel import Session, col, select

from bot.core.models.areas import Association
from bot.core.models.households import Household
from bot.core.scope import Scope, visible_associations
from bot.features.safety import checks
from bot.features.safety.checks import Counts, HanCount
from bot.features.safety.models import AreaKind, SafetyCheck, SafetyHousehold, SafetyState
from bot.staff.i18n import Translator
from bot.staff.pdf import PdfDocument
from bot.staff.tables import Column, Table

Words = Callable[..., str]
TEMPLATES = ("earthquake", "typhoon", "flood", "drill")
VISIT_AFTER = (15, 30, 60, 120)  # minutes offered before unanswered go to the 班長


@dataclass(frozen=True)
class AreaChoice:
    """One area a staff member may start a check for: `kind:id` and its name."""

    value: str
    kind: str
    name: str


def area_choices(session: Session, scope: Scope) -> list[AreaChoice]:
    """City (city admin), wards and districts (city and ward staff), and associations."""
    found = visible_associations(session, scope)
    out: list[AreaChoice] = []
    if scope.city_wide:
        out.append(AreaChoice("city:0", AreaKind.CITY, ""))
    if scope.city_wide or scope.ward_ids:
        seen_wards: set[int] = set()
        seen_districts: set[int] = set()
        for _a, district, ward in found:
            if ward.id not in seen_wards and (scope.city_wide or ward.id in scope.ward_ids):
                seen_wards.add(int(ward.id or 0))
                out.append(AreaChoice(f"ward:{ward.id}", AreaKind.WARD, ward.name))
            if district.id not in seen_districts:
                seen_districts.add(int(district.id or 0))
                out.append(AreaChoice(f"district:{district.id}", AreaKind.DISTRICT, district.name))
    out += [AreaChoice(f"association:{a.id}", AreaKind.ASSOCIATION, a.name) for a, _d, _w in found]
    return out


def parse_area(session: Session, scope: Scope, value: str) -> tuple[str, int | None] | None:
    """The chosen area, when it is one this staff member was offered."""
    offered = {c.value: c for c in area_choices(session, scope)}
    choice = offered.get(value)
    if choice is None:
        return None
    kind, _, raw = value.partition(":")
    return kind, (None if kind == AreaKind.CITY else int(raw))


def in_scope(session: Session, scope: Scope, check: SafetyCheck) -> set[int]:
    """The check's associations this staff member may see (empty: not theirs at all)."""
    ids = checks.associations_in(session, check.area_kind, check.area_id)
    return {a for a in ids if scope.city_wide or scope.allows_association(session, a)}


def scoped_counts(session: Session, check: SafetyCheck, visible: set[int]) -> Counts:
    """The check's counts, limited to the associations the viewer may see."""
    full = checks.counts(session, check.id or 0)
    rows = [h for h in full.by_han if h.association_id in visible]
    states: dict[str, int] = {s.value: 0 for s in SafetyState}
    for row in rows:
        for state, n in row.states.items():
            states[state] += n
    return Counts(sum(states.values()), states, sum(r.visited for r in rows), rows)


HAN_COLUMNS = [
    Column("association", "col.association"),
    Column("han", "safety.col.han"),
    Column("households", "safety.short.households", numeric=True),
    Column("safe", "safety.short.safe", numeric=True),
    Column("help", "safety.short.help", numeric=True),
    Column("away", "safety.short.away", numeric=True),
    Column("none", "safety.short.none", numeric=True),
    Column("visited", "safety.short.visited", numeric=True),
]


def han_row(row: HanCount, no_han: str, name: Callable[[str], str] = str) -> dict[str, object]:
    """One 班's counts as a table row (the page and the PDF both use it); `name` shows the
    data's names as the page does (in English, marked 「…」)."""
    return {
        "association": name(row.association),
        "han": name(row.han) if row.han else no_han,
        "households": row.households,
        **{state.value: row.states.get(state, 0) for state in SafetyState},
        "visited": row.visited,
    }


def han_table(found: Counts, t: Translator) -> Table:
    """Counts by 班, with the 班 still unanswered first so they are seen; the association
    column only when the check covers several."""
    ordered = sorted(found.by_han, key=lambda h: h.unanswered == 0)
    several = len({h.association_id for h in found.by_han}) > 1
    columns = HAN_COLUMNS if several else HAN_COLUMNS[1:]
    rows = [han_row(h, t("safety.no_han"), t.name) for h in ordered]
    return Table("safety_hans", columns, rows)


def checks_table(session: Session, scope: Scope, tz: tzinfo, t: Words) -> Table:
    """The latest checks this staff member can see, newest first."""
    rows = []
    for check in session.exec(
        select(SafetyCheck).order_by(col(SafetyCheck.created_at).desc()).limit(50)
    ).all():
        if not in_scope(session, scope, check):
            continue
        stage = (
            "closed"
            if check.closed_at
            else "ward"
            if check.ward_told_at
            else "officers"
            if check.officers_told_at
            else "hancho"
            if check.hancho_told_at
            else "sent"
            if check.sent_at
            else "draft"
        )
        when = (check.sent_at or check.created_at).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        rows.append(
            {
                "check_id": check.id,
                "title": t(f"safety.template.{check.template}"),
                "when": when,
                "stage": t(f"safety.stage.{stage}"),
                "households": check.households,
            }
        )
    columns = [
        Column("title", "safety.col.title"),
        Column("when", "col.when"),
        Column("stage", "safety.col.stage"),
        Column("households", "safety.col.households", numeric=True),
    ]
    return Table("safety_checks", columns, rows)


def visit_rows(
    session: Session, check_id: int, visible: set[int]
) -> list[tuple[SafetyHousehold, Household | None, str]]:
    """Every household of the check in the viewer's associations, by association, 班, address."""
    rows = session.exec(
        select(SafetyHousehold, Household, Association.name)
        .outerjoin(Household, col(Household.id) == col(SafetyHousehold.household_id))
        .join(Association, col(Association.id) == col(SafetyHousehold.association_id))
        .where(
            SafetyHousehold.check_id == check_id,
            col(SafetyHousehold.association_id).in_(sorted(visible)),
        )
        .order_by(
            col(Association.name),
            col(SafetyHousehold.han),
            col(Household.key),
            col(SafetyHousehold.id),
        )  # fmt: skip
    ).all()
    return [(r, h, str(name)) for r, h, name in rows]


def visit_pdf(
    session: Session, check: SafetyCheck, visible: set[int], t: Words, stamp: str
) -> bytes:
    """The printout: the same counts as the live page, then one table per 班 with every
    household, its state and a blank column to tick on the doorstep."""
    found = scoped_counts(session, check, visible)
    doc = PdfDocument(title=t("safety.print_title"))
    doc.heading(t("safety.print_heading", title=t(f"safety.template.{check.template}")))
    doc.paragraph(t("safety.print_stamp", stamp=stamp))
    summary = [t(f"safety.state.{s.value}") + f" {found.states[s]}" for s in SafetyState]
    doc.paragraph(
        t("safety.print_summary", households=found.households, visited=found.visited)
        + " / "
        + " / ".join(summary)
    )
    headers = [t(c.label) for c in HAN_COLUMNS]
    doc.table(
        headers,
        [[han_row(h, t("safety.no_han"))[c.key] for c in HAN_COLUMNS] for h in found.by_han],
        size=9,
    )
    current: tuple[str, str] | None = None
    block: list[list[str]] = []
    for row, household, name in visit_rows(session, check.id or 0, visible):
        key = (name, row.han)
        if key != current:
            _visit_table(doc, current, block, t)
            current, block = key, []
        block.append(
            [
                household.address if household else "",
                household.contact_name if household else t("safety.member_only"),
                t(f"safety.state.{row.state}"),
                str(row.people or ""),
                row.note,
                t("safety.short.visited") if row.visited_at else "",
            ]
        )
    _visit_table(doc, current, block, t)
    return doc.render()


def _visit_table(
    doc: PdfDocument, key: tuple[str, str] | None, block: list[list[str]], t: Words
) -> None:
    if key is None:
        return
    doc.paragraph(t("safety.print_han", association=key[0], han=key[1] or t("safety.no_han")))
    headers = [
        t("safety.col.address"),
        t("safety.col.name"),
        t("safety.col.state"),
        t("safety.col.people"),
        t("safety.col.note"),
        t("safety.col.visit"),
    ]
    doc.table(headers, block, widths_mm=[38, 32, 26, 14, 50, 20], size=9)
