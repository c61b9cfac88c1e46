"""The protocol's own error: a malformed key. It is a ``ValueError`` (a programming or
key-file mistake), not a ``YibaodaiError``; where key files are read, ``keys`` turns it into a
``ConfigurationError`` naming the file."""

from __future__ import annotations


class CryptoError(ValueError):
    """A malformed key (hex of the wrong length, point not on the curve, SM4 key not 16
    bytes...)."""
