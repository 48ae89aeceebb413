"""The register's staff pages: per 班 progress and households, import with a preview,
export to Excel and CSV, a slip per household not on LINE, removing a household.

Names and addresses are for the association's officers (VIEW_MEMBERS); every view, export,
print and import is audited. An import writes nothing until the officer confirms the preview:
the preview carries the file's cells in the form, and the confirmation checks them again.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.core import audit
from bot.core import households as register
from bot.core.models.areas import Association
from bot.core.models.households import Household
from bot.core.scope import Permission, visible_associations
from bot.features.households import progress, roster
from bot.features.households.roster_file import Grid, RosterFileError, read_grid
from bot.features.households.slips import slips_pdf
from bot.features.households.staff.views import households_table, preview_rows, progress_table
from bot.staff.deps import (
    ContentDep,
    Csrf,
    DbId,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
    words_for,
)
from bot.staff.pdf import pdf_response
from bot.staff.tables import Table
from bot.staff.web import export_response, page
from bot.staff.xlsx_export import tables_to_xlsx, xlsx_response

router = APIRouter(prefix="/staff", include_in_schema=False)

Officer = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS))]
Importer = Annotated[StaffUser, Depends(PageAccess(Permission.APPROVE_MEMBERS))]
Exporter = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS, Permission.EXPORT))]
Printer = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_MEMBERS, Permission.PRINT_QR))]
DONE = ("imported", "removed")
MAX_PAYLOAD = 8_000_000


def _association(db: SessionDep, user: StaffUser, association_id: int) -> Association:
    user.scope.require_association(db, association_id)  # another association: 403
    found = db.get(Association, association_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _seen(
    db: SessionDep, user: StaffUser, now: Any, action: str, association_id: int, **detail: Any
) -> None:
    audit.record(
        db,
        account_id=user.account.id,
        action=action,
        now=now,
        target_type="association",
        target_id=association_id,
        **detail,
    )


@router.get("/households", response_class=HTMLResponse)
def households_index(request: Request, user: Officer, db: SessionDep) -> Response:
    """The associations whose register this officer keeps (one: straight to it)."""
    associations = [a for a, _d, _w in visible_associations(db, user.scope)]
    if len(associations) == 1:
        return RedirectResponse(f"/staff/associations/{associations[0].id}/households", 303)
    return page(request, user, "households_index.html", associations=associations)


@router.get("/associations/{association_id}/households", response_class=HTMLResponse)
def households_page(
    request: Request,
    association_id: DbId,
    user: Officer,
    db: SessionDep,
    now: NowDep,
    done: str | None = None,
) -> HTMLResponse:
    """Progress per 班, the households, and the import form."""
    association = _association(db, user, association_id)
    t = words_for(request, user.locale)
    table = households_table(db, association_id, t)
    _seen(db, user, now, "households_viewed", association_id, rows=len(table.rows))
    return page(
        request,
        user,
        "households.html",
        association=association,
        progress=progress_table(db, association_id, t),
        table=table,
        groups=_groups(table),
        done=done if done in DONE else None,
        can_import=user.scope.can(Permission.APPROVE_MEMBERS),
    )


def _groups(table: Table) -> list[tuple[str, list[dict[str, Any]]]]:
    """The households by 班, for the phone page (one short table per 班)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in table.rows:
        groups.setdefault(str(row["han"]), []).append(row)
    return list(groups.items())


def _grid_from_payload(payload: str) -> Grid:
    try:
        raw = json.loads(payload)
        headers = [str(h) for h in raw["headers"]]
        rows = [(int(line), [str(c) for c in cells]) for line, cells in raw["rows"]]
    except (ValueError, KeyError, TypeError):
        raise RosterFileError("unreadable") from None
    return Grid(headers, rows)


def _mapping_from_form(form: dict[str, str], columns: int) -> dict[str, int]:
    mapping = {}
    for name in roster.FIELDS:
        value = form.get(f"map_{name}", "")
        if value.isdigit() and int(value) < columns:
            mapping[name] = int(value)
    return mapping


def _preview_page(
    request: Request,
    user: StaffUser,
    db: SessionDep,
    association: Association,
    grid: Grid,
    mapping: dict[str, int],
    status_code: int = 200,
) -> HTMLResponse:
    t = words_for(request, user.locale)
    assert association.id is not None
    found: roster.Preview | None = None
    error: str | None = None
    try:
        found = roster.preview(db, association_id=association.id, grid=grid, mapping=mapping)
    except roster.MappingError:
        error = "mapping"
    response = page(
        request,
        user,
        "households_preview.html",
        association=association,
        found=found,
        error=error,
        rows=preview_rows(found, t) if found else [],
        headers=grid.headers,
        mapping=mapping,
        fields=roster.FIELDS,
        payload=json.dumps({"headers": grid.headers, "rows": grid.rows}, ensure_ascii=False),
    )
    response.status_code = 400 if error else status_code
    return response


