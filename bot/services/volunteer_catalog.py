"""The interests and skills residents choose from (content/volunteer/interests.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.content import ContentError

CATALOG_FILE = Path("volunteer") / "interests.yaml"
CHIP_LIMIT = 12  # quick replies hold 13; one is the "done" chip


@dataclass(frozen=True)
class Catalog:
    """Interest and skill codes, in the order residents see them."""

    interests: tuple[str, ...]
    skills: tuple[str, ...]


@lru_cache(maxsize=4)
def load_catalog(content_root: Path) -> Catalog:
    """Read and check the lists once per content folder."""
    path = content_root / CATALOG_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    catalog = Catalog(tuple(str(c) for c in data.get("interests", [])),
                      tuple(str(c) for c in data.get("skills", [])))
    for name, codes in (("interests", catalog.interests), ("skills", catalog.skills)):
        if not codes or len(codes) > CHIP_LIMIT or len(set(codes)) != len(codes):
            raise ContentError(f"{path}: {name} must be 1-{CHIP_LIMIT} distinct codes")
    return catalog
