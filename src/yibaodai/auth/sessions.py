"""Server-side browser sessions and bearer tokens.

A browser session is a random secret in a signed, HttpOnly cookie; the server keeps only its
SHA-256 with the user, the CSRF token, the last request and the absolute end. A session ends
when idle too long, at its absolute end, at log-out, or when the user's password changes or
the user is deactivated (``revoke_all``). Bearer tokens (machine clients) work the same way
without the cookie or CSRF. Every time comes from the caller (the injected clock)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from yibaodai.db.models import ApiTokenRow, UserRow, WebSessionRow
from yibaodai.errors import NotAuthenticated
from yibaodai.settings import Settings

#: ``last_seen_at`` is written at most this often (a read should not always be a write).
TOUCH_EVERY = timedelta(seconds=60)
TOKEN_PREFIX = "yb_"


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta
    token_lifetime: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(idle=timedelta(minutes=settings.session_idle_minutes),
                   absolute=timedelta(hours=settings.session_max_hours),
                   token_lifetime=timedelta(days=settings.api_token_days))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _signed_out(code: str = "not_authenticated") -> NotAuthenticated:
    if code == "session_expired":
        return NotAuthenticated("会话已过期，请重新登录",
                                "your session has expired; please sign in", code=code)
    return NotAuthenticated("请先登录", "please sign in", code=code)


# --- browser sessions ---------------------------------------------------------------------


def open_session(session: Session, *, user: UserRow, now: datetime, policy: SessionPolicy,
                 address: str) -> tuple[str, WebSessionRow]:
    """A new session for ``user``; returns the secret for the cookie (never stored)."""
    secret = secrets.token_urlsafe(32)
    row = WebSessionRow(token_hash=digest(secret), user_id=user.id,
                        csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                        expires_at=now + policy.absolute, revoked_at=None,
                        address=address[:64])
    session.add(row)
    session.flush()
    return secret, row


#: Every signed-in request asks one of these two first: built once, bound per request (building
#: and keying a statement costs about as much Python as PostgreSQL takes to answer it).
_SESSION_BY_HASH = (select(WebSessionRow, UserRow)
                    .outerjoin(UserRow, UserRow.id == WebSessionRow.user_id)
                    .where(WebSessionRow.token_hash == bindparam("token_hash")))
_TOKEN_BY_HASH = (select(ApiTokenRow, UserRow)
                  .outerjoin(UserRow, UserRow.id == ApiTokenRow.user_id)
                  .where(ApiTokenRow.token_hash == bindparam("token_hash")))


def live_session(session: Session, *, secret: str, now: datetime,
                 policy: SessionPolicy) -> tuple[WebSessionRow, UserRow | None]:
    """The session of this cookie secret, if still live, with its user (None if the user
    row is gone); else NotAuthenticated (``session_expired`` for a known session that ended
    by time). One round trip for both: every signed-in request asks this first."""
    found = session.execute(_SESSION_BY_HASH, {"token_hash": digest(secret)}).first()
    if found is None or found[0].revoked_at is not None:
        raise _signed_out()
    row: WebSessionRow = found[0]
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        raise _signed_out("session_expired")
    return row, found[1]


def needs_touch(row: WebSessionRow, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_EVERY


def touch_session(session: Session, *, session_id: int, now: datetime) -> None:
    session.execute(update(WebSessionRow).where(WebSessionRow.id == session_id)
                    .values(last_seen_at=now))


def revoke_session(session: Session, *, session_id: int, now: datetime) -> None:
    session.execute(update(WebSessionRow).where(WebSessionRow.id == session_id,
                                                WebSessionRow.revoked_at.is_(None))
                    .values(revoked_at=now))


def revoke_all(session: Session, *, user_id: int, now: datetime) -> None:
    """End every session and token of the user (password change, reset, deactivation)."""
    for table in (WebSessionRow, ApiTokenRow):
        session.execute(update(table).where(table.user_id == user_id,
                                            table.revoked_at.is_(None)).values(revoked_at=now))


# --- bearer tokens ------------------------------------------------------------------------


def issue_token(session: Session, *, user: UserRow, now: datetime,
                policy: SessionPolicy) -> tuple[str, ApiTokenRow]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(token_hash=digest(secret), user_id=user.id, created_at=now,
                      expires_at=now + policy.token_lifetime, last_used_at=None,
                      revoked_at=None)
    session.add(row)
    session.flush()
    return secret, row


def live_token(session: Session, *, secret: str,
               now: datetime) -> tuple[ApiTokenRow, UserRow | None]:
    """The bearer token of this secret, if live, with its user, as ``live_session``."""
    found = session.execute(_TOKEN_BY_HASH, {"token_hash": digest(secret)}).first()
    if found is None or found[0].revoked_at is not None:
        raise _signed_out()
    row: ApiTokenRow = found[0]
    if now >= row.expires_at:
        raise _signed_out("session_expired")
    return row, found[1]


def revoke_token(session: Session, *, token_id: int, now: datetime) -> None:
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id,
                                              ApiTokenRow.revoked_at.is_(None))
                    .values(revoked_at=now))


def touch_token(session: Session, *, token_id: int, now: datetime) -> None:
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id)
                    .values(last_used_at=now))


def token_needs_touch(row: ApiTokenRow, now: datetime) -> bool:
    return row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY
