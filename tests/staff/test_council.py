"""Issue 18: a known set of survey answers, one cell below the disclosure threshold, checked
number by number on the indicator pages, their CSVs, the council workbook and PDF, and the API
against values worked out by hand here (not by the code under test)."""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import Overrides, create_app
from bot.clock import FixedClock
from bot.core.models.areas import District
from bot.core.models.membership import Membership
from bot.core.models.staff import StaffAccount
from bot.db import session_scope
from bot.features.surveys import surveys
from bot.features.surveys.catalog import load_catalog
from bot.features.surveys.models import AnswerChannel, SurveyWave
from bot.features.surveys.surveys import AnswerInput
from bot.settings import DEFAULT_CONTENT_DIR
from bot.staff import auth
from tests.conftest import make_settings
from tests.staff.conftest import START, City, log_in

HIDDEN = "少数のため非表示"
Z = 1.959963984540054  # the 97.5th percentile of the standard normal
SECRET = "dev-only-survey-secret"


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson (1927) score interval, written out from the formula."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}"


def interval(k: int, n: int) -> str:
    low, high = wilson(k, n)
    return f"{100 * low:.1f}–{100 * high:.1f}"


@dataclass
class Known:
    wave1: int
    wave2: int
    d1: int  # 北地域地区 (ward 1)
    d2: int  # 南地域地区 (ward 2)
    d3: int  # 北第二地区 (ward 1): 4 answers, under the threshold of 10
    d4: int  # 北第三地区 (ward 1): 12 answers, hidden too so that d3 cannot be worked out


# Wave 1 (opens 2026-04-10), answers (yes of n) by district and channel:
#   d1: LINE 15 of 25, paper typed in by a 班長 3 of 5  → 18 of 30; of the LINE answers,
#       association A (青葉町内会) 8 of 12, association B (文化町内会) 2 of 3 (under 10:
#       hidden; d1 − A − B = 15 non-members, so A may show), non-members 5 of 10
#   d3: LINE 3 of 4 (under 10: hidden)
#   d4: LINE 5 of 12 (hidden with d3: 4 alone would be ward 1 − d1 − d4)
#   d2: LINE 5 of 18, typed in by staff (proxy) 1 of 2 → 6 of 20
# city 32 of 66; ward 1 26 of 46; ward 2 6 of 20.
# Wave 2 (opens 2026-07-10): d1 7 of 10, d2 1 of 5 → city 8 of 15; ward 2 (5) hidden, so ward 1
# is hidden too (city − ward 1 would reveal it), and with it d1.
POPULATION = {"d-ward1": 6000, "d3": 1000, "d4": 3000, "d-ward2": 10000}


