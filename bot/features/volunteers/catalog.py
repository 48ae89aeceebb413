"""The interests and skills residents choose from (content/volunteer/interests.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.content import Content, ContentError, read_yaml

CATALOG_FILE = Path("volunteer") / "interests.yaml"
CHIP_LIMIT = 12  # quick replies hold 13; one is the "done" chip
# Where each list's words live in content/messages/<locale>/volunteer.yaml.
LABEL_PREFIX = {"interests": "volunteer.tags", "skills": "volunteer.skills"}


@dataclass(frozen=True)
class Catalog:
    """Interest and skill codes, in the order residents see them."""

    interests: tuple[str, ...]
    skills: tuple[str, ...]


@lru_cache(maxsize=4)
def load_catalog(content_root: Path) -> Catalog:
    """Read and check the lists once per content folder."""
    path = content_root / CATALOG_FILE
    data = read_yaml(path)
    lists: dict[str, tuple[str, ...]] = {}
    for name in LABEL_PREFIX:
        raw = data.get(name)
        if not isinstance(raw, list) or not 1 <= len(raw) <= CHIP_LIMIT:
            raise ContentError(f"{path}: key {name!r} must list 1-{CHIP_LIMIT} codes")
        codes = tuple(str(c) for c in raw)
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ContentError(f"{path}: key {name!r} lists {repeated[0]!r} twice")
        lists[name] = codes
    return Catalog(lists["interests"], lists["skills"])


def check_labels(catalog: Catalog, content: Content) -> None:
    """Every code has its words in every locale (start-up check, bot/wiring.py)."""
    for name, codes in (("interests", catalog.interests), ("skills", catalog.skills)):
        for code in codes:
            key = f"{LABEL_PREFIX[name]}.{code}"
            if not content.has(key):
                raise ContentError(
                    f"{content.root / CATALOG_FILE}: {name} code {code!r} has no "
                    f"words: add {key!r} to content/messages/<locale>/"
                )
