"""Staff accounts: argon2 passwords, throttled log-ins, signed session cookies, CSRF, API tokens.

Nothing here knows FastAPI; bot/staff/deps.py turns these into request dependencies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session, col, delete, func, select

from bot.core.models.areas import Association, Ward
from bot.core.models.staff import ApiToken, LoginFailure, StaffAccount, StaffRole, StaffScope

SESSION_COOKIE = "tsunagari_staff"
SESSION_MAX_AGE_S = 12 * 3600  # one working day; staff log in again the next morning
SESSION_IDLE_S = 2 * 3600  # a phone left on a desk is logged out by the afternoon
FAILURE_WINDOW = timedelta(minutes=15)
ACCOUNT_FREE_FAILURES = 5
ACCOUNT_MAX_DELAY = timedelta(seconds=60)
ADDRESS_MAX_FAILURES = 20
TOKEN_PREFIX = "tsg_"
TOKEN_LIFETIMES_DAYS = (30, 90, 365)
DEFAULT_TOKEN_DAYS = 90
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the login is unknown, so a wrong login costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """An account cannot be created as asked (the message says why)."""


class TooManyAttempts(Exception):
    """Log-ins for this account or from this address are paused for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


# --- passwords and accounts ------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash with the library's current recommended parameters."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_account(
    session: Session,
    *,
    login: str,
    display_name: str,
    role: StaffRole,
    password: str,
    ward_codes: Iterable[str] = (),
    association_codes: Iterable[str] = (),
    locale: str = "ja",
) -> StaffAccount:
    """Create an account with its scope, given by ward and association codes."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.exec(select(StaffAccount).where(StaffAccount.login == login)).first():
        raise AccountError(f"login {login!r} exists already")
    ward_ids = _ids_for_codes(session, Ward, ward_codes)
    association_ids = _ids_for_codes(session, Association, association_codes)
    _check_scope_fits_role(role, ward_ids, association_ids)
    account = StaffAccount(
        login=login,
        display_name=display_name,
        role=role.value,
        password_hash=hash_password(password),
        locale=locale,
    )
    session.add(account)
    session.flush()
    for ward_id in ward_ids:
        session.add(StaffScope(account_id=account.id, ward_id=ward_id))  # type: ignore[arg-type]  # flushed: id is set
    for association_id in association_ids:
        session.add(StaffScope(account_id=account.id, association_id=association_id))  # type: ignore[arg-type]  # flushed: id is set
    session.flush()
    return account


_Coded = TypeVar("_Coded", Ward, Association)


def _ids_for_codes(session: Session, model: type[_Coded], codes: Iterable[str]) -> list[int]:
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    rows = session.exec(select(model).where(col(model.code).in_(wanted))).all()
    found = {row.code: row.id for row in rows if row.id is not None}
    missing = [code for code in wanted if code not in found]
    if missing:
        raise AccountError(f"unknown {model.__tablename__} code(s): {', '.join(missing)}")
    return [found[code] for code in wanted]


def _check_scope_fits_role(
    role: StaffRole, ward_ids: list[int], association_ids: list[int]
) -> None:
    if role is StaffRole.CITY_ADMIN and (ward_ids or association_ids):
        raise AccountError("a city admin covers the whole city: give no wards or associations")
    if role is StaffRole.WARD_STAFF and (not ward_ids or association_ids):
        raise AccountError("ward staff need one or more wards (and no associations)")
    if role in (StaffRole.ASSOCIATION_OFFICER, StaffRole.ORGANISER) and (
        not association_ids or ward_ids
    ):
        raise AccountError(f"{role.value} needs one or more associations (and no wards)")


# --- log-in with throttling ------------------------------------------------------------
#
# Two limits, neither of which lets a stranger lock the real owner out for long:
# - per account (whatever the address): after ACCOUNT_FREE_FAILURES wrong passwords in the
#   window, each try waits 1, 2, 4 … seconds after the last failure, never more than
#   ACCOUNT_MAX_DELAY; a guesser gets about one try a minute, the owner waits a minute at most.
# - per address (the real client behind the proxy, see TSUNAGARI_FORWARDED_ALLOW_IPS): at
#   most ADDRESS_MAX_FAILURES wrong passwords in the window over all logins, which stops
#   spraying one password across every account.


def _account_key(login: str) -> str:
    return hashlib.sha256(f"account|{login.strip().lower()}".encode()).hexdigest()


def _address_key(client_ip: str) -> str:
    return hashlib.sha256(f"address|{client_ip}".encode()).hexdigest()


def _failures(session: Session, key: str, now: datetime) -> tuple[int, datetime, datetime]:
    """How many failures `key` has in the window, the oldest and the latest."""
    count, oldest, latest = session.exec(
        select(func.count(), func.min(LoginFailure.at), func.max(LoginFailure.at)).where(
            LoginFailure.key == key
        )
    ).one()
    return int(count), _aware(oldest, now), _aware(latest, now)


def _aware(at: datetime | None, now: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are UTC like `now`.
    if at is None:
        return now
    return at if at.tzinfo else at.replace(tzinfo=now.tzinfo)


def _check_throttles(session: Session, login: str, client_ip: str, now: datetime) -> None:
    count, oldest, _ = _failures(session, _address_key(client_ip), now)
    if count >= ADDRESS_MAX_FAILURES:
        raise TooManyAttempts(max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1))
    count, _, latest = _failures(session, _account_key(login), now)
    if count >= ACCOUNT_FREE_FAILURES:
        delay = min(ACCOUNT_MAX_DELAY, timedelta(seconds=2 ** (count - ACCOUNT_FREE_FAILURES)))
        wait = (latest + delay - now).total_seconds()
        if wait > 0:
            raise TooManyAttempts(max(1, int(wait) + 1))


def authenticate(
    session: Session, *, login: str, password: str, client_ip: str, now: datetime
) -> StaffAccount | None:
    """The active account for login+password, or None; raises TooManyAttempts when throttled.

    A throttled try is not checked at all (it cannot succeed, so it tells a guesser
    nothing); a failure counts against both the account and the address, a success clears
    the account's count.
    """
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) < now - FAILURE_WINDOW))
    _check_throttles(session, login, client_ip, now)
    account = session.exec(select(StaffAccount).where(StaffAccount.login == login.strip())).first()
    ok = verify_password(account.password_hash if account else _DUMMY_HASH, password)
    if not (ok and account and account.active):
        session.add(LoginFailure(key=_account_key(login), at=now))
        session.add(LoginFailure(key=_address_key(client_ip), at=now))
        return None
    session.exec(delete(LoginFailure).where(col(LoginFailure.key) == _account_key(login)))
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = now
    session.add(account)
    return account


# --- signed session cookies and CSRF ----------------------------------------------------


@dataclass
class WebSession:
    """What the signed cookie carries: who is logged in (since when, under which epoch of
    their account), the CSRF token, the chosen language."""

    csrf: str
    account_id: int | None = None
    epoch: int = 0
    locale: str | None = None
    issued: int = 0  # when the log-in happened (Unix seconds); never refreshed

    def log_in(self, account: StaffAccount, at: float) -> None:
        """Make this session `account`'s, from `at` on."""
        self.account_id, self.epoch, self.issued = account.id, account.session_epoch, int(at)

    @classmethod
    def fresh(cls, locale: str | None = None) -> WebSession:
        """A session for a visitor who has not logged in yet (it still needs a CSRF token)."""
        return cls(csrf=secrets.token_urlsafe(32), locale=locale)

    def to_dict(self) -> dict[str, Any]:
        """The cookie payload."""
        return {
            "c": self.csrf,
            "a": self.account_id,
            "e": self.epoch,
            "l": self.locale,
            "i": self.issued,
        }

    def csrf_ok(self, submitted: str | None) -> bool:
        """True when a form carried this session's CSRF token (constant-time comparison;
        as bytes, since `compare_digest` raises on non-ASCII text)."""
        if not submitted:
            return False
        sent = str(submitted).encode("utf-8", "surrogateescape")
        return hmac.compare_digest(self.csrf.encode(), sent)