def _store(engine: Engine, city: City) -> Known:
    survey = load_catalog(DEFAULT_CONTENT_DIR).surveys["morioka_participation"]
    with session_scope(engine) as db:
        ids = {d.code: d.id for d in db.exec(select(District)).all()}
        ward1 = db.exec(select(District).where(District.code == "d-ward1")).one().ward_id
        for code, name in (("d3", "北第二地区"), ("d4", "北第三地区")):
            row = District(code=code, ward_id=ward1, name=name)
            db.add(row)
            db.flush()
            ids[code] = row.id
        hancho = db.get(Membership, city.members["a"]).resident_id  # type: ignore[union-attr]
        admin = city.logins["admin"]
        waves = []
        for key, opens in (
            ("2026-04", datetime(2026, 4, 10, 1, tzinfo=UTC)),
            ("2026-07", datetime(2026, 7, 10, 1, tzinfo=UTC)),
        ):
            wave = SurveyWave(
                survey_id=survey.id,
                wave_key=key,
                opens_at=opens,
                closes_at=opens + timedelta(days=14),
                status="closed",
                created_at=opens,
            )
            db.add(wave)
            db.flush()
            waves.append(wave)
        n = 0

        def answers(
            wave: SurveyWave,
            code: str,
            yes: int,
            total: int,
            how: str = "line",
            association: int | None = None,
        ) -> None:
            nonlocal n
            for i in range(total):
                n += 1
                surveys.record_answer(
                    db,
                    survey,
                    wave,
                    AnswerInput(
                        "participated",
                        "has_taken_part" if i < yes else "never",
                        f"paper:{n}",
                        ids[code],
                        AnswerChannel.LINE if how == "line" else AnswerChannel.PAPER,
                        entered_by_resident_id=hancho if how == "hancho" else None,
                        entered_by_staff_id=admin if how == "proxy" else None,
                        association_id=association,
                    ),
                    SECRET,
                )

        w1, w2 = waves
        answers(w1, "d-ward1", 8, 12, association=city.a)  # 青葉町内会
        answers(w1, "d-ward1", 2, 3, association=city.b)  # 文化町内会: under 10, hidden
        answers(w1, "d-ward1", 5, 10)  # non-members
        answers(w1, "d-ward1", 3, 5, "hancho")
        answers(w1, "d3", 3, 4)
        answers(w1, "d4", 5, 12)
        answers(w1, "d-ward2", 5, 18)
        answers(w1, "d-ward2", 1, 2, "proxy")
        answers(w2, "d-ward1", 7, 10)
        answers(w2, "d-ward2", 1, 5)
        return Known(
            w1.id,
            w2.id,
            ids["d-ward1"],
            ids["d-ward2"],
            ids["d3"],
            ids["d4"],  # type: ignore[arg-type]
        )


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """The shipped content plus the city's own population table."""
    copy = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, copy)
    lines = ["地区コード,年齢区分,人口"]
    for code, people in POPULATION.items():
        lines += [f"{code},18-39,{people // 2}", f"{code},40-,{people - people // 2}"]
    (copy / "areas" / "population.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return copy


@pytest.fixture
def http(db_url: str, city: City, content_dir: Path) -> Iterator[TestClient]:
    settings = make_settings(
        db_url, "http://127.0.0.1:9", staff_session_secret="test-secret", content_dir=content_dir
    )
    app = create_app(settings, Overrides(clock=FixedClock(START), process_events=False))
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    yield client
    client.close()


def _csv(response: object) -> list[list[str]]:
    body = response.content.decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


def _cells(html: str, table: str) -> list[list[str]]:
    """The text of each body row of the page's table `table`."""
    found = re.search(
        rf'<table class="data" data-table="{re.escape(table)}">(.*?)</table>', html, re.S
    )
    assert found, f"no table {table}"
    body = found.group(1).split("<tbody>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]


def _overview_indicators(html: str) -> list[dict[str, str]]:
    """The overview's indicator blocks: indicator name, link, where, each fact and status."""
    found = re.search(r'data-testid="overview-indicators">(.*?)</section>', html, re.S)
    assert found, "no indicators on the overview"
    out, name = [], ""
    for attrs, item in re.findall(r"<li([^>]*)>(.*?)</li>", found.group(1), re.S):
        if 'class="indicator-name"' in attrs:
            name = item.strip()
            continue
        link = re.search(r'<a href="([^"]+)">(.*?)</a>', item, re.S)
        state = re.search(r'<span class="state[^"]*">(.*?)</span>', item, re.S)
        assert link and state
        facts = dict(re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", item, re.S))
        out.append(
            {
                "link": link.group(1).replace("&amp;", "&"),
                "name": name,
                "where": link.group(2).strip(),
                **facts,
                "status": state.group(1).strip(),
            }
        )
    return out


def test_every_number_matches_the_hand_count(http: TestClient, city: City, engine: Engine) -> None:
    known = _store(engine, city)
    log_in(http, "admin")
    name = "「コミュニティ活動に参加したことがある」と答えた市民の割合"
    # The overview: each wave's city share with its interval, target and baseline.
    expected_trend = [
        [name, "2026-04", "66", pct(32, 66), interval(32, 66), "56.5", "45.2"],
        [name, "2026-07", "15", pct(8, 15), interval(8, 15), "56.5", "45.2"],
    ]
    overview = http.get("/staff/surveys")
    assert _cells(overview.text, "indicators") == expected_trend
    assert _csv(http.get("/staff/export/indicators.csv"))[1:] == expected_trend
    assert "<svg" in overview.text and "回答数 0" not in overview.text

    # The start page: the latest wave's city value as the indicator page's last row shows it,
    # with its interval, baseline and target, and where it stands: the target 56.5 is inside
    # the interval, so neither reached nor missed.
    city_page = http.get("/staff/surveys/indicators/morioka_community_activity").text
    last = _cells(city_page, "indicator-morioka_community_activity")[-1]
    assert last[:5] == ["2026-07", "2026-07-10", "15", pct(8, 15), interval(8, 15)]
    shown = _overview_indicators(http.get("/staff/").text)
    assert shown == [
        {
            "link": "/staff/surveys/indicators/morioka_community_activity?area=city",
            "name": name,
            "where": "全体・2026-07",
            "割合（%）": last[3],
            "95%信頼区間（%）": last[4],
            "回答数": last[2],
            "現状値（%）": "45.2",
            "目標値（%）": "56.5",
            "status": "目標に達したかはまだ言えません（目標が95%信頼区間の中）",
        }
    ]

    # Ward 1: wave 1 shown (46 answers), wave 2 hidden because ward 2 had only 5.
    ward1 = f"ward:{city.ward1}"
    series = _csv(
        http.get(f"/staff/surveys/indicators/morioka_community_activity/series.csv?area={ward1}")
    )
    assert series[0] == [
        "回",
        "開始日",
        "回答数",
        "割合（%）",
        "95%信頼区間（%）",
        "紙の回答数",
        "回答率（%）",
    ]
    assert series[1][:6] == ["2026-04", "2026-04-10", "46", pct(26, 46), interval(26, 46), "5"]
    assert series[2][2:] == [HIDDEN] * 5
    page = http.get(f"/staff/surveys/indicators/morioka_community_activity?area={ward1}").text
    assert _cells(page, "indicator-morioka_community_activity")[1][2:] == [HIDDEN] * 5
    assert "少数のため非表示" in page and "participated" not in page

    # Ward 1 in July is hidden, so its districts (and their sum) are too: ward 1's 10 would
    # give away ward 2's 5 as city − ward 1.
    july_ward = http.get(
        f"/staff/surveys/indicators/morioka_community_activity?area={ward1}&since=2026-07-01"
    ).text
    strata = _cells(july_ward, "indicator-morioka_community_activity-districts")
    assert all(row[1] == HIDDEN for row in strata) and "非表示の地区（合算）" not in {
        r[0] for r in strata
    }
    assert "10" not in [cell for row in strata for cell in row[1:3]]

    # Period filter: from July only the second wave is left.
    july = _csv(http.get("/staff/export/indicators.csv?since=2026-07-01"))
    assert [r[1] for r in july[1:]] == ["2026-07"]

    # The wave page: per ward and district, the small ones hidden, never 0 or blank.
    wave = _csv(http.get(f"/staff/surveys/{known.wave1}/results.csv"))
    by_area = {r[3]: r[4:] for r in wave[1:]}
    assert by_area["全体"] == ["66", pct(32, 66), interval(32, 66), ""]  # no invitations: no rate
    assert by_area["北地域"][:3] == ["46", pct(26, 46), interval(26, 46)]
    assert by_area["南地域"][:3] == ["20", pct(6, 20), interval(6, 20)]
    assert by_area["北地域地区"][:3] == ["30", pct(18, 30), interval(18, 30)]
    assert by_area["南地域地区"][:3] == ["20", pct(6, 20), interval(6, 20)]
    assert by_area["北第二地区"] == [HIDDEN] * 4
    assert by_area["北第三地区"] == [HIDDEN] * 4
    assert "-" not in by_area and "'-" not in wave[1][3]
    # Associations: A shown (12 answers), B under the threshold hidden.
    assert by_area["青葉町内会"][:3] == ["12", pct(8, 12), interval(8, 12)]
    assert by_area["文化町内会"] == [HIDDEN] * 4
    assert {r[2] for r in wave[1:] if r[3] == "青葉町内会"} == {"町内会・自治会"}

    # One association picked in the area filter: its page, CSV, workbook and API.
    area_a, area_b = f"association:{city.a}", f"association:{city.b}"
    path = "/staff/surveys/indicators/morioka_community_activity"
    page_a = http.get(f"{path}?area={area_a}").text
    assert f'<option value="{area_a}" selected>' in page_a
    rows_a = _cells(page_a, "indicator-morioka_community_activity")
    assert rows_a[0][2:5] == ["12", pct(8, 12), interval(8, 12)]
    assert rows_a[1][2:] == [HIDDEN] * 5  # July: no answers from A
    # Population figures are by district: no strata and no weighted estimate for one association.
    assert "町内会・自治会ごとの人口との比較はありません" in page_a
    assert "indicator-morioka_community_activity-districts" not in page_a
    series_a = _csv(http.get(f"{path}/series.csv?area={area_a}"))
    assert series_a[1] == ["2026-04", "2026-04-10", "12", pct(8, 12), interval(8, 12), "0", ""]
    series_b = _csv(http.get(f"{path}/series.csv?area={area_b}"))
    assert series_b[1][2:] == [HIDDEN] * 5
    page_b = http.get(f"{path}?area={area_b}&until=2026-06-30").text
    assert _cells(page_b, "indicator-morioka_community_activity")[0][2:] == [HIDDEN] * 5
    assert "<td>3</td>" not in page_b and pct(2, 3) not in page_b
    book_a = load_workbook(
        io.BytesIO(http.get(f"/staff/council/report.xlsx?area={area_a}&until=2026-06-30").content)
    )
    assert [c.value for c in book_a["指標"][2]] == [
        name,
        "2026-04",
        12,
        pct(8, 12),
        interval(8, 12),
        "56.5",
        "45.2",
    ]

    # Representativeness, city, wave 2 is the latest in the period, so ask for April only.
    page = http.get("/staff/surveys/indicators/morioka_community_activity?until=2026-06-30").text
    channels = _cells(page, "indicator-morioka_community_activity-channels")
    assert channels == [
        ["LINE", "59", pct(59, 66)],
        ["紙（班長が入力）", "5", pct(5, 66)],
        ["代理入力（職員）", "2", pct(2, 66)],
    ]
    strata = _cells(page, "indicator-morioka_community_activity-districts")
    assert strata == [
        ["北地域地区", "30", pct(30, 66), "6000", "30.0", pct(18, 30)],
        ["北第二地区", HIDDEN, HIDDEN, "1000", "5.0", HIDDEN],
        ["北第三地区", HIDDEN, HIDDEN, "3000", "15.0", HIDDEN],
        ["南地域地区", "20", pct(20, 66), "10000", "50.0", pct(6, 20)],
        ["非表示の地区（合算）", "16", pct(16, 66), "4000", "20.0", pct(8, 16)],
    ]
    # Post-stratified by hand: weights 0.3, 0.5, 0.2 on 18/30, 6/20, 8/16.
    share = 0.3 * 18 / 30 + 0.5 * 6 / 20 + 0.2 * 8 / 16
    var = 0.09 * 0.6 * 0.4 / 30 + 0.25 * 0.3 * 0.7 / 20 + 0.04 * 0.5 * 0.5 / 16
    half = Z * math.sqrt(var)
    estimates = _cells(page, "indicator-morioka_community_activity-estimates")
    assert estimates == [
        ["回答者の割合（集計のまま）", pct(32, 66), interval(32, 66), ""],
        [
            "人口で重み付けした推計（事後層化）",
            f"{100 * share:.1f}",
            f"{100 * (share - half):.1f}–{100 * (share + half):.1f}",
            "100.0",
        ],
    ]

    # The council workbook: the same numbers, one sheet per table, Japanese headers.
    book = load_workbook(
        io.BytesIO(http.get("/staff/council/report.xlsx?until=2026-06-30").content)
    )
    sheet = book["指標"]
    assert [c.value for c in sheet[1]][:4] == ["指標", "回", "回答数", "割合（%）"]
    assert [c.value for c in sheet[2]] == [
        name,
        "2026-04",
        66,
        pct(32, 66),
        interval(32, 66),
        "56.5",
        "45.2",
    ]
    assert book["地区別の回答者1"]["A3"].value == "北第二地区"
    assert book["地区別の回答者1"]["B3"].value == HIDDEN

    # The council PDF for ward 1: Japanese text, the ward's figures, the hidden cells named.
    pdf = http.get(f"/staff/council/report.pdf?area={ward1}")
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 1
    squashed = re.sub(r"\s+", "", text)
    assert "北地域" in squashed and "指標の値と目標" in squashed
    assert f"46{pct(26, 46)}{interval(26, 46)}" in squashed
    assert HIDDEN in squashed

    # A ward 1 clerk's start page: the city, and ward 1 whose July wave is hidden.
    log_in(http, "ward1")
    ward_view = _overview_indicators(http.get("/staff/").text)
    assert [(i["where"], i["割合（%）"], i["status"]) for i in ward_view] == [
        ("全体・2026-07", pct(8, 15), "目標に達したかはまだ言えません（目標が95%信頼区間の中）"),
        ("北地域・2026-07", HIDDEN, "回答が少ないため判定なし"),
    ]
    assert "回答数" not in ward_view[1] and ward_view[1]["link"].endswith(f"area={ward1}")
    log_in(http, "admin")

    # The API: the same figures for the city's dashboards.
    with session_scope(engine) as db:
        account = db.get(StaffAccount, city.logins["admin"])
        token = auth.issue_api_token(db, account, "dash", START)  # type: ignore[arg-type]
    api = http.get(
        "/api/v1/indicators/morioka_community_activity",
        params={"area": ward1},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    first, second = api["waves"]
    assert (first["wave"], first["answers"], first["suppressed"]) == ("2026-04", 46, False)
    assert first["share"] == pytest.approx(26 / 46)
    assert (first["low"], first["high"]) == pytest.approx(wilson(26, 46))
    assert second["suppressed"] is True and second["answers"] is None and second["share"] is None
    assert api["target"] == 56.5 and api["baseline"] == 45.2
    for area, expected in ((area_a, (False, 12, 8)), (area_b, (True, None, None))):
        by_association = http.get(
            "/api/v1/indicators/morioka_community_activity",
            params={"area": area, "until": "2026-06-30"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        (april,) = by_association["waves"]
        assert (april["suppressed"], april["answers"], april["positive"]) == expected
        assert by_association["representativeness"]["districts"] == []
    assert april["share"] is None and april["low"] is None
    report = http.get(
        "/api/v1/council",
        params={"area": ward1},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    first_table = report["sections"][0]
    assert [c["header"] for c in first_table["columns"]][:4] == [
        "指標",
        "回",
        "回答数",
        "割合（%）",
    ]
    assert [r["answers"] for r in first_table["rows"]] == [46, HIDDEN]
    assert {s["name"] for s in report["sections"]} >= {"overview", "funnel", "notice-coverage"}


def test_the_report_repeats_each_page_for_its_area(
    http: TestClient, city: City, engine: Engine
) -> None:
    """The workbook for ward 1 holds the overview, funnel and participation figures a ward 1
    clerk's own pages export, value for value; an area outside the scope is refused."""
    log_in(http, "ward1")
    overview = _csv(http.get("/staff/export/overview.csv"))
    funnel_page = http.get("/staff/funnel").text
    diversity = _csv(http.get("/staff/export/diversity.csv"))
    assert http.get(f"/staff/council?area=ward:{city.ward2}").status_code == 404
    assert http.get(f"/staff/council/report.xlsx?area=ward:{city.ward2}").status_code == 404
    page = http.get(f"/staff/council?area=ward:{city.ward1}").text
    assert "議会報告" in page and "青葉町内会" in page and "千歳町内会" not in page
    book = load_workbook(
        io.BytesIO(http.get(f"/staff/council/report.xlsx?area=ward:{city.ward1}").content)
    )
    members = [[_text(c.value) for c in row] for row in book["会員数"].iter_rows()]
    assert members == overview
    assert [[_text(c.value) for c in row] for row in book["行事別の参加"].iter_rows()] == diversity
    funnel = [[_text(c.value) for c in row] for row in book["入会の流れ"].iter_rows()]
    assert funnel[0][:3] == ["種類", "QRの設置場所", "友だち追加"]
    assert {r[0] for r in funnel[1:]} <= {
        "町内会のポスター",
        "転入窓口",
        "QRなし（検索・紹介など）",
    }
    for row in funnel[1:]:
        assert row[1] in funnel_page
    figures = {r[0].value: r[1].value for r in book["参加の広がり"].iter_rows(min_row=2)}
    assert figures["参加した人数"] == "2"  # a member of A and one of B checked in, in ward 1


def _text(value: object) -> str:
    return "" if value is None else str(value)


def test_english_pages_read_english(http: TestClient, city: City, engine: Engine) -> None:
    """The indicator and council pages in English: words from content/staff/en.yaml, plan
    figures labelled in English, the suppressed text in English too."""
    _store(engine, city)
    log_in(http, "admin")
    page = http.get(
        f"/staff/surveys/indicators/morioka_community_activity?area=ward:{city.ward1}&lang=en"
    ).text
    assert "Residents who say they have taken part in community activities" in page
    assert "Hidden: too few answers" in page and HIDDEN not in page
    assert "Baseline (2019)" in page and "Target (2024)" in page
    assert "現状値" not in page and "目標値" not in page and "盛岡市地域づくり" not in page
    # A district with no reading is marked as Japanese wherever it is named: filter and tables.
    assert '<td data-label="District">「北地域地区」</td>' in page
    assert page.count("北地域地区") == page.count("「北地域地区」")
    overview = http.get("/staff/?lang=en").text  # the associations table marks names too
    assert "「青葉町内会」" in overview and overview.count("青葉町内会") == overview.count(
        "「青葉町内会」"
    )
    council = http.get("/staff/council?lang=en").text
    assert "Council report" in council and "Download the PDF" in council


def test_an_officer_picks_only_their_association(
    http: TestClient, city: City, engine: Engine
) -> None:
    """Associations are in the area filter scoped like the pages: officer A sees A, not B."""
    _store(engine, city)
    log_in(http, "officer_a")
    path = "/staff/surveys/indicators/morioka_community_activity"
    page = http.get(f"{path}?area=association:{city.a}&until=2026-06-30").text
    options = re.findall(r'<option value="([^"]+)"', page)
    assert f"association:{city.a}" in options
    assert f"association:{city.b}" not in options and f"association:{city.c}" not in options
    rows = _cells(page, "indicator-morioka_community_activity")
    assert rows[0][2:5] == ["12", pct(8, 12), interval(8, 12)]
    assert http.get(f"{path}?area=association:{city.b}").status_code == 404
    assert http.get(f"{path}/series.csv?area=association:{city.c}").status_code == 404
