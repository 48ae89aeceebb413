"""Typed-town lookup against area tables of 500 and 50,000 町丁目, side by side.

The lookup must be indexed, not scanned: the median time at 50,000 rows should stay within
2x of the time at 500 rows. Each table is generated, written as the CSV a city would supply,
imported with `import_area_table`, then queried with inputs typed the ways residents type:

  exact    "<town>三丁目" with kanji numerals or full-width digits (one answer)
  kana     the first characters of the reading in half-width katakana (a prefix match)
  town     the town without 丁目 (several 丁目 -> candidates to offer)
  miss     a name not in the table
  romaji   the town in Hepburn romaji with its 丁目 ("Kamishimohigashi 3"): one range
           scan of the romaji key
  location the nearest associations to a point (bounding box, then distances); the
           town grid keeps a constant density, but the index narrows latitude only, so
           this one grows with the table's width (informational, not part of the target)

Run: python bench/bench_town_lookup.py [--rows 500 50000] [--lookups 2000]
PostgreSQL as well when TSUNAGARI_BENCH_POSTGRES_URL is set (in a private, temporary database).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.areas import find_towns, import_area_table, nearest_associations
from bot.core.models.areas import District, Ward
from bot.core.readings import display_romaji
from bot.db import make_engine, session_scope
from bot.platform import migrate

# Kanji with one reading each; three of them make a town name (64,000 possible names).
SYLLABLES = [
    ("上", "かみ"),
    ("下", "しも"),
    ("東", "ひがし"),
    ("西", "にし"),
    ("南", "みなみ"),
    ("北", "きた"),
    ("中", "なか"),
    ("新", "しん"),
    ("本", "もと"),
    ("大", "おお"),
    ("小", "こ"),
    ("田", "た"),
    ("山", "やま"),
    ("川", "かわ"),
    ("沢", "さわ"),
    ("野", "の"),
    ("原", "はら"),
    ("宮", "みや"),
    ("岡", "おか"),
    ("森", "もり"),
    ("木", "き"),
    ("橋", "はし"),
    ("井", "い"),
    ("島", "しま"),
    ("谷", "や"),
    ("松", "まつ"),
    ("杉", "すぎ"),
    ("桜", "さくら"),
    ("石", "いし"),
    ("高", "たか"),
    ("長", "なが"),
    ("白", "しろ"),
    ("青", "あお"),
    ("赤", "あか"),
    ("若", "わか"),
    ("向", "むかい"),
    ("仙", "せん"),
    ("緑", "みどり"),
    ("栄", "さかえ"),
    ("泉", "いずみ"),
]
CHOME_PER_TOWN = 5
ROWS_PER_ASSOCIATION = 20
SPACING_DEG = 0.0025  # about 250 m between neighbouring 町丁目, whatever the table's size
ORIGIN = (39.70, 141.15)
KANJI_NUMERALS = "〇一二三四五六七八九"
HEADER = ["地区コード", "町内会コード", "町内会名", "町名", "丁目", "よみ", "緯度", "経度"]


def town_names(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` distinct (name, reading) pairs."""
    n = len(SYLLABLES)
    picks = rng.sample(range(n**3), count)
    names = []
    for pick in picks:
        parts = [SYLLABLES[pick // n**2], SYLLABLES[(pick // n) % n], SYLLABLES[pick % n]]
        names.append(("".join(p[0] for p in parts), "".join(p[1] for p in parts)))
    return names


def write_table(path: Path, rows: int, rng: random.Random) -> list[tuple[str, str]]:
    """The area CSV with `rows` 町丁目 on a grid of constant density; returns the towns."""
    towns = town_names(rows // CHOME_PER_TOWN, rng)
    side = math.ceil(math.sqrt(rows))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            name, reading = towns[i // CHOME_PER_TOWN]
            lat = ORIGIN[0] + (i // side) * SPACING_DEG
            lon = ORIGIN[1] + (i % side) * SPACING_DEG
            association = i // ROWS_PER_ASSOCIATION
            writer.writerow(
                [
                    f"{association % 30 + 1:02d}",
                    f"B{association:05d}",
                    f"町内会{association}",
                    name,
                    i % CHOME_PER_TOWN + 1,
                    reading,
                    f"{lat:.5f}",
                    f"{lon:.5f}",
                ]
            )
    return towns


def add_districts(session: Session) -> None:
    """One ward and thirty districts for the generated associations."""
    ward = Ward(code="bench", name="ベンチ")
    session.add(ward)
    session.flush()
    assert ward.id is not None
    for n in range(1, 31):
        session.add(District(code=f"{n:02d}", ward_id=ward.id, name=f"地区{n}"))
    session.flush()


def typed_inputs(
    towns: list[tuple[str, str]], count: int, rng: random.Random
) -> dict[str, list[str]]:
    """Inputs of each kind, drawn from the table's own towns."""
    picks = [rng.choice(towns) for _ in range(count)]
    chome = [rng.randint(1, CHOME_PER_TOWN) for _ in range(count)]
    return {
        "exact": [
            f"{name}{KANJI_NUMERALS[c]}丁目" if i % 2 else f"盛岡市 {name}{chr(0xFF10 + c)}丁目"
            for i, ((name, _), c) in enumerate(zip(picks, chome, strict=True))
        ],
        "kana": [_half_width(reading[:4]) for _, reading in picks],
        "town": [name for name, _ in picks],
        "miss": [f"存在{name}" for name, _ in picks],
        "romaji": [
            f"{display_romaji(reading)} {c}" for (_, reading), c in zip(picks, chome, strict=True)
        ],
    }


def _half_width(hiragana: str) -> str:
    katakana = "".join(chr(ord(c) + 0x60) for c in hiragana)
    return "".join(_HALF.get(c, c) for c in katakana)


# Half-width katakana as some phones type it (NFKC turns it back; the bench checks that path).
_FULL = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
_HALF_CHARS = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"
_HALF = dict(zip(_FULL, _HALF_CHARS, strict=True))
_HALF.update({"ガ": "ｶﾞ", "ギ": "ｷﾞ", "グ": "ｸﾞ", "ゴ": "ｺﾞ", "ズ": "ｽﾞ", "ジ": "ｼﾞ"})
_HALF.update({"ド": "ﾄﾞ", "ョ": "ｮ"})


@dataclass
class Table:
    """One generated, imported table and the inputs typed against it."""

    rows: int
    engine: Engine
    import_s: float
    inputs: dict[str, list[str]]
    times: dict[str, list[float]] = field(default_factory=dict)


def build(url: str, rows: int, lookups: int, workdir: Path) -> Table:
    """Generate a table of `rows`, import it at `url` and draw the inputs to type."""
    rng = random.Random(rows)
    csv_path = workdir / f"towns_{rows}.csv"
    towns = write_table(csv_path, rows, rng)
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        add_districts(session)
    start = time.perf_counter()
    with session_scope(engine) as session:
        import_area_table(session, csv_path)
    import_s = time.perf_counter() - start
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    inputs = typed_inputs(towns, lookups, rng)
    side = math.ceil(math.sqrt(rows)) * SPACING_DEG
    inputs["location"] = [f"{rng.uniform(0, side)},{rng.uniform(0, side)}" for _ in range(lookups)]
    return Table(rows, engine, import_s, inputs)


def _nearest(session: Session, point: str) -> object:
    dlat, dlon = (float(x) for x in point.split(","))
    return nearest_associations(session, ORIGIN[0] + dlat, ORIGIN[1] + dlon)


LOOKUPS: dict[str, Callable[[Session, str], object]] = {
    "exact": find_towns,
    "kana": find_towns,
    "town": find_towns,
    "miss": find_towns,
    "romaji": find_towns,
    "location": _nearest,
}


def measure(tables: list[Table], rounds: int = 20) -> None:
    """Time every lookup, alternating tables in short rounds so machine load hits both alike."""
    for table in tables:
        with Session(table.engine) as session:
            for kind, call in LOOKUPS.items():
                for value in table.inputs[kind][:50]:  # warm caches and connections
                    call(session, value)
    for round_no in range(rounds):
        for table in tables:
            with Session(table.engine) as session:
                for kind, call in LOOKUPS.items():
                    values = table.inputs[kind]
                    chunk = values[round_no::rounds]
                    for value in chunk:
                        start = time.perf_counter()
                        call(session, value)
                        table.times.setdefault(kind, []).append(time.perf_counter() - start)


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A private database on the benchmark server, dropped afterwards.

    A database rather than a schema: nothing another run does to schemas can reach it.
    """
    base = make_url(base_url).set(drivername="postgresql")
    name = "townbench_" + uuid.uuid4().hex[:10]
    admin = base.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = base.set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


KINDS = tuple(LOOKUPS)


def print_table(backend: str, tables: list[Table]) -> None:
    """Median µs per kind of input, and the ratio of the largest table to the smallest."""
    medians = {t.rows: {k: statistics.median(t.times[k]) * 1e6 for k in KINDS} for t in tables}
    print(f"\n{backend}: median time per lookup (µs), {len(tables[0].times['exact'])} of each")
    print(f"{'rows':>8} {'import s':>9} " + " ".join(f"{k:>9}" for k in KINDS))
    for table in tables:
        cells = " ".join(f"{medians[table.rows][k]:>9.0f}" for k in KINDS)
        print(f"{table.rows:>8} {table.import_s:>9.2f} {cells}")
    small, large = medians[tables[0].rows], medians[tables[-1].rows]
    ratios = " ".join(f"{large[k] / small[k]:>8.2f}x" for k in KINDS)
    print(f"{'ratio':>8} {'':>9} {ratios}   (target: typed lookups <= 2x)")


def run(backend: str, urls: list[tuple[int, str]], lookups: int, workdir: Path) -> None:
    """Build every table for one backend, measure them side by side, print the results."""
    tables = [build(url, rows, lookups, workdir) for rows, url in urls]
    try:
        measure(tables)
        print_table(backend, tables)
    finally:
        for table in tables:
            table.engine.dispose()


def main() -> None:
    """Run the benchmark on SQLite, and PostgreSQL when configured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, nargs="+", default=[500, 50_000])
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    rows = sorted(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sqlite = [(n, f"sqlite:///{workdir}/bench_{n}.db") for n in rows]
        run("SQLite", sqlite, args.lookups, workdir)
        pg_url = os.environ.get("TSUNAGARI_BENCH_POSTGRES_URL")
        if pg_url:
            with ExitStack() as stack:
                databases = [(n, stack.enter_context(postgres_database(pg_url))) for n in rows]
                run("PostgreSQL", databases, args.lookups, workdir)


if __name__ == "__main__":
    main()
