"""Volunteer matching: 1,000 open slots against 1,000 and against 100,000 profiles, side by side.

Candidates must be narrowed by indexed queries, never scored one by one: the time per slot at
100,000 profiles should stay within 20x of the time at 1,000 (target from issue 6).

Each size gets a fresh database (a temporary SQLite file; with TSUNAGARI_BENCH_POSTGRES_URL
set, also a private PostgreSQL database created and dropped by this script). A city of
10 wards x 5 districts x 10 associations is generated; profiles are spread evenly over the
associations with 1-3 interests, 1-3 free time buckets, a cap of 1-4 a month and a reach
(60% own association, 30% district, 10% ward). 1,000 opportunities each get one slot
(1-3 people, a random day and time in December) and are matched one at a time:

  offer   `volunteers.offer_slot` in its own transaction, as the scheduler runs it: candidate
          read, ranking, offer rows, fairness updates, outbox rows for the pushes, commit
  rank    `find_candidates` + `rank` alone (read-only, on the same slots, after `offer`)

Run: python bench/bench_matching.py [--profiles 1000 100000] [--slots 1000] [--seed 7]
     [--backends sqlite postgres]   (about 2.5 minutes per backend on a 2-CPU machine)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert, make_url, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.content import load_content  # noqa: E402
from bot.conversation.render import Renderer  # noqa: E402
from bot.core.models.areas import Association, District, Ward  # noqa: E402
from bot.core.models.residents import Resident  # noqa: E402
from bot.db import make_engine, session_scope  # noqa: E402
from bot.features.volunteers import matching as matching  # noqa: E402
from bot.features.volunteers import volunteers  # noqa: E402
from bot.features.volunteers.models import (
    NEVER,
    Bucket,
    Opportunity,
    Slot,
    VolunteerMatchKey,
    VolunteerProfile,
)
from bot.platform import migrate  # noqa: E402
from bot.settings import REPO_ROOT, Settings  # noqa: E402

TAGS = [
    "bousai",
    "kodomo",
    "mimamori",
    "seisou",
    "matsuri",
    "cafe",
    "it",
    "translation",
    "driving",
    "koureisha",
    "midori",
]
BUCKETS = [b.value for b in Bucket]
NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 1 December 00:00 in Tokyo
BATCH = 5000


@dataclass
class Run:
    """Timings of one size on one backend."""

    backend: str
    profiles: int
    setup_s: float = 0.0
    match_keys: int = 0
    offer_s: list[float] = field(default_factory=list)
    rank_s: list[float] = field(default_factory=list)
    offers: int = 0

    def median_ms(self, what: str) -> float:
        """Median milliseconds per slot for `offer` or `rank`."""
        return statistics.median(getattr(self, f"{what}_s")) * 1000

    def p95_ms(self, what: str) -> float:
        """95th percentile milliseconds per slot."""
        values = sorted(getattr(self, f"{what}_s"))
        return values[int(len(values) * 0.95) - 1] * 1000


def build_city(engine: Engine) -> list[tuple[int, int, int]]:
    """Wards, districts, associations; returns (association, district, ward) ids."""
    areas = []
    with session_scope(engine) as session:
        for w in range(10):
            ward = Ward(code=f"W{w}", name=f"区{w}")
            session.add(ward)
            session.flush()
            for d in range(5):
                district = District(code=f"D{w}-{d}", ward_id=int(ward.id or 0), name=f"地区{d}")
                session.add(district)
                session.flush()
                for a in range(10):
                    assoc = Association(
                        code=f"A{w}-{d}-{a}", district_id=int(district.id or 0), name=f"町内会{a}"
                    )
                    session.add(assoc)
                    session.flush()
                    areas.append((int(assoc.id or 0), int(district.id or 0), int(ward.id or 0)))
    return areas


def build_profiles(
    engine: Engine, count: int, areas: list[tuple[int, int, int]], rng: random.Random
) -> int:
    """Residents with profiles and their match-index rows, inserted in bulk; returns keys."""
    keys = 0
    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        with session_scope(engine) as session:
            session.execute(
                insert(Resident),
                [
                    {
                        "line_user_id": f"U{start + i:032x}",
                        "locale": "ja",
                        "status": "active",
                        "created_at": NOW,
                    }
                    for i in range(n)
                ],
            )
            ids = (
                session.execute(
                    select(Resident.id).where(
                        Resident.line_user_id.in_([f"U{start + i:032x}" for i in range(n)])  # type: ignore[union-attr]
                    )
                )
                .scalars()
                .all()
            )
            rows = [
                _profile_row(int(rid), areas[(start + i) % len(areas)], rng)
                for i, rid in enumerate(ids)
            ]
            session.execute(insert(VolunteerProfile), rows)
            profiles = session.execute(
                select(
                    VolunteerProfile.id,
                    VolunteerProfile.interests,
                    VolunteerProfile.availability,
                    VolunteerProfile.reach,
                    VolunteerProfile.association_id,
                    VolunteerProfile.district_id,
                    VolunteerProfile.ward_id,
                ).where(VolunteerProfile.resident_id.in_(ids))
            ).all()  # type: ignore[attr-defined]
            key_rows = [
                {
                    "profile_id": pid,
                    "tag": tag,
                    "bucket": bucket,
                    "area_kind": reach,
                    "area_id": {"association": a, "district": d, "ward": w}[reach],
                    "rest_since": NEVER,
                }
                for pid, tags, buckets, reach, a, d, w in profiles
                for tag in tags
                for bucket in buckets
            ]
            session.execute(insert(VolunteerMatchKey), key_rows)
            keys += len(key_rows)
    return keys


def _profile_row(
    resident_id: int, area: tuple[int, int, int], rng: random.Random
) -> dict[str, object]:
    reach = rng.choices(["association", "district", "ward"], weights=[6, 3, 1])[0]
    return {
        "resident_id": resident_id,
        "interests": rng.sample(TAGS, rng.randint(1, 3)),
        "skills": [],
        "availability": rng.sample(BUCKETS, rng.randint(1, 3)),
        "max_per_month": rng.randint(1, 4),
        "reach": reach,
        "paused": False,
        "association_id": area[0],
        "district_id": area[1],
        "ward_id": area[2],
        "rest_since": NEVER,
        "points": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }


def build_slots(
    engine: Engine,
    count: int,
    areas: list[tuple[int, int, int]],
    rng: random.Random,
    settings: Settings,
) -> list[int]:
    """One open slot per opportunity, spread over the city and over December."""
    ids = []
    with session_scope(engine) as session:
        for n in range(count):
            assoc, district, ward = rng.choice(areas)
            opportunity = Opportunity(
                role=f"お手伝い{n}",
                interests=rng.sample(TAGS, 2),
                association_id=assoc,
                district_id=district,
                ward_id=ward,
                created_at=NOW,
            )
            session.add(opportunity)
            session.flush()
            start = DECEMBER + timedelta(days=rng.randint(0, 30), hours=rng.choice([0, 5, 10]))
            slot = volunteers.add_slot(
                session,
                opportunity_id=int(opportunity.id or 0),
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                needed=rng.randint(1, 3),
                tz=settings.tz,
            )
            ids.append(int(slot.id or 0))
    return ids


def measure(url: str, backend: str, profiles: int, slots: int, seed: int) -> Run:
    """Build one database of `profiles` and time matching `slots` slots against it."""
    rng = random.Random(seed)
    run = Run(backend, profiles)
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    renderer = Renderer(load_content(REPO_ROOT / "content"))
    try:
        began = time.perf_counter()
        areas = build_city(engine)
        run.match_keys = build_profiles(engine, profiles, areas, rng)
        slot_ids = build_slots(engine, slots, areas, rng, settings)
        run.setup_s = time.perf_counter() - began
        for slot_id in slot_ids:
            t0 = time.perf_counter()
            with session_scope(engine) as session:
                run.offers += len(
                    volunteers.offer_slot(
                        session, slot_id, NOW, renderer=renderer, settings=settings
                    )
                )
            run.offer_s.append(time.perf_counter() - t0)
        weights = matching.Weights.from_settings(settings)
        for slot_id in slot_ids:
            t0 = time.perf_counter()
            with Session(engine) as session:
                slot = session.get(Slot, slot_id)
                assert slot is not None
                opportunity = session.get(Opportunity, slot.opportunity_id)
                assert opportunity is not None
                need = volunteers.need_of(slot, opportunity)
                found = matching.find_candidates(
                    session, need, pool=settings.volunteer_candidate_pool
                )
                matching.rank(need, found, weights, NOW)
            run.rank_s.append(time.perf_counter() - t0)
    finally:
        engine.dispose()
    return run


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A temporary SQLite file, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="matchbench_") as folder:
        yield f"sqlite:///{folder}/bench.db"


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A private PostgreSQL database, dropped afterwards (never the shared test schema)."""
    base = make_url(base_url).set(drivername="postgresql")
    name = "matchbench_" + uuid.uuid4().hex[:10]
    admin = base.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(runs: list[Run], slots: int) -> str:
    """A markdown table: ms per slot at each size, and the ratio largest/smallest."""
    lines = [
        f"Volunteer matching, {slots} open slots, median (p95) ms per slot",
        "",
        "| backend | profiles | match-index rows | setup s | offers made | "
        "offer_slot ms | rank only ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.backend} | {r.profiles:,} | {r.match_keys:,} | {r.setup_s:.1f} | {r.offers:,} "
            f"| {r.median_ms('offer'):.2f} ({r.p95_ms('offer'):.2f}) "
            f"| {r.median_ms('rank'):.2f} ({r.p95_ms('rank'):.2f}) |"
        )
    lines.append("")
    for backend in dict.fromkeys(r.backend for r in runs):
        mine = sorted((r for r in runs if r.backend == backend), key=lambda r: r.profiles)
        small, large = mine[0], mine[-1]
        for what in ("offer", "rank"):
            ratio = large.median_ms(what) / small.median_ms(what)
            verdict = "within" if ratio <= 20 else "OVER"
            lines.append(
                f"- {backend} {what}: {large.profiles:,} vs {small.profiles:,} "
                f"profiles = {ratio:.2f}x ({verdict} the 20x target)"
            )
    return "\n".join(lines)


def main() -> None:
    """Run every size on SQLite (and PostgreSQL when configured) and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--slots", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["sqlite", "postgres"],
        help="postgres runs only when TSUNAGARI_BENCH_POSTGRES_URL is set",
    )
    args = parser.parse_args()
    runs = []
    backends = [("sqlite", sqlite_database, ())] if "sqlite" in args.backends else []
    pg = os.environ.get("TSUNAGARI_BENCH_POSTGRES_URL")
    if pg and "postgres" in args.backends:
        backends.append(("postgres", postgres_database, (pg,)))  # type: ignore[arg-type]
    for backend, database, extra in backends:
        for profiles in args.profiles:
            with database(*extra) as url:
                run = measure(url, backend, profiles, args.slots, args.seed)
            runs.append(run)
            print(
                f"{backend} {profiles:,} profiles: setup {run.setup_s:.1f}s, "
                f"offer {run.median_ms('offer'):.2f} ms/slot",
                flush=True,
            )
    text = report(runs, args.slots)
    print("\n" + text)
    out = Path(__file__).parent / "results" / f"matching-{time.strftime('%Y-%m-%d-%H%M')}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
