"""Password hashing with argon2id (RFC 9106 low-memory profile by default), the comparison
that takes the same time whether the user exists, and the password rules."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from yibaodai.errors import FieldError

MIN_LENGTH = 10
#: A new password may not be any of the user's last this many passwords (the current included).
HISTORY = 5

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
_dummy_hash: str | None = None
#: OWASP's minimum argon2id configuration (19 MiB, 2 passes, 1 lane), for the demo's seeded
#: accounts only: their passwords are written beside the database (var/demo-accounts.json), so
#: a costly hash protects nothing, and at the full profile the 54 accounts cost the demo about
#: a tenth of its run (hash at seeding, verify at each log-in). A password the user changes is
#: hashed with ``_hasher`` again.
_demo_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def use_cheapest_parameters_for_tests() -> None:
    """Tests create dozens of users per case; argon2id stays, its cost drops. Never in
    production: stored hashes carry their own parameters, so verification is unaffected."""
    global _hasher, _demo_hasher, _dummy_hash
    _hasher = _demo_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_demo_password(password: str) -> str:
    """For accounts the demo seeds and prints (see ``_demo_hasher``); never for a password a
    person chose."""
    return _demo_hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """``stored_hash`` None (no such user) still costs one argon2 verification, against a
    dummy hash made with the current parameters, so an unknown username answers in the same
    time as a wrong password."""
    global _dummy_hash
    if stored_hash is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("yibaodai-no-such-user")
        stored_hash, password = _dummy_hash, password + "\x00never"
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(new_password: str, *, username: str,
                      recent_hashes: Iterable[str]) -> list[FieldError]:
    """Why ``new_password`` may not be used (empty when it may): at least ``MIN_LENGTH``
    characters, not the username (in any case, or reversed), not one of ``recent_hashes``."""
    field = "new_password"
    problems: list[FieldError] = []
    if len(new_password) < MIN_LENGTH:
        problems.append(FieldError(field, f"密码至少{MIN_LENGTH}个字符",
                                   f"at least {MIN_LENGTH} characters"))
    folded = new_password.casefold()
    if folded in (username.casefold(), username.casefold()[::-1]):
        problems.append(FieldError(field, "密码不能与用户名相同",
                                   "the password may not be the username"))
    if any(verify_password(h, new_password) for h in recent_hashes):
        problems.append(FieldError(field, f"不能使用最近{HISTORY}次用过的密码",
                                   f"may not be one of your last {HISTORY} passwords"))
    return problems
