"""CSV exports: UTF-8 with BOM, Japanese headers, CRLF, the page's own numbers, audited."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.models.membership import Membership
from bot.core.models.staff import AuditLog, StaffAccount
from bot.db import session_scope
from bot.settings import REPO_ROOT
from bot.staff.auth import issue_api_token
from bot.staff.csv_export import table_to_csv
from bot.staff.i18n import translators
from bot.staff.tables import Column, Table
from tests.staff.conftest import START, City, csrf_of, log_in

JA = translators(REPO_ROOT / "content")["ja"]


class _TableCells(HTMLParser):
    """The cells of the page's `<table class="data">`, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "data") in attrs:
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data.strip()


def _page_rows(html: str) -> list[list[str]]:
    parser = _TableCells()
    parser.feed(html)
    return parser.rows


def _csv_rows(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text)))


def test_overview_csv_matches_the_page_and_the_api(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "admin")
    page = _page_rows(client.get("/staff/").text)
    response = client.get("/staff/export/overview.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "overview-" in response.headers["content-disposition"]
    exported = _csv_rows(response.content)
    assert exported[0] == [
        "区・地域",
        "地区",
        "町内会",
        "会員数",
        "世帯人数計",
        "承認待ち",
        "LINEの役員",
    ]
    assert exported == page
    # One approved member (household of 2) and one pending application in each association;
    # no officer has linked LINE anywhere, in words (never the code "none").
    assert [row[3:] for row in exported[1:]] == [["1", "2", "1", "未登録（区が対応）"]] * 3
    with session_scope(engine) as db:
        audit = db.exec(select(AuditLog).where(AuditLog.action == "export")).all()
    assert [(a.target_id, a.detail["rows"]) for a in audit] == [("overview", 3)]


def test_numbers_move_together_after_an_approval(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    client.post(
        f"/staff/applications/{city.pending['a']}/approve",
        data={"csrf_token": csrf_of(client, "/staff/pending")},
    )
    exported = _csv_rows(client.get("/staff/export/overview.csv").content)
    assert exported[1][3:6] == ["2", "4", "0"]
    assert _page_rows(client.get("/staff/").text)[1] == exported[1]


def test_members_csv_is_the_members_page(client: TestClient, city: City) -> None:
    log_in(client, "officer_a")
    page = _page_rows(client.get(f"/staff/associations/{city.a}/members").text)
    exported = _csv_rows(client.get(f"/staff/associations/{city.a}/members.csv").content)
    assert exported == page
    assert exported[0][0] == "氏名"
    assert len(exported) == 2 and exported[1][0] == f"試験 太郎{city.a}-2"


def test_pending_csv_lists_only_the_officers_associations(client: TestClient, city: City) -> None:
    log_in(client, "officer_b")
    exported = _csv_rows(client.get("/staff/export/pending.csv").content)
    assert [row[0] for row in exported[1:]] == ["文化町内会"]


def test_refused_export_leaves_no_audit_entry(
    client: TestClient, city: City, engine: Engine
) -> None:
    log_in(client, "officer_a")
    assert client.get(f"/staff/associations/{city.b}/members.csv").status_code == 403
    with session_scope(engine) as db:
        assert not db.exec(select(AuditLog).where(AuditLog.action == "export")).all()


def test_cells_that_excel_would_run_as_formulas_are_quoted(
    client: TestClient, city: City, engine: Engine
) -> None:
    with session_scope(engine) as db:
        member = db.get(Membership, city.members["a"])
        assert member is not None
        member.full_name = '=HYPERLINK("http://x")'
        db.add(member)
    log_in(client, "officer_a")
    exported = _csv_rows(client.get(f"/staff/associations/{city.a}/members.csv").content)
    assert exported[1][0] == '\'=HYPERLINK("http://x")'


def test_table_to_csv_uses_japanese_headers_whatever_the_page_language() -> None:
    table = Table(
        "t",
        [Column("ward", "col.ward"), Column("members", "col.members", True)],
        [{"ward": "北地域", "members": 3}, {"ward": "南地域"}],
    )
    raw = table_to_csv(table, JA)
    assert raw.decode("utf-8-sig") == "区・地域,会員数\r\n北地域,3\r\n南地域,\r\n"


def test_event_tally_page_csv_and_api_agree(client: TestClient, city: City, engine: Engine) -> None:
    log_in(client, "organiser_a")
    event_id = city.events["a"]
    page = _page_rows(client.get(f"/staff/events/{event_id}").text)
    exported = _csv_rows(client.get(f"/staff/events/{event_id}/tally.csv").content)
    assert exported == page
    assert exported[0] == [
        "町内会",
        "参加",
        "未定",
        "不参加",
        "キャンセル待ち",
        "参加人数",
        "受付済み",
    ]
    # One member of A answered going with 2 adults and checked in; the last row is the total.
    assert exported[1] == ["青葉町内会", "1", "0", "0", "0", "2", "1"]
    assert exported[-1][0] == "合計" and exported[-1][1:] == exported[1][1:]
    with session_scope(engine) as db:
        account = db.get(StaffAccount, city.logins["organiser_a"])
        token = issue_api_token(db, account, "t", START)  # type: ignore[arg-type]
    api = client.get(
        f"/api/v1/events/{event_id}/tally", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert [r["going"] for r in api["rows"]] == [int(r[1]) for r in exported[1:]]
    assert (api["walk_in_adults"], api["walk_in_children"], api["attended"]) == (3, 1, 5)
    listed = _csv_rows(client.get("/staff/export/events.csv").content)
    # The status in words, as the page shows it (never the code "published").
    assert listed[1][1:] == ["清掃活動a", "青葉町内会", "公開中", "1", "2", "1"]
