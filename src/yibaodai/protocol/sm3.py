"""SM3, the national hash (GB/T 32905): ``hashlib.new("sm3")``, which OpenSSL 3 provides."""

from __future__ import annotations

import hashlib


def sm3_hex(data: bytes) -> str:
    """SM3 digest as 64 lower-case hex characters."""
    return hashlib.new("sm3", data).hexdigest()


def sm3_digest(data: bytes) -> bytes:
    """SM3 digest as 32 bytes."""
    return hashlib.new("sm3", data).digest()
