"""SM2 signatures with SM3 (SM3withSM2, GB/T 32918 / GM/T 0009) on two back-ends.

The digest ``e = SM3(Z_A || M)`` with ``Z_A = SM3(ENTL || ID || a || b || xG || yG || xA ||
yA)``; the default user ID is ``b"1234567812345678"``. Checked against the OpenSSL 3 command
line in both directions. Signature encodings: ``"rs_base64"`` = base64 of the 64-byte ``r || s``
(32 bytes each, big endian); ``"der_base64"`` = base64 of the DER ``SEQUENCE { INTEGER r,
INTEGER s }`` (what OpenSSL and Java produce). Verification is strict: canonical base64 only,
strict DER only, ``1 <= r, s <= n-1``, the public key must be a point on the curve; these checks
are made in this module before any backend sees the input, and anything else returns ``False``
(never raises).

Public keys are kept as 128 hex characters ``x || y`` (lower case) **without** the ``04``
uncompressed-point prefix; functions accept both forms. (gmssl's own constructor strips the
prefix with ``lstrip("04")``, which corrupts keys whose ``x`` begins with ``0`` or ``4``; this
module never relies on it.)

SM2 backends
============

* **Tongsuo** (``tongsuopy``: the Python SDK of Tongsuo, the OpenAtom Foundation's OpenSSL fork
  with national cryptography; C, ~0.4 ms per sign or verify) — used whenever the user ID is the
  default one and ``tongsuopy`` loads. Its API computes ``Z_A`` itself and only with the default
  user ID (and with the private key's own public key), so it cannot serve other IDs.
* **gmssl** (pure Python, ~6 ms sign / ~11 ms verify) — the fallback: a non-default user ID, a
  machine with no ``tongsuopy`` wheel (it ships x86_64 manylinux only, e.g. not aarch64) or a
  library that fails to load, and ``sm2_sign`` called with a public key that is not the private
  key's (kept for identical behaviour: Tongsuo would hash the key's own public key into
  ``Z_A``). Here ``e`` is computed with ``hashlib`` (same value as gmssl's ``sign_with_sm3``).

Both compute the same standard SM3withSM2 (tests sign with one and verify with the other, and
against the OpenSSL CLI). At import, Tongsuo must pass a self-test (derive a known public key,
accept a known-answer signature made by the gmssl code, refuse it for another message) or it is
not used; ``SM2_BACKEND`` names the backend for the default user ID ("tongsuo" or "gmssl"),
``TONGSUO_UNAVAILABLE_REASON`` says why Tongsuo is not used, and ``sm2_backend_for(user_id)``
which backend a call uses. Tongsuo key objects are cached (``functools.lru_cache`` keyed by the
hex: 64 private, 1,024 public keys), so verifying many messages of one peer builds its key once.
The key pair check (``SM2KeyPair``, ``sm2_public_key_from_private``) uses the same backend.
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from dataclasses import dataclass
from typing import Any, Literal, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from gmssl import sm2 as _gmssl_sm2

from yibaodai.protocol.errors import CryptoError
from yibaodai.protocol.sm3 import sm3_digest

SignatureEncoding = Literal["rs_base64", "der_base64"]
SIGNATURE_ENCODINGS: tuple[str, ...] = get_args(SignatureEncoding)
DEFAULT_USER_ID = b"1234567812345678"

# SM2 recommended curve (GB/T 32918.5), as in gmssl.
_CURVE = _gmssl_sm2.default_ecc_table
_P = int(_CURVE["p"], 16)
_A = int(_CURVE["a"], 16)
_B = int(_CURVE["b"], 16)
_N = int(_CURVE["n"], 16)
_G_HEX = _CURVE["g"].lower()


# ------------------------------------------------------------------------------------- keys


def normalize_public_key_hex(public_key_hex: str) -> str:
    """Return the 128-hex ``x || y`` form (lower case, no ``04``); accepts 128 hex or ``04`` + 128.
    Raises :class:`CryptoError` if it is not a point on the SM2 curve."""
    h = public_key_hex.strip().lower()
    if len(h) == 130 and h.startswith("04"):
        h = h[2:]
    if len(h) != 128:
        raise CryptoError("SM2 public key must be 128 hex characters (or 130 with the 04 prefix)")
    try:
        x, y = int(h[:64], 16), int(h[64:], 16)
    except ValueError:
        raise CryptoError("SM2 public key is not hexadecimal") from None
    if not (0 <= x < _P and 0 <= y < _P) or (y * y - (x * x * x + _A * x + _B)) % _P != 0:
        raise CryptoError("SM2 public key is not a point on the curve")
    return h


def _parse_private_key(private_key_hex: str) -> int:
    h = private_key_hex.strip()
    if len(h) != 64:
        raise CryptoError("SM2 private key must be 64 hex characters")
    try:
        d = int(h, 16)
    except ValueError:
        raise CryptoError("SM2 private key is not hexadecimal") from None
    if not 1 <= d <= _N - 2:
        raise CryptoError("SM2 private key is out of range [1, n-2]")
    return d


# ------------------------------------------------------------------------------ SM2 backends

SM2Backend = Literal["tongsuo", "gmssl"]

# Known answer for the Tongsuo self-test at import: a signature made by the gmssl code below with
# the default user ID, key d = SM3("yibaodai sm2 known-answer key") mod (n-2) + 1, k = 0x1234567.
_KAT_SEED = b"yibaodai sm2 known-answer key"
_KAT_PUBLIC = (
    "d2cd83239598d7bd7dde8b540d9233299df99028277a1da931a486455ebac0e6"
    "395bc6e9e4125e8f0086a1313f30c5daed27885be6054448cddc0891c332cd45"
)
_KAT_MESSAGE = b"yibaodai SM3withSM2 known answer"
_KAT_R = 0xDD4A436D0F6728B075C62A0CE80F7B8217902AF21F7C390B36EA3B2F1DBC9C33
_KAT_S = 0xD4E07D60E383DDB136B44A0E3C00E8F08CF822CD0C07D5C9D3D7A2692FFB28B1


@dataclass(frozen=True)
class _Tongsuo:
    """The loaded ``tongsuopy`` pieces (typed ``Any``: the package ships no type information)."""

    ec: Any
    curve: Any
    algorithm: Any  # ec.ECDSA(hashes.SM3()): SM3withSM2 with the default user ID
    invalid_signature: type[Exception]


def _tongsuo_self_test(ts: _Tongsuo) -> None:
    """Raise unless Tongsuo derives the known public key and computes the standard SM3withSM2
    (default user ID) that the gmssl code computes: accepts the known signature, refuses it for
    another message, and verifies a signature of its own."""
    d = int.from_bytes(sm3_digest(_KAT_SEED), "big") % (_N - 2) + 1
    private = ts.ec.derive_private_key(d, ts.curve)
    numbers = private.public_key().public_numbers()
    if f"{numbers.x:064x}{numbers.y:064x}" != _KAT_PUBLIC:
        raise RuntimeError("Tongsuo derived a different SM2 public key")
    public = private.public_key()
    public.verify(encode_dss_signature(_KAT_R, _KAT_S), _KAT_MESSAGE, ts.algorithm)
    try:
        public.verify(encode_dss_signature(_KAT_R, _KAT_S), _KAT_MESSAGE + b"!", ts.algorithm)
    except ts.invalid_signature:
        pass
    else:
        raise RuntimeError("Tongsuo accepted a signature for another message")
    public.verify(private.sign(_KAT_MESSAGE, ts.algorithm), _KAT_MESSAGE, ts.algorithm)


def _load_tongsuo() -> tuple[_Tongsuo | None, str | None]:
    try:
        from tongsuopy.crypto import hashes as ts_hashes
        from tongsuopy.crypto.asymciphers import ec as ts_ec
        from tongsuopy.crypto.exceptions import InvalidSignature as TsInvalidSignature

        ts = _Tongsuo(
            ec=ts_ec,
            curve=ts_ec.SM2(),
            algorithm=ts_ec.ECDSA(ts_hashes.SM3()),
            invalid_signature=TsInvalidSignature,
        )
        _tongsuo_self_test(ts)
    except Exception as exc:  # no wheel for this machine, a library that fails to load, ...
        return None, f"{type(exc).__name__}: {exc}"
    return ts, None


_TONGSUO, TONGSUO_UNAVAILABLE_REASON = _load_tongsuo()
TONGSUO_AVAILABLE: bool = _TONGSUO is not None
#: The SM2 backend used for the default user ID: "tongsuo" when tongsuopy loaded and passed its
#: self-test, else "gmssl". Read at every call (tests set it to run the fallback).
SM2_BACKEND: SM2Backend = "tongsuo" if TONGSUO_AVAILABLE else "gmssl"


def sm2_backend_for(user_id: bytes = DEFAULT_USER_ID) -> SM2Backend:
    """The backend that :func:`sm2_sign` / :func:`sm2_verify` use for ``user_id``."""
    if SM2_BACKEND == "tongsuo" and _TONGSUO is not None and user_id == DEFAULT_USER_ID:
        return "tongsuo"
    return "gmssl"


def _tongsuo() -> _Tongsuo:
    if _TONGSUO is None:
        raise RuntimeError(f"the Tongsuo SM2 backend is unavailable: {TONGSUO_UNAVAILABLE_REASON}")
    return _TONGSUO


@functools.lru_cache(maxsize=64)
def _ts_private_key(private_key_hex: str) -> tuple[Any, str]:
    """Tongsuo private key for a validated, lower-case 64-hex ``d`` and its 128-hex public key."""
    key = _tongsuo().ec.derive_private_key(int(private_key_hex, 16), _tongsuo().curve)
    numbers = key.public_key().public_numbers()
    return key, f"{numbers.x:064x}{numbers.y:064x}"


@functools.lru_cache(maxsize=1024)
def _ts_public_key(public_key_hex: str) -> Any:
    """Tongsuo public key for a normalised 128-hex ``x || y`` (checked on the curve already)."""
    x, y = int(public_key_hex[:64], 16), int(public_key_hex[64:], 16)
    return _tongsuo().ec.EllipticCurvePublicNumbers(x, y, _tongsuo().curve).public_key()


def _crypt(private_key_hex: str, public_key_hex: str) -> Any:
    c = _gmssl_sm2.CryptSM2(private_key=private_key_hex, public_key=public_key_hex)
    c.public_key = public_key_hex  # bypass gmssl's lstrip("04") (see the module docstring)
    return c


def _gmssl_public_from_private(d: int) -> str:
    point = _crypt("00" * 32, _G_HEX)._kg(d, _G_HEX)
    return str(point).lower()


def _public_from_private(d: int) -> str:
    if sm2_backend_for() == "tongsuo":
        return _ts_private_key(f"{d:064x}")[1]
    return _gmssl_public_from_private(d)


def _gmssl_sign(private_key_hex: str, pub: str, message: bytes, user_id: bytes) -> tuple[int, int]:
    e = sm2_digest(pub, message, user_id)
    c = _crypt(private_key_hex, pub)
    while True:
        k = secrets.randbelow(_N - 1) + 1
        rs = c.sign(e, f"{k:064x}")
        if rs:  # gmssl returns None for the (negligible) r == 0, r + k == n, s == 0 cases
            return int(rs[:64], 16), int(rs[64:], 16)


def _tongsuo_sign(private_key_hex: str, pub: str, message: bytes) -> tuple[int, int] | None:
    """``None`` if ``pub`` is not the key of ``d`` (the gmssl path then signs, as it always did:
    Tongsuo always hashes the key's own public key into ``Z_A``)."""
    key, own_pub = _ts_private_key(private_key_hex)
    if own_pub != pub:
        return None
    r, s = decode_dss_signature(key.sign(message, _tongsuo().algorithm))
    if not (1 <= r < _N and 1 <= s < _N):  # cannot happen for a correct signer
        raise CryptoError("Tongsuo produced an SM2 signature out of range")
    return r, s


def _gmssl_verify(pub: str, message: bytes, r: int, s: int, user_id: bytes) -> bool:
    e = sm2_digest(pub, message, user_id)
    return bool(_crypt("00" * 32, pub).verify(f"{r:064x}{s:064x}", e))


def _tongsuo_verify(pub: str, message: bytes, r: int, s: int) -> bool:
    ts = _tongsuo()
    try:
        _ts_public_key(pub).verify(encode_dss_signature(r, s), message, ts.algorithm)
    except ts.invalid_signature:
        return False
    return True


# ------------------------------------------------------------------------------------ SM2 API


@dataclass(frozen=True)
class SM2KeyPair:
    """An SM2 key pair as hex. ``public_key_hex`` is normalised to 128 hex without ``04``."""

    private_key_hex: str
    public_key_hex: str

    def __post_init__(self) -> None:
        d = _parse_private_key(self.private_key_hex)
        pub = normalize_public_key_hex(self.public_key_hex)
        if _public_from_private(d) != pub:
            raise CryptoError("SM2 public key does not match the private key")
        object.__setattr__(self, "private_key_hex", self.private_key_hex.strip().lower())
        object.__setattr__(self, "public_key_hex", pub)

    def __repr__(self) -> str:
        return f"SM2KeyPair(private_key_hex=[secure], public_key_hex={self.public_key_hex!r})"

    __str__ = __repr__


def generate_sm2_keypair() -> SM2KeyPair:
    """A fresh key pair: ``d`` uniform in ``[1, n-2]`` from ``secrets``, ``P = d·G``."""
    d = secrets.randbelow(_N - 2) + 1
    return SM2KeyPair(private_key_hex=f"{d:064x}", public_key_hex=_public_from_private(d))


def sm2_public_key_from_private(private_key_hex: str) -> str:
    return _public_from_private(_parse_private_key(private_key_hex))


def sm2_digest(public_key_hex: str, message: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """``e = SM3(Z_A || M)`` as defined for SM3withSM2."""
    if len(user_id) * 8 > 0xFFFF:
        raise CryptoError("SM2 user ID too long")
    pub = bytes.fromhex(normalize_public_key_hex(public_key_hex))
    z = sm3_digest(
        (len(user_id) * 8).to_bytes(2, "big")
        + user_id
        + bytes.fromhex(_CURVE["a"])
        + bytes.fromhex(_CURVE["b"])
        + bytes.fromhex(_G_HEX)
        + pub
    )
    return sm3_digest(z + message)


def _encode_signature(r: int, s: int, encoding: SignatureEncoding) -> str:
    if encoding == "rs_base64":
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif encoding == "der_base64":
        raw = encode_dss_signature(r, s)
    else:
        raise ValueError(f"unknown signature encoding {encoding!r}")
    return base64.b64encode(raw).decode("ascii")


def _decode_signature(signature: str, encoding: SignatureEncoding) -> tuple[int, int] | None:
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeError):
        return None
    if base64.b64encode(raw).decode("ascii") != signature:  # only canonical base64
        return None
    if encoding == "rs_base64":
        if len(raw) != 64:
            return None
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    elif encoding == "der_base64":
        try:
            r, s = decode_dss_signature(raw)
        except (ValueError, InvalidSignature):
            return None
        if encode_dss_signature(r, s) != raw:  # strict DER only
            return None
    else:
        return None
    if not (1 <= r < _N and 1 <= s < _N):
        return None
    return r, s


def sm2_sign(
    private_key_hex: str,
    public_key_hex: str,
    message: bytes,
    *,
    encoding: SignatureEncoding = "rs_base64",
    user_id: bytes = DEFAULT_USER_ID,
) -> str:
    """SM3withSM2 signature of ``message`` (random ``k``: Tongsuo's DRBG, or ``secrets``)."""
    if encoding not in SIGNATURE_ENCODINGS:
        raise ValueError(f"unknown signature encoding {encoding!r}")
    _parse_private_key(private_key_hex)
    pub = normalize_public_key_hex(public_key_hex)
    d_hex = private_key_hex.strip().lower()
    rs: tuple[int, int] | None = None
    if sm2_backend_for(user_id) == "tongsuo":
        rs = _tongsuo_sign(d_hex, pub, bytes(message))
    if rs is None:
        rs = _gmssl_sign(d_hex, pub, bytes(message), user_id)
    return _encode_signature(rs[0], rs[1], encoding)


def sm2_verify(
    public_key_hex: str,
    message: bytes,
    signature: str,
    *,
    encoding: SignatureEncoding = "rs_base64",
    user_id: bytes = DEFAULT_USER_ID,
) -> bool:
    """True only for a valid SM3withSM2 signature. Never raises on garbage input: returns False.

    The checks (canonical base64, strict DER, ``1 <= r, s <= n-1``, key on the curve) are made
    here, before either backend sees the signature."""
    try:
        if not isinstance(signature, str) or not isinstance(message, bytes | bytearray):
            return False
        pub = normalize_public_key_hex(public_key_hex)
        rs = _decode_signature(signature, encoding)
        if rs is None:
            return False
        if sm2_backend_for(user_id) == "tongsuo":
            return _tongsuo_verify(pub, bytes(message), rs[0], rs[1])
        return _gmssl_verify(pub, bytes(message), rs[0], rs[1], user_id)
    except Exception:  # a backend failing on degenerate input: never a valid signature
        return False