class SessionCodec:
    """Signs and reads the session cookie with TSUNAGARI_SESSION_SECRET (itsdangerous).

    Two lifetimes: `idle_s` since the cookie was last signed (each page signs it again) and
    `max_s` since the log-in, however busy the session. The server side (the account's
    epoch, bumped on log-out and password change) is checked by `account_for_session`.
    """

    def __init__(
        self,
        secret: str,
        idle_s: int = SESSION_IDLE_S,
        max_s: int = SESSION_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="tsunagari-staff-session")
        self.idle_s, self.max_s, self.clock = idle_s, max_s, clock

    def dumps(self, web_session: WebSession) -> str:
        """The cookie value."""
        return self._serializer.dumps(web_session.to_dict())

    def loads(self, value: str | None) -> WebSession | None:
        """The session in a cookie, or None when absent, forged or expired."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.idle_s)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        web_session = WebSession(
            csrf=data["c"],
            account_id=data.get("a"),
            epoch=data.get("e") or 0,
            locale=data.get("l"),
            issued=int(data.get("i") or 0),
        )
        if web_session.account_id is not None and self.clock() - web_session.issued > self.max_s:
            return None  # logged in too long ago: log in again, however busy the day was
        return web_session


def end_sessions(session: Session, account: StaffAccount) -> None:
    """End every open session of `account` on the server: their cookies stop working."""
    account.session_epoch += 1
    session.add(account)


def change_password(session: Session, account: StaffAccount, new_password: str) -> None:
    """Set a new password; every session opened with the old one ends."""
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    account.password_hash = hash_password(new_password)
    end_sessions(session, account)


def account_for_session(session: Session, web_session: WebSession | None) -> StaffAccount | None:
    """The logged-in, still active account; None once deactivated or its sessions were revoked."""
    if web_session is None or web_session.account_id is None:
        return None
    account = session.get(StaffAccount, web_session.account_id)
    if account is None or not account.active or account.session_epoch != web_session.epoch:
        return None
    return account


# --- API tokens ------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nobody can guess the preimage.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(
    session: Session,
    account: StaffAccount,
    name: str,
    now: datetime,
    days: int = DEFAULT_TOKEN_DAYS,
) -> str:
    """Create a token for `account`, valid `days` days, and return it; it is shown once and
    only its hash is kept."""
    if days not in TOKEN_LIFETIMES_DAYS:
        raise AccountError(f"a token lasts one of {TOKEN_LIFETIMES_DAYS} days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            account_id=account.id,  # type: ignore[arg-type]  # a stored account: id is set
            name=name[:80],
            token_hash=_token_hash(token),
            prefix=token[:10],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


def account_for_token(session: Session, token: str, now: datetime) -> StaffAccount | None:
    """The active account owning a live (unrevoked, unexpired) token, or None; notes when
    the token was last used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None or token_expired(row, now):
        return None
    account = session.get(StaffAccount, row.account_id)
    if account is None or not account.active:
        return None
    row.last_used_at = now
    session.add(row)
    return account


def token_expired(row: ApiToken, now: datetime) -> bool:
    """True once the token's lifetime is over."""
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now.tzinfo)
    return expires <= now


def revoke_api_token(session: Session, account: StaffAccount, token_id: int, now: datetime) -> bool:
    """Revoke one of the account's own tokens; False when it is not theirs or already revoked."""
    row = session.get(ApiToken, token_id)
    if row is None or row.account_id != account.id or row.revoked_at is not None:
        return False
    row.revoked_at = now
    session.add(row)
    return True
