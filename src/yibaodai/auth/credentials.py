"""Checking a user's name and password against the users table (argon2).

For callers outside the web session — the command line's model governance commands. The web
app signs users in through its own routes; both end in ``verify_password``.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.auth.passwords import hash_password, verify_password
from yibaodai.db.models import UserRow
from yibaodai.errors import PermissionDenied


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    """Verified against when the user does not exist, so an unknown name takes as long as a
    wrong password and the answer does not reveal which usernames exist."""
    return hash_password("no such user")


def authenticate(session: Session, *, username: str, password: str) -> UserRow:
    """The active user with this name and password; one refusal for every failure."""
    user = session.scalars(select(UserRow).where(UserRow.username == username)).first()
    stored = user.password_hash if user is not None else _stand_in_hash()
    if not verify_password(stored, password) or user is None or not user.active:
        raise PermissionDenied("用户名或密码错误，或用户已停用",
                               "wrong username or password, or the user is inactive",
                               code="bad_credentials")
    return user
