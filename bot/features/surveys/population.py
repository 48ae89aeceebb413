"""Population figures the city loads (by district and age band), to weigh survey answers.

A city puts its own table at content/areas/population.csv; without it the sample table of
content/demo/population.csv is read and marked as sample. Columns (Japanese or English
names): 地区コード/district_code, 年齢区分/age_band, 人口/population; lines starting with `#`
are comments. A district code must be one in content/areas/city.yaml.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.content import ContentError

_HEADERS = {
    "地区コード": "district_code",
    "district_code": "district_code",
    "年齢区分": "age_band",
    "age_band": "age_band",
    "人口": "population",
    "population": "population",
}


@dataclass(frozen=True)
class Population:
    """Residents per district code and age band; `sample` when the demo table was read."""

    by_district: dict[str, dict[str, int]] = field(default_factory=dict)
    sample: bool = False

    def of_district(self, code: str) -> int | None:
        """All age bands of one district, or None when the table does not list it."""
        bands = self.by_district.get(code)
        return sum(bands.values()) if bands is not None else None

    def age_bands(self) -> list[str]:
        """The age bands the table uses, in the order first seen."""
        seen: dict[str, None] = {}
        for bands in self.by_district.values():
            seen.update(dict.fromkeys(bands))
        return list(seen)


def load_population(content_dir: Path) -> Population | None:
    """The city's population table, the sample one, or None when neither exists."""
    own = content_dir / "areas" / "population.csv"
    if own.exists():
        return _read(own.resolve(), sample=False)
    demo = content_dir / "demo" / "population.csv"
    return _read(demo.resolve(), sample=True) if demo.exists() else None


@lru_cache(maxsize=4)
def _read(path: Path, *, sample: bool) -> Population:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp932")  # Excel's Shift_JIS
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    by_district: dict[str, dict[str, int]] = {}
    for number, row in enumerate(reader, start=2):
        values = {_HEADERS.get(k.strip(), k): (v or "").strip() for k, v in row.items() if k}
        try:
            code, band = values["district_code"], values["age_band"]
            people = int(values["population"].replace(",", ""))
        except (KeyError, ValueError):
            raise ContentError(
                f"{path}: row {number} needs 地区コード, 年齢区分 and a whole number 人口"
            ) from None
        bands = by_district.setdefault(code, {})
        bands[band] = bands.get(band, 0) + people
    return Population(by_district, sample)
