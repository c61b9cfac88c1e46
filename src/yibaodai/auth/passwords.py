"""Password hashing with argon2id (RFC 9106 low-memory profile by default)."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def use_cheapest_parameters_for_tests() -> None:
    """Tests create dozens of users per case; argon2id stays, its cost drops. Never in
    production: stored hashes carry their own parameters, so verification is unaffected."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
