"""The staff web at city scale: the overview and one event's tallies at 1/100 and full size.

Issue 8: 100,000 residents, 2,000 events and 1,000,000 RSVPs in PostgreSQL, and a city
admin waiting for the overview page and for one event's tally page. Full size must take at
most 3x the time of the 1/100 city: the pages must read indexes or pre-aggregated numbers,
not scan the city per request.

Each size gets its own database on the benchmark server (`tsunagari_bench_small`,
`tsunagari_bench_full` by default), migrated with the project's Alembic migrations, loaded
with the demo city's wards, districts and 70 associations (content/areas) and its staff
accounts, then filled in bulk by INSERT ... SELECT generate_series (no ORM rows):

  residents    followed over three years; 5 % blocked, 1 % erased; ja / en / ja-easy
  memberships  80 % of residents: approved, pending, declined, ended; 1-5 people per
               household; association sizes skewed (some 町内会 are much larger)
  events       spread over the associations (skewed too) and over 24 months; published,
               a few cancelled or drafts; the host association's members answer most
  tally        membership_tally, survey_tally and attendance_tally counted once from the
               loaded rows (they bypassed the ORM hooks that keep them in step on every write)
  RSVPs        RSVPs / events per event: going (1-3 adults, children), maybe, not,
               waitlisted, a few with needs; check-ins for 70 % of going answers of past
               events; walk-ins at the door

  survey       (issue 18) four closed waves of Morioka's indicator survey and 200,000
               answers over them, districts skewed, LINE / 班長 paper / staff proxy,
               80 % of them from members of an association of their district

Timed, alternating the sizes round by round so machine load hits both alike:

  overview page    GET /staff/ through the app (in-process ASGI client, logged in as the
                   demo city admin): auth, scope, counts, chart, template
  tally page       GET /staff/events/<id> for a past published event of a mid-sized
                   association (same RSVPs per event at both sizes, as in the issue)
  overview()       overview_table(session, scope): the service call behind the page
  event_tally()    tallies_events.event_tally for the same event
  events list      GET /staff/events (informational: it lists the latest 200 events, so
                   at 1/100 it shows 20 and its work grows with the list, not the target)
  indicator page   GET /staff/surveys/indicators/<id> for the city, one district and one
                   association: four waves from survey_tally per ward, district and
                   association, trend chart, representativeness
  council report   GET /staff/council/report.pdf and .xlsx for the city (every feature's
                   tables; informational like the events list: its event table is the latest
                   200 events, so its work grows with that list)

Run:  python bench/bench_staff.py [--scale 0.01 1] [--rounds 15] [--per-round 5] [--keep]
          [--only indicator] [--db-prefix NAME]
--only keeps the measures whose name contains one of the words; --db-prefix names the
databases NAME_small / NAME_full (so two people can keep their own).
Needs PostgreSQL at TSUNAGARI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres;
the databases are created there and dropped afterwards unless --keep; with --keep a later
run reuses a database whose row counts already match instead of loading it again).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import Overrides, create_app
from bot.core.models.areas import Association, District
from bot.core.models.staff import StaffAccount
from bot.core.scope import Scope, scope_for
from bot.db import make_engine, session_scope
from bot.demo.seed import load_sample_city
from bot.demo.staff import seed_staff_accounts
from bot.features.events import attendance_tally
from bot.features.events import tallies as tallies_events
from bot.features.events.staff.views import tally_table
from bot.features.membership import tally as membership_tally
from bot.features.membership.staff.overview import overview_table
from bot.features.surveys import tally as survey_tally
from bot.platform import migrate
from bot.settings import DEFAULT_CONTENT_DIR, Settings

FULL = {"residents": 100_000, "events": 2_000, "rsvps": 1_000_000, "answers": 200_000}
ADMIN_LOGIN, ADMIN_PASSWORD = "city-admin", "demo-city-admin-2026"  # content/demo/staff.yaml
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
# Association sizes: resident i of n belongs to association floor(A * ((i-1)/n)^SKEW).
SKEW = 1.3
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# --- loading ----------------------------------------------------------------------------------


def _sizes(scale: float) -> dict[str, int]:
    return {k: max(1, round(v * scale)) for k, v in FULL.items()}


def _name(scale: float, prefix: str = "tsunagari_bench") -> str:
    return f"{prefix}_" + (
        "full" if scale == 1 else "small" if scale == 0.01 else f"s{str(scale).replace('.', '_')}"
    )


# Each statement is formatted with n (residents), e (events), per (RSVPs per event),
# a (associations) and ids (the associations' ids as an SQL array), then run once.
# Hashes of the row number (h1, h2 ...) stand in for randomness: the data is the same
# on every run, so two runs measure the same city.
LOAD_SQL = [
    # Residents: followed over three years, a few blocked or erased, three locales.
    """
    INSERT INTO resident (line_user_id, locale, status, followed_at, unfollowed_at, created_at)
    SELECT CASE WHEN i % 100 = 0 THEN NULL ELSE 'U' || md5('bench-' || i) END,
           CASE WHEN i % 20 = 0 THEN 'en' WHEN i % 33 = 0 THEN 'ja-easy' ELSE 'ja' END,
           CASE WHEN i % 100 = 0 THEN 'deleted' WHEN i % 20 = 7 THEN 'blocked' ELSE 'active' END,
           t, CASE WHEN i % 20 = 7 THEN t + interval '200 days' END, t
    FROM (SELECT i, timestamptz '2023-12-01 00:00+00' + ((i * 7919) % 1090) * interval '1 day'
                 + ((i * 31) % 86400) * interval '1 second' AS t
          FROM generate_series(1, {n}) AS i) AS g
    """,
    # Memberships for 80 % of residents, in the association their address falls in.
    """
    INSERT INTO membership (resident_id, association_id, status, town_label, full_name, room,
                            phone, contact_method, household_size, applied_at, decided_at,
                            ended_at, end_reason)
    SELECT r.id, ({ids})[1 + LEAST({a} - 1, floor({a} * power((r.id - r0.first)::float8 / {n},
                                                             {skew})))::int],
           s.status, '中央通' || (1 + r.id % 3) || '丁目', 'ベンチ 住民' || r.id,
           CASE WHEN r.id % 4 = 0 THEN (100 + r.id % 400)::text END,
           CASE WHEN r.id % 3 = 0 THEN '090' || lpad((r.id % 100000000)::text, 8, '0') END,
           (ARRAY['line', 'line', 'phone', 'visit'])[1 + r.id % 4],
           1 + (r.id * 13) % 5, r.created_at + interval '2 days',
           CASE WHEN s.status <> 'pending' THEN r.created_at + interval '5 days' END,
           CASE WHEN s.status = 'ended' THEN r.created_at + interval '300 days' END,
           CASE WHEN s.status = 'ended' THEN 'moved' END
    FROM resident r
    CROSS JOIN (SELECT min(id) AS first FROM resident) AS r0
    CROSS JOIN LATERAL (SELECT CASE WHEN (r.id * 2654435761) % 100 < 84 THEN 'approved'
                                    WHEN (r.id * 2654435761) % 100 < 90 THEN 'pending'
                                    WHEN (r.id * 2654435761) % 100 < 94 THEN 'declined'
                                    ELSE 'ended' END AS status) AS s
    WHERE r.id % 10 < 8
    """,
    # Events: hosts skewed like the associations, over 24 months, most published.
    """
    INSERT INTO event (association_id, title, category, description, place, starts_at, ends_at,
                       capacity, headcount_allowed, max_party, audience, status, checkin_code,
                       revision, created_at, updated_at, published_at, cancelled_at,
                       calendar_token, translations)
    SELECT ({ids})[1 + LEAST({a} - 1, floor({a} * power(((i * 7919) % {e})::float8 / {e},
                                                       {skew})))::int],
           (ARRAY['夏祭り', '防災訓練', '清掃活動', 'ふれあいサロン', '資源回収',
                  '敬老会'])[1 + i % 6] || ' ' || i,
           (ARRAY['festival', 'drill', 'cleanup', 'cafe', 'cleanup', 'other'])[1 + i % 6],
           '', '公民館', t, t + interval '2 hours',
           CASE WHEN i % 4 = 0 THEN 400 END, i % 3 <> 0, 6, '{{}}'::json,
           CASE WHEN i % 20 = 3 THEN 'cancelled' WHEN i % 20 = 11 AND t > '{now}' THEN 'draft'
                ELSE 'published' END,
           md5('bench-event-' || i), 0, t - interval '30 days', t - interval '30 days',
           t - interval '29 days', CASE WHEN i % 20 = 3 THEN t - interval '3 days' END,
           left(md5('bench-calendar-' || i), 32), '{{}}'::json
    FROM (SELECT i, timestamptz '2025-01-04 01:00+00' + ((i * 104729) % 720) * interval '1 day'
                 AS t FROM generate_series(1, {e}) AS i) AS g
    """,
    # RSVPs: per event, a run of residents starting inside the host association (distinct
    # residents within an event, most of them the host's members).
    """
    INSERT INTO rsvp (event_id, resident_id, answer, adults, children, needs, proxy_label,
                      created_at, updated_at)
    SELECT ev.id, r0.first + (ev.base + k) % {n}, x.answer,
           CASE WHEN x.answer = 'going' AND ev.headcount_allowed THEN 1 + (h % 3) ELSE 1 END,
           CASE WHEN x.answer = 'going' AND ev.headcount_allowed AND h % 4 = 0
                THEN 1 + h % 2 ELSE 0 END,
           CASE WHEN h % 37 = 0 THEN '車椅子' WHEN h % 53 = 0 THEN '食物アレルギー' ELSE '' END,
           '', ev.starts_at - ((h % 20) + 1) * interval '1 day',
           ev.starts_at - ((h % 20) + 1) * interval '1 day'
    FROM (SELECT e.*, floor({n} * power(
                     (array_position({ids}, e.association_id) - 1)::float8 / {a},
                     1 / {skew}))::int + (e.id * 37) % 300 AS base
          FROM event e) AS ev
    CROSS JOIN (SELECT min(id) AS first FROM resident) AS r0
    CROSS JOIN generate_series(0, {per} - 1) AS k
    CROSS JOIN LATERAL (SELECT (ev.id * 7919 + k * 104729) % 1000003 AS h) AS hh
    CROSS JOIN LATERAL (SELECT CASE WHEN h % 100 < 60 THEN 'going' WHEN h % 100 < 72 THEN 'maybe'
                                    WHEN h % 100 < 92 THEN 'not' ELSE 'waitlisted' END
                               AS answer) AS x
    """,
    # Check-ins: 70 % of going answers of past published events.
    """
    INSERT INTO check_in (event_id, resident_id, method, at)
    SELECT r.event_id, r.resident_id, CASE WHEN r.id % 9 = 0 THEN 'staff' ELSE 'qr' END,
           e.starts_at + (r.id % 60) * interval '1 minute'
    FROM rsvp r JOIN event e ON e.id = r.event_id
    WHERE r.answer = 'going' AND e.status = 'published' AND e.ends_at <= '{now}'
      AND (r.id * 2654435761) % 10 < 7
    """,
    # Survey waves (issue 18): four closed quarterly waves of Morioka's indicator survey.
    """
    INSERT INTO survey_wave (survey_id, wave_key, opens_at, closes_at, status, context,
                             created_at, closed_at)
    SELECT 'morioka_participation', k, t, t + interval '14 days', 'closed', '{{}}'::json, t,
           t + interval '14 days'
    FROM (VALUES ('2025-04', timestamptz '2025-04-10 01:00+00'),
                 ('2025-07', timestamptz '2025-07-10 01:00+00'),
                 ('2025-10', timestamptz '2025-10-10 01:00+00'),
                 ('2026-01', timestamptz '2026-01-10 01:00+00')) AS w(k, t)
    """,
    # Survey answers over the waves, districts skewed (some cells stay under the threshold
    # at 1/100), 2 % with no known district; 90 % on LINE, 7 % paper typed in by a 班長,
    # 3 % typed in by staff; 48 % say they took part; 80 % of those with a district from
    # members of one of its associations (recorded with the answer).
    """
    INSERT INTO survey_answer (id, wave_id, question_id, option_id, district_id,
                               association_id, channel, entered_by_resident_id,
                               entered_by_staff_id)
    SELECT x.id, x.wave_id, 'participated', x.option_id, x.district_id,
           CASE WHEN x.i % 10 < 8 AND ad.ids IS NOT NULL
                THEN ad.ids[1 + (x.i * 31) % array_length(ad.ids, 1)] END,
           x.channel, x.by_resident, x.by_staff
    FROM (
      SELECT i, md5('bench-answer-' || i) AS id, w.ids[1 + i % 4] AS wave_id,
             CASE WHEN (i * 2654435761) % 100 < 48 THEN 'has_taken_part' ELSE 'never' END
               AS option_id,
             CASE WHEN i % 50 = 0 THEN NULL
                  ELSE ({dids})[1 + LEAST({d} - 1, floor({d} * power(((i * 7919) % {q})::float8
                                                                    / {q}, {skew})))::int] END
               AS district_id,
             CASE WHEN i % 100 < 90 THEN 'line' ELSE 'paper' END AS channel,
             CASE WHEN i % 100 BETWEEN 90 AND 96 THEN r0.first + i % {n} END AS by_resident,
             CASE WHEN i % 100 > 96 THEN 1 END AS by_staff
      FROM generate_series(1, {q}) AS i
      CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM survey_wave) AS w
      CROSS JOIN (SELECT min(id) AS first FROM resident) AS r0
    ) AS x
    LEFT JOIN (SELECT district_id, array_agg(id ORDER BY id) AS ids FROM association
               GROUP BY district_id) AS ad ON ad.district_id = x.district_id
    """,
    # Walk-ins counted at the door, one to three tallies per past event.
    """
    INSERT INTO walk_in (event_id, adults, children, at)
    SELECT e.id, 1 + (e.id + j) % 4, (e.id * j) % 3, e.starts_at + j * interval '20 minutes'
    FROM event e CROSS JOIN generate_series(1, 3) AS j
    WHERE e.status = 'published' AND e.ends_at <= '{now}' AND j <= 1 + e.id % 3
    """,
]


def _pg(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str, name: str, reuse: bool) -> tuple[str, bool]:
    """(SQLAlchemy URL of database `name`, whether it existed and is kept as it is)."""
    base = make_url(server_url).set(drivername="postgresql")
    admin = base.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not reuse:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), bool(exists and reuse)


def drop_database(server_url: str, name: str) -> None:
    """Drop a benchmark database (connections are closed by force)."""
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def row_counts(url: str) -> dict[str, int]:
    """Rows in the tables the load fills."""
    with psycopg.connect(_pg(url)) as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in (
                "resident",
                "membership",
                "event",
                "rsvp",
                "check_in",
                "walk_in",
                "staff_account",
                "survey_answer",
            )
        }


def load(url: str, sizes: dict[str, int], content_dir: Path) -> dict[str, float]:
    """Schema, demo city and staff, then the bulk rows; seconds per step."""
    steps: dict[str, float] = {}
    start = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            load_sample_city(session, content_dir)
            seed_staff_accounts(session, content_dir / "demo" / "staff.yaml")
        with Session(engine) as session:
            ids = [
                int(i)
                for i in session.exec(select(Association.id).order_by(Association.id)).all()
                if i is not None
            ]  # type: ignore[arg-type]
            district_ids = [
                int(i)
                for i in session.exec(select(District.id).order_by(District.id)).all()
                if i is not None
            ]
    finally:
        engine.dispose()
    steps["schema + city"] = time.perf_counter() - start
    params = {
        "n": sizes["residents"],
        "e": sizes["events"],
        "per": sizes["rsvps"] // sizes["events"],
        "a": len(ids),
        "skew": SKEW,
        "ids": "ARRAY[" + ",".join(map(str, ids)) + "]",
        "q": sizes["answers"],
        "d": len(district_ids),
        "dids": "ARRAY[" + ",".join(map(str, district_ids)) + "]",
        "now": NOW.isoformat(),
    }
    with psycopg.connect(_pg(url), autocommit=True) as conn:
        for sql in LOAD_SQL:
            table = sql.split("INSERT INTO ")[1].split()[0]
            start = time.perf_counter()
            conn.execute(sql.format(**params))  # type: ignore[arg-type]
            steps[table] = time.perf_counter() - start
        start = time.perf_counter()
        # The rows above bypassed the ORM's flush hook: count the overview's tally once, as
        # the migration's backfill does for an existing database.
        engine = make_engine(url)
        try:
            with engine.begin() as sa_conn:
                membership_tally.rebuild(sa_conn)
            steps["membership_tally"] = time.perf_counter() - start
            start = time.perf_counter()
            with engine.begin() as sa_conn:
                survey_tally.rebuild(sa_conn)  # likewise for the survey answers
            steps["survey_tally"] = time.perf_counter() - start
        finally:
            engine.dispose()
        start = time.perf_counter()
        engine = make_engine(url)
        try:
            with engine.begin() as sa_conn:
                attendance_tally.rebuild(sa_conn)
        finally:
            engine.dispose()
        steps["attendance_tally"] = time.perf_counter() - start
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE")  # statistics and the visibility map, as autovacuum would
        steps["vacuum analyze"] = time.perf_counter() - start
    return steps


# --- measuring --------------------------------------------------------------------------------


@dataclass
class City:
    """One loaded database, the app on it, and the times measured against it."""

    scale: float
    name: str
    url: str
    counts: dict[str, int]
    load_s: dict[str, float]
    engine: Engine | None = None
    http: TestClient | None = None
    scope: Scope | None = None
    event_id: int = 0
    event_rsvps: int = 0
    district_id: int = 0
    association_id: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)

    def open(self, content_dir: Path) -> None:
        """The app in-process (no lifespan: staff pages need only the database), logged in."""
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=self.url,
            content_dir=content_dir,
            line_channel_secret="bench-secret",
            line_channel_access_token="bench-token",
            line_api_base_url="http://127.0.0.1:9",
            line_data_api_base_url="http://127.0.0.1:9",
            staff_session_secret="bench-session-secret",
            run_scheduler=False,
            run_sender=False,
            auto_migrate=False,
            environment="test",
            log_format="text",
            log_level="WARNING",
        )
        app = create_app(settings, Overrides(process_events=False))
        self.http = TestClient(app, base_url="http://testserver", follow_redirects=False)
        form = self.http.get("/staff/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text[:300]
        answer = self.http.post(
            "/staff/login",
            data={"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD, "csrf_token": token.group(1)},
        )
        assert answer.status_code == 303, answer.text[:300]
        self.engine = make_engine(self.url)
        with Session(self.engine) as session:
            account = session.exec(
                select(StaffAccount).where(StaffAccount.login == ADMIN_LOGIN)
            ).one()
            self.scope = scope_for(session, account)
            self.event_id, self.event_rsvps = pick_event(session)
            self.district_id = int(
                session.exec(select(District.id).order_by(District.id)).first() or 0
            )
            # The association with the most answers: its cells are above the threshold.
            self.association_id = int(
                session.execute(
                    text(
                        "SELECT association_id FROM survey_tally WHERE association_id <> 0 "
                        "GROUP BY association_id ORDER BY sum(answers) DESC, association_id "
                        "LIMIT 1"
                    )
                ).scalar_one()
            )

    def close(self) -> None:
        """Close the client and the engines (the app's and the service calls')."""
        if self.http is not None:
            self.http.app.state.engine.dispose()  # type: ignore[attr-defined]
            self.http.close()
        if self.engine is not None:
            self.engine.dispose()


def pick_event(session: Session) -> tuple[int, int]:
    """The latest past published event of the median-sized association, and its RSVPs."""
    sizes = (
        session.execute(
            text(
                "SELECT association_id FROM membership WHERE status = 'approved' "
                "GROUP BY association_id ORDER BY count(*), association_id"
            )
        )
        .scalars()
        .all()
    )
    hosts = (
        session.execute(
            text(
                "SELECT DISTINCT association_id FROM event WHERE status = 'published' "
                "AND ends_at <= :now"
            ),
            {"now": NOW},
        )
        .scalars()
        .all()
    )
    candidates = [a for a in sizes if a in set(hosts)]
    host = candidates[len(candidates) // 2]
    event_id = session.execute(
        text(
            "SELECT id FROM event WHERE association_id = :a AND status = 'published' "
            "AND ends_at <= :now ORDER BY starts_at DESC LIMIT 1"
        ),
        {"a": host, "now": NOW},
    ).scalar_one()
    rsvps = session.execute(
        text("SELECT count(*) FROM rsvp WHERE event_id = :e"), {"e": event_id}
    ).scalar_one()
    return int(event_id), int(rsvps)


def _page(city: City, path: str) -> Callable[[], None]:
    def call() -> None:
        assert city.http is not None
        response = city.http.get(path)
        assert response.status_code == 200, (path, response.status_code)

    return call


def _overview_call(city: City) -> Callable[[], None]:
    def call() -> None:
        assert city.engine is not None and city.scope is not None
        with Session(city.engine) as session:
            overview_table(session, city.scope)

    return call


def _tally_call(city: City) -> Callable[[], None]:
    def call() -> None:
        assert city.engine is not None
        with Session(city.engine) as session:
            tallies_events.event_tally(session, event_id=city.event_id)

    return call


def _tally_table_call(city: City) -> Callable[[], None]:
    def call() -> None:
        assert city.engine is not None and city.scope is not None
        with Session(city.engine) as session:
            tally_table(session, city.scope, city.event_id, non_members="-", total="計")

    return call


MEASURES: dict[str, Callable[[City], Callable[[], None]]] = {
    "overview page": lambda c: _page(c, "/staff/"),
    "tally page": lambda c: _page(c, f"/staff/events/{c.event_id}"),
    "overview()": _overview_call,
    "tally_table()": _tally_table_call,
    "event_tally()": _tally_call,
    "events list page": lambda c: _page(c, "/staff/events"),
    "indicator page": lambda c: _page(c, f"/staff/surveys/indicators/{INDICATOR}"),
    "indicator page, one district": lambda c: _page(
        c, f"/staff/surveys/indicators/{INDICATOR}?area=district:{c.district_id}"
    ),
    "indicator page, one association": lambda c: _page(
        c, f"/staff/surveys/indicators/{INDICATOR}?area=association:{c.association_id}"
    ),
    "council PDF": lambda c: _page(c, "/staff/council/report.pdf"),
    "council xlsx": lambda c: _page(c, "/staff/council/report.xlsx"),
}
TARGETED = (
    "overview page",
    "tally page",
    "overview()",
    "tally_table()",
    "event_tally()",
    "indicator page",
    "indicator page, one district",
    "indicator page, one association",
)
INDICATOR = "morioka_community_activity"


def measure(cities: list[City], rounds: int, per_round: int) -> None:
    """Warm each city, then alternate them round by round, `per_round` calls per measure."""
    for city in cities:
        for make in MEASURES.values():
            call = make(city)
            for _ in range(3):
                call()
    for round_no in range(rounds):
        order = cities if round_no % 2 == 0 else list(reversed(cities))
        for city in order:
            for name, make in MEASURES.items():
                call = make(city)
                for _ in range(per_round):
                    start = time.perf_counter()
                    call()
                    city.times.setdefault(name, []).append(time.perf_counter() - start)


def explain(city: City) -> list[str]:
    """The plans of the overview's counts and the tally's main query (are indexes used?)."""
    assert city.engine is not None
    lines = []
    member_of = (
        "(SELECT m.association_id FROM membership m WHERE m.resident_id = {}"
        " AND m.status = 'approved' LIMIT 1)"
    )
    queries = {
        "overview counts": """
            SELECT association_id, status, memberships, people FROM membership_tally
            WHERE status IN ('approved', 'pending')""",
        "tally answers": f"""
            SELECT a.association_id, a.answer, count(*), sum(a.adults), sum(a.children)
            FROM (SELECT {member_of.format("r.resident_id")} AS association_id, r.answer,
                         r.adults, r.children FROM rsvp r WHERE r.event_id = {city.event_id}) a
            GROUP BY a.association_id, a.answer""",
        "tally check-ins": f"""
            SELECT c.association_id, count(*)
            FROM (SELECT {member_of.format("c.resident_id")} AS association_id
                  FROM check_in c WHERE c.event_id = {city.event_id}) c
            GROUP BY c.association_id""",
    }
    with city.engine.connect() as conn:
        for label, sql in queries.items():
            lines.append(f"-- {label} ({city.name})")
            plan = conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql))
            lines.extend("   " + row[0] for row in plan)
    return lines


# --- report -----------------------------------------------------------------------------------


def report(cities: list[City], rounds: int, per_round: int, loads: float | None) -> str:
    """Markdown: sizes, medians per measure and size, the ratio of the largest to the smallest."""
    small, full = cities[0], cities[-1]
    out = [
        f"# Staff web at scale ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs, load average {loads if loads is not None else '?'})",
        "",
    ]
    out.append(
        "| scale | residents | memberships | events | RSVPs | check-ins "
        "| survey answers | RSVPs of the timed event |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in cities:
        n = c.counts
        out.append(
            f"| {c.scale:g} | {n['resident']:,} | {n['membership']:,} | {n['event']:,} | "
            f"{n['rsvp']:,} | {n['check_in']:,} | {n['survey_answer']:,} | {c.event_rsvps:,} |"
        )
    out.append("")
    samples = len(next(iter(small.times.values())))
    out.append(
        f"Median ms ({rounds} alternating rounds × {per_round} calls = {samples} per cell; "
        "p90 in brackets):"
    )
    out.append("")
    header = (
        "| measure | "
        + " | ".join(f"scale {c.scale:g}" for c in cities)
        + f" | ratio {full.scale:g} / {small.scale:g} |"
    )
    out += [header, "|---|" + "---:|" * (len(cities) + 1)]
    for name in (m for m in MEASURES if m in small.times):
        cells = []
        for c in cities:
            xs = sorted(c.times[name])
            cells.append(f"{statistics.median(xs) * 1e3:.2f} ({xs[int(len(xs) * 0.9)] * 1e3:.2f})")
        ratio = statistics.median(full.times[name]) / statistics.median(small.times[name])
        mark = "" if name not in TARGETED else (" ✓" if ratio <= 3 else " ✗ (target ≤ 3×)")
        out.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f}×{mark} |")
    out.append("")
    for c in cities:
        took = ", ".join(f"{k} {v:.1f} s" for k, v in c.load_s.items())
        out.append(f"- load {c.name}: {took or 'reused (--keep)'}")
    return "\n".join(out)


def main() -> None:
    """Load (or reuse) each size, measure them side by side, print and save the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", type=float, nargs="+", default=[0.01, 1.0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=5)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the databases, and reuse them when their row counts match",
    )
    parser.add_argument("--explain", action="store_true", help="print the queries' plans")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="WORD",
        help="measure only the measures whose name contains one of these words",
    )
    parser.add_argument(
        "--db-prefix",
        default="tsunagari_bench",
        help="databases are PREFIX_small, PREFIX_full (default tsunagari_bench)",
    )
    args = parser.parse_args()
    if args.only:
        for name in list(MEASURES):
            if not any(word in name for word in args.only):
                del MEASURES[name]
    server = os.environ.get("TSUNAGARI_BENCH_POSTGRES_URL", DEFAULT_URL)
    content_dir = DEFAULT_CONTENT_DIR
    cities: list[City] = []
    try:
        for scale in sorted(args.scale):
            sizes, name = _sizes(scale), _name(scale, args.db_prefix)
            url, existed = create_database(server, name, reuse=args.keep)
            load_s: dict[str, float] = {}
            counts = row_counts(url) if existed else {}
            if not existed or (
                counts.get("resident"),
                counts.get("event"),
                counts.get("rsvp"),
                counts.get("survey_answer"),
            ) != (sizes["residents"], sizes["events"], sizes["rsvps"], sizes["answers"]):
                if existed:
                    url, _ = create_database(server, name, reuse=False)
                print(f"loading {name}: {sizes}", flush=True)
                load_s = load(url, sizes, content_dir)
                counts = row_counts(url)
            else:
                migrate.upgrade(url)  # a kept database from an older schema
            cities.append(City(scale, name, url, counts, load_s))
        for city in cities:
            city.open(content_dir)
        measure(cities, args.rounds, args.per_round)
        loads = round(os.getloadavg()[0], 1)
        text_out = report(cities, args.rounds, args.per_round, loads)
        if args.explain:
            text_out += (
                "\n\n```\n" + "\n".join(line for c in cities for line in explain(c)) + "\n```"
            )
        print(text_out)
        results = Path(__file__).parent / "results"
        results.mkdir(exist_ok=True)
        out = results / f"staff-{datetime.now(UTC):%Y%m%d-%H%M%S}.md"
        out.write_text(text_out + "\n", encoding="utf-8")
        print(f"\nwritten to {out}")
    finally:
        for city in cities:
            city.close()
        if not args.keep:
            for scale in args.scale:
                drop_database(server, _name(scale, args.db_prefix))


if __name__ == "__main__":
    main()
