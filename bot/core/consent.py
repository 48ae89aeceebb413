"""Consent before anything personal: the versioned text per locale, and the residents' answers.

Agreeing records one row per scope (the association sees names and contact, the city sees
counts), so a later consent text can widen or narrow one audience without the other.
Declining records the refusal alone: the resident stays a subscriber and nothing personal
is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session, col, select

from bot.content import LOCALES, ContentError, read_yaml
from bot.core import residents
from bot.core.models.consent import ConsentDecision, ConsentRecord, ConsentScope

CONSENT_DIR = "consent"


@dataclass(frozen=True)
class ConsentText:
    """One version of the consent text in every locale."""

    version: str
    texts: Mapping[str, str]

    def text(self, locale: str) -> str:
        """The text in a locale (the default locale when the resident's is unknown)."""
        return self.texts.get(locale) or self.texts[LOCALES[0]]


@lru_cache(maxsize=4)
def load(content_root: Path) -> ConsentText:
    """Read content/consent/<locale>.yaml; every locale must exist with the same version.

    Checked at start-up (bot/wiring.py): a problem is a ContentError naming file and key.
    """
    versions: dict[str, str] = {}
    texts: dict[str, str] = {}
    for locale in LOCALES:
        path = content_root / CONSENT_DIR / f"{locale}.yaml"
        if not path.exists():
            raise ContentError(f"consent text missing: {path}")
        raw = read_yaml(path)
        for key in ("version", "text"):
            value = raw.get(key)
            if value is None or isinstance(value, dict | list) or not str(value).strip():
                raise ContentError(f"{path}: key {key!r} is missing or empty")
        versions[locale], texts[locale] = str(raw["version"]), str(raw["text"]).strip()
        if versions[locale] != versions[LOCALES[0]]:
            raise ContentError(
                f"{path}: key 'version': consent versions differ ({versions[locale]!r} here, "
                f"{versions[LOCALES[0]]!r} in {LOCALES[0]}.yaml)"
            )
    return ConsentText(version=versions[LOCALES[0]], texts=texts)


def record(
    session: Session,
    resident_id: int,
    *,
    agreed: bool,
    version: str,
    locale: str,
    now: datetime,
) -> list[ConsentRecord]:
    """Store the answer: a row per scope when agreed, a single refusal row when declined."""
    if agreed:
        scopes, decision = list(ConsentScope), ConsentDecision.AGREED
    else:
        scopes, decision = [ConsentScope.ASSOCIATION], ConsentDecision.DECLINED
    rows = [
        ConsentRecord(
            resident_id=resident_id,
            scope=scope,
            decision=decision,
            version=version,
            locale=locale,
            decided_at=now,
        )
        for scope in scopes
    ]
    session.add_all(rows)
    session.flush()
    if agreed:  # asking to join again: broadcasts reach a resident back after erasure again
        residents.end_quiet(session, resident_id)
    return rows


def has_agreed(session: Session, resident_id: int, version: str) -> bool:
    """True when the resident agreed to this version for the association and not withdrew."""
    query = select(ConsentRecord.id).where(
        ConsentRecord.resident_id == resident_id,
        ConsentRecord.scope == ConsentScope.ASSOCIATION,
        ConsentRecord.decision == ConsentDecision.AGREED,
        ConsentRecord.version == version,
        col(ConsentRecord.withdrawn_at).is_(None),
    )
    return session.exec(query).first() is not None


def withdraw_all(session: Session, resident_id: int, now: datetime) -> int:
    """Mark every live agreement withdrawn (the rows stay: they hold nothing personal)."""
    rows = session.exec(
        select(ConsentRecord).where(
            ConsentRecord.resident_id == resident_id, col(ConsentRecord.withdrawn_at).is_(None)
        )
    ).all()
    for row in rows:
        row.withdrawn_at = now
        session.add(row)
    return len(rows)


def latest_agreement(session: Session, resident_id: int) -> ConsentRecord | None:
    """The resident's newest agreement still standing (for 「わたしの町内会」), or None."""
    query = (
        select(ConsentRecord)
        .where(
            ConsentRecord.resident_id == resident_id,
            ConsentRecord.scope == ConsentScope.ASSOCIATION,
            ConsentRecord.decision == ConsentDecision.AGREED,
            col(ConsentRecord.withdrawn_at).is_(None),
        )
        .order_by(col(ConsentRecord.decided_at).desc())
    )
    return session.exec(query).first()