def _import_error(
    request: Request, user: StaffUser, db: SessionDep, association: Association, code: str
) -> HTMLResponse:
    t = words_for(request, user.locale)
    assert association.id is not None
    response = page(
        request,
        user,
        "households.html",
        association=association,
        progress=progress_table(db, association.id, t),
        table=households_table(db, association.id, t),
        done=None,
        can_import=True,
        error=code,
    )
    response.status_code = 400
    return response


@router.post("/associations/{association_id}/households/import", response_class=HTMLResponse)
async def import_upload(
    request: Request,
    association_id: DbId,
    user: Importer,
    csrf: Csrf,
    db: SessionDep,
    roster_file: Annotated[UploadFile, File()],
) -> HTMLResponse:
    """Read the officer's file and show what would change (nothing is written yet)."""
    association = _association(db, user, association_id)
    data = await roster_file.read(roster.MAX_UPLOAD + 1)
    try:
        if len(data) > roster.MAX_UPLOAD:
            raise RosterFileError("too_big")
        grid = read_grid(roster_file.filename or "", data, is_header=roster.is_header)
    except RosterFileError as bad:
        return _import_error(request, user, db, association, bad.code)
    mapping = roster.guess_mapping(grid.headers, roster.remembered(db, association_id))
    return _preview_page(request, user, db, association, grid, mapping)


@router.post("/associations/{association_id}/households/import/confirm")
async def import_confirm(
    request: Request,
    association_id: DbId,
    user: Importer,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    payload: Annotated[str, Form(max_length=MAX_PAYLOAD)] = "",
    step: Annotated[str, Form(max_length=16)] = "preview",
) -> Response:
    """Preview again with the chosen columns, or (step=confirm) write what the preview shows."""
    association = _association(db, user, association_id)
    try:
        grid = _grid_from_payload(payload)
    except RosterFileError as bad:
        return _import_error(request, user, db, association, bad.code)
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    mapping = _mapping_from_form(form, len(grid.headers))
    if step != "confirm":
        return _preview_page(request, user, db, association, grid, mapping)
    try:
        found = roster.preview(db, association_id=association_id, grid=grid, mapping=mapping)
    except roster.MappingError:
        return _preview_page(request, user, db, association, grid, mapping)
    roster.apply(db, association_id=association_id, found=found, headers=grid.headers, now=now)
    _seen(
        db,
        user,
        now,
        "households_imported",
        association_id,
        added=len(found.added),
        changed=len(found.changed),
        errors=len(found.errors),
    )
    return RedirectResponse(
        f"/staff/associations/{association_id}/households?done=imported", status_code=303
    )


@router.get("/associations/{association_id}/households.csv")
def households_csv(
    request: Request, association_id: DbId, user: Exporter, db: SessionDep
) -> Response:
    """The register as CSV (Japanese headers, readable by the import)."""
    _association(db, user, association_id)
    return export_response(
        request, user, households_table(db, association_id, words_for(request, "ja"))
    )


@router.get("/associations/{association_id}/households.xlsx")
def households_xlsx(
    request: Request, association_id: DbId, user: Exporter, db: SessionDep, now: NowDep
) -> Response:
    """The register and each 班's progress as an Excel workbook."""
    association = _association(db, user, association_id)
    t = words_for(request, "ja")
    table = households_table(db, association_id, t)
    book = tables_to_xlsx(
        [
            (t("households.sheet_register"), table),
            (t("households.sheet_progress"), progress_table(db, association_id, t)),
        ],
        t,
    )
    _seen(db, user, now, "export", association_id, table=table.name, rows=len(table.rows))
    return xlsx_response(book, f"{association.name}-世帯名簿.xlsx")


@router.get("/associations/{association_id}/households/slips.pdf")
def households_slips(
    request: Request,
    association_id: DbId,
    user: Printer,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    content: ContentDep,
    han: str | None = None,
) -> Response:
    """A slip with its own join QR for each household not on LINE (of one 班, if given)."""
    association = _association(db, user, association_id)
    found = progress.not_on_line(db, association_id=association_id, han=han)
    pdf = slips_pdf(
        db,
        association=association,
        households=found,
        content=content,
        basic_id=settings.line_bot_basic_id,
        words=words_for(request, "ja"),
    )
    _seen(db, user, now, "household_slips_printed", association_id, rows=len(found))
    return pdf_response(pdf, f"{association.name}-slips.pdf")


@router.post("/associations/{association_id}/households/{household_id}/remove")
def household_remove(
    association_id: DbId,
    household_id: DbId,
    user: Importer,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
) -> Response:
    """A household that left: out of the register and every list (its ticks, its slip)."""
    _association(db, user, association_id)
    household = db.get(Household, household_id)
    if household is None or household.association_id != association_id:
        raise HTTPException(status_code=404)
    register.remove(db, household, now)
    _seen(db, user, now, "household_removed", association_id, household_id=household_id)
    return RedirectResponse(
        f"/staff/associations/{association_id}/households?done=removed", status_code=303
    )
