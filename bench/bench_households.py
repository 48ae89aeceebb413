"""The household register at city scale: a notice's coverage page and the 班長's worklist at
1/100 and full size (issue 19).

Full size: an association of 10,000 households (400 班 of 25) in a city of 500,000
households, in PostgreSQL; 1/100: an association of 100 households (4 班) in a city of
5,000. In the timed association 60 % of households are on LINE (one member each, approved,
in the household), a notice that asks for 確認しました went to them, half acknowledged, and
班長 ticked 30 % of the paper households. The rest of the city's households are spread over
the demo city's other associations (they must cost nothing: every query is bounded by the
association, and the worklist by the 班).

Timed, alternating the sizes round by round:

  coverage page     GET /staff/notices/<id>/paper as the association's officer
  read_coverage()   the coverage rows per 班 for the association (the page's service call)
  worklist()        one 班's households the notice has not reached (the 班長's LINE list)
  progress()        households per 班: on LINE, paper only, not reached (informational)

Run:  python bench/bench_households.py [--scale 0.01 1] [--rounds 10] [--per-round 5] [--keep]
Needs PostgreSQL at TSUNAGARI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_staff import _pg, create_database, drop_database  # noqa: E402

from bot.app import Overrides, create_app  # noqa: E402
from bot.core.models.areas import Association  # noqa: E402
from bot.core.models.han import HanLeader  # noqa: E402
from bot.db import make_engine, session_scope  # noqa: E402
from bot.demo.seed import load_sample_city  # noqa: E402
from bot.features.households import progress  # noqa: E402
from bot.features.notices import coverage, paper_rounds  # noqa: E402
from bot.platform import migrate  # noqa: E402
from bot.settings import DEFAULT_CONTENT_DIR, Settings  # noqa: E402
from bot.staff import auth  # noqa: E402

FULL = {"association": 10_000, "city": 500_000}
HAN_SIZE = 25
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
LOGIN, PASSWORD = "bench-officer", "bench-officer-password-2026"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

LOAD_SQL = [
    # The timed association's households: 班 of 25; 60 % on LINE as well as paper.
    """INSERT INTO household (association_id, han, address, contact_name, people, reach,
         language, key, source, created_at, updated_at)
       SELECT {a}, ((i - 1) / {han} + 1) || '班', '本町' || i, '住民' || i, 1 + i % 4,
              CASE WHEN i % 10 < 6 THEN 'both' ELSE 'paper' END, 'ja', '本町' || i, 'roster',
              '{now}', '{now}'
       FROM generate_series(1, {n}) AS i""",
    # The rest of the city, over the other associations.
    """INSERT INTO household (association_id, han, address, contact_name, people, reach,
         language, key, source, created_at, updated_at)
       SELECT ({others})[1 + i % array_length({others}, 1)], ((i / 97) % 40 + 1) || '班',
              '町' || i, '住民' || i, 2, CASE WHEN i % 3 = 0 THEN 'both' ELSE 'paper' END,
              'ja', 'f' || i, 'roster', '{now}', '{now}'
       FROM generate_series(1, {rest}) AS i""",
    """INSERT INTO resident (line_user_id, locale, status, created_at)
       SELECT 'U' || md5(h.id::text), 'ja', 'active', '{now}'
       FROM household h WHERE h.association_id = {a} AND h.reach = 'both'""",
    """INSERT INTO membership (resident_id, association_id, status, household_size,
         household_id, applied_at, decided_at)
       SELECT r.id, {a}, 'approved', h.people, h.id, '{now}', '{now}'
       FROM household h JOIN resident r ON r.line_user_id = 'U' || md5(h.id::text)
       WHERE h.association_id = {a}""",
    """INSERT INTO han_assignment (association_id, resident_id, han)
       SELECT {a}, m.resident_id, h.han FROM membership m JOIN household h ON h.id = m.household_id
       WHERE m.association_id = {a}""",
    """INSERT INTO notice (association_id, kind, title, body, translations, audience,
         ack_requested, urgent, status, recipient_count, created_at, sent_at)
       VALUES ({a}, 'notice', 'ごみ集積所の清掃', '日曜9時', '{{}}',
               '{{"scope": "association", "ids": [{a}]}}', true, false, 'sent', 0,
               '{now}', '{now}')""",
    """INSERT INTO notice_recipient (notice_id, resident_id, association_id, han, household_key,
         household_id, locale)
       SELECT (SELECT max(id) FROM notice), m.resident_id, {a}, h.han, 'h' || h.id, h.id, 'ja'
       FROM membership m JOIN household h ON h.id = m.household_id WHERE m.association_id = {a}""",
    """INSERT INTO notice_ack (notice_id, resident_id, at)
       SELECT r.notice_id, r.resident_id, '{now}' FROM notice_recipient r
       WHERE r.household_id % 2 = 0""",
    """INSERT INTO paper_delivery (notice_id, association_id, han, household, household_id, at)
       SELECT (SELECT max(id) FROM notice), {a}, h.han, h.address, h.id, '{now}'
       FROM household h
       WHERE h.association_id = {a} AND h.reach = 'paper' AND (h.id / 10) % 10 < 3""",
]


def load(url: str, scale: float, content_dir: Path) -> dict[str, float]:
    """Schema, demo city, an officer of the timed association, then the bulk rows."""
    steps: dict[str, float] = {}
    start = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            load_sample_city(session, content_dir)
            ids = [
                int(i or 0) for i in session.exec(select(Association.id).order_by(Association.id))
            ]
            from bot.core.models.staff import StaffAccount, StaffScope

            account = StaffAccount(
                login=LOGIN,
                display_name="bench",
                role="association_officer",
                password_hash=auth.hash_password(PASSWORD),
            )
            session.add(account)
            session.flush()
            session.add(StaffScope(account_id=account.id, association_id=ids[0]))
    finally:
        engine.dispose()
    steps["schema + city"] = time.perf_counter() - start
    n = int(FULL["association"] * scale)
    params = {
        "a": ids[0],
        "n": n,
        "rest": int(FULL["city"] * scale) - n,
        "han": HAN_SIZE,
        "others": "ARRAY[" + ",".join(map(str, ids[1:])) + "]",
        "now": NOW.isoformat(),
    }
    with psycopg.connect(_pg(url), autocommit=True) as conn:
        for sql in LOAD_SQL:
            table = sql.split("INSERT INTO ")[1].split()[0]
            start = time.perf_counter()
            conn.execute(sql.format(**params))  # type: ignore[arg-type]
            steps[table] = steps.get(table, 0.0) + time.perf_counter() - start
        conn.execute("VACUUM ANALYZE")
    return steps


@dataclass
class City:
    """One loaded database, the app on it, and the times measured against it."""

    scale: float
    url: str
    load_s: dict[str, float]
    http: TestClient | None = None
    engine: object = None
    association_id: int = 0
    notice_id: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)

    def open(self, content_dir: Path) -> None:
        """The app in-process, logged in as the association's officer."""
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
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.http.get("/staff/login").text)
        assert token
        answer = self.http.post(
            "/staff/login",
            data={"login": LOGIN, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert answer.status_code == 303, answer.text[:300]
        self.engine = make_engine(self.url)
        with psycopg.connect(_pg(self.url)) as conn:
            self.notice_id = int(conn.execute("SELECT max(id) FROM notice").fetchone()[0])  # type: ignore[index]
            self.association_id = int(
                conn.execute("SELECT association_id FROM notice").fetchone()[0]
            )  # type: ignore[index]
            for table in ("household", "notice_recipient", "notice_ack", "paper_delivery"):
                self.counts[table] = int(
                    conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                )  # type: ignore[index]
            self.counts["association households"] = int(
                conn.execute(
                    "SELECT count(*) FROM household WHERE association_id = %s",
                    (self.association_id,),
                ).fetchone()[0]
            )  # type: ignore[index]

    def close(self) -> None:
        """Close the client and the engines."""
        if self.http is not None:
            self.http.app.state.engine.dispose()  # type: ignore[attr-defined]
            self.http.close()
        if self.engine is not None:
            self.engine.dispose()  # type: ignore[attr-defined]


def _page(city: City) -> Callable[[], None]:
    def call() -> None:
        assert city.http is not None
        response = city.http.get(f"/staff/notices/{city.notice_id}/paper")
        assert response.status_code == 200, response.status_code

    return call


def _coverage(city: City) -> Callable[[], None]:
    def call() -> None:
        with Session(city.engine) as session:  # type: ignore[arg-type]
            rows = coverage.read_coverage(
                session, notice_id=city.notice_id, association_ids=[city.association_id]
            )
            assert rows and rows[0].households == city.counts["association households"]

    return call


def _worklist(city: City) -> Callable[[], None]:
    leader = HanLeader(
        association_id=city.association_id, resident_id=0, han="1班", appointed_at=NOW
    )

    def call() -> None:
        with Session(city.engine) as session:  # type: ignore[arg-type]
            left = paper_rounds.worklist(session, leader=leader, notice_id=city.notice_id)
            assert 0 < len(left) < HAN_SIZE

    return call


def _progress(city: City) -> Callable[[], None]:
    def call() -> None:
        with Session(city.engine) as session:  # type: ignore[arg-type]
            progress.by_han(session, association_id=city.association_id)

    return call


MEASURES = {
    "coverage page": _page,
    "read_coverage()": _coverage,
    "worklist()": _worklist,
    "progress() (informational)": _progress,
}


def measure(cities: list[City], rounds: int, per_round: int) -> None:
    """Warm each, then alternate the sizes round by round."""
    for city in cities:
        for make in MEASURES.values():
            for _ in range(3):
                make(city)()
    for round_no in range(rounds):
        for city in cities if round_no % 2 == 0 else list(reversed(cities)):
            for name, make in MEASURES.items():
                call = make(city)
                for _ in range(per_round):
                    start = time.perf_counter()
                    call()
                    city.times.setdefault(name, []).append(time.perf_counter() - start)


def report(cities: list[City]) -> str:
    """A markdown table of medians (ms) and the full ÷ small ratio."""
    small, full = cities[0], cities[-1]
    lines = [
        "| measure | " + " | ".join(f"{c.scale:g}" for c in cities) + " | ratio |",
        "|---|" + "---:|" * (len(cities) + 1),
    ]
    for name in MEASURES:
        med = [statistics.median(c.times[name]) * 1000 for c in cities]
        ratio = med[-1] / med[0] if med[0] else 0
        lines.append(f"| {name} | " + " | ".join(f"{m:.1f}" for m in med) + f" | {ratio:.2f}× |")
    lines.append("")
    for c in (small, full):
        seconds = {k: round(v, 1) for k, v in c.load_s.items()}
        lines.append(f"scale {c.scale:g}: rows {c.counts}; load seconds {seconds}")
    return "\n".join(lines)


def main() -> None:
    """Load (or reuse) each size, measure alternately, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, nargs="+", default=[0.01, 1.0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    server = os.environ.get("TSUNAGARI_BENCH_POSTGRES_URL", DEFAULT_URL)
    cities = []
    for scale in args.scale:
        name = f"tsunagari_bench_households_{str(scale).replace('.', '_')}"
        url, reused = create_database(server, name, args.keep)
        steps = {} if reused else load(url, scale, DEFAULT_CONTENT_DIR)
        city = City(scale, url, steps)
        city.open(DEFAULT_CONTENT_DIR)
        cities.append(city)
    try:
        measure(cities, args.rounds, args.per_round)
        print(report(cities))  # noqa: T201
    finally:
        for city in cities:
            city.close()
        if not args.keep:
            for scale in args.scale:
                drop_database(server, f"tsunagari_bench_households_{str(scale).replace('.', '_')}")


if __name__ == "__main__":
    main()
