"""National cryptography (国密) for the bureau gateway: SM3, SM4 and SM2 (SM3withSM2). No network.

Algorithms
==========

* **SM3** — ``hashlib.new("sm3")`` (OpenSSL 3 provides it).
* **SM4** — ``cryptography``'s ``algorithms.SM4`` in CBC mode, PKCS7 padding, a fresh random
  16-byte IV prepended to the ciphertext: ``blob = IV || CBC(key, IV, PKCS7(plaintext))``.
  CBC gives confidentiality only, no integrity: the envelope signs the ciphertext with SM2 and the
  signature is checked *before* decrypting (so there is no padding oracle). A wrong key is refused
  by the padding check in about 255 of 256 cases; the envelope layer also refuses plaintext that is
  not UTF-8 JSON, which catches the rest.
* **SM2** — signatures with SM3 (SM3withSM2, GB/T 32918 / GM/T 0009) on one of two backends
  (see "SM2 backends" below). The digest ``e = SM3(Z_A || M)`` with
  ``Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)``; the default user ID is
  ``b"1234567812345678"``. Checked against the OpenSSL 3 command line in both directions.
  Signature encodings: ``"rs_base64"`` = base64 of the 64-byte ``r || s`` (32 bytes each, big
  endian); ``"der_base64"`` = base64 of the DER ``SEQUENCE { INTEGER r, INTEGER s }`` (what OpenSSL
  and Java produce). Verification is strict: canonical base64 only, strict DER only,
  ``1 <= r, s <= n-1``, the public key must be a point on the curve; these checks are made in this
  module before any backend sees the input, and anything else returns ``False`` (never raises).
* Public keys are kept as 128 hex characters ``x || y`` (lower case) **without** the ``04``
  uncompressed-point prefix; functions accept both forms. (gmssl's own constructor strips the
  prefix with ``lstrip("04")``, which corrupts keys whose ``x`` begins with ``0`` or ``4``; this
  module never relies on it.)

SM2 backends
============

* **Tongsuo** (``tongsuopy``: the Python SDK of Tongsuo, the OpenAtom Foundation's OpenSSL fork with
  national cryptography; C, ~0.4 ms per sign or verify) — used whenever the user ID is the
  default one and ``tongsuopy`` loads. Its API computes ``Z_A`` itself and only with the default
  user ID (and with the private key's own public key), so it cannot serve other IDs.
* **gmssl** (pure Python, ~6 ms sign / ~11 ms verify) — the fallback: a non-default user ID, a
  machine with no ``tongsuopy`` wheel (it ships x86_64 manylinux only, e.g. not aarch64) or a
  library that fails to load, and ``sm2_sign`` called with a public key that is not the private
  key's (kept for identical behaviour: Tongsuo would hash the key's own public key into ``Z_A``).
  Here ``e`` is computed with ``hashlib`` (same value as gmssl's ``sign_with_sm3``).

Both compute the same standard SM3withSM2 (tests sign with one and verify with the other, and
against the OpenSSL CLI). At import, Tongsuo must pass a self-test (derive a known public key,
accept a known-answer signature made by the gmssl code, refuse it for another message) or it is
not used; ``SM2_BACKEND`` names the backend for the default user ID ("tongsuo" or "gmssl"),
``TONGSUO_UNAVAILABLE_REASON`` says why Tongsuo is not used, and ``sm2_backend_for(user_id)``
which backend a call uses. Tongsuo key objects are cached (``functools.lru_cache`` keyed by the
hex: 64 private, 1,024 public keys), so verifying many messages of one peer builds its key once.
The key pair check (``SM2KeyPair``, ``sm2_public_key_from_private``) uses the same backend.

Key files
=========

One directory holds JSON files (UTF-8). Party names are short lower-case words
(``bureau``, ``bank``, ``headoffice``)::

    <party>.sm2.private.json   mode 0600, only on that party's machine
        {"kind": "sm2-private", "party": "bank", "key_id": "bank-2026-01",
         "private_key_hex": "<64 hex>", "public_key_hex": "<128 hex, no 04>"}
    <party>.sm2.public.json    given to every peer
        {"kind": "sm2-public", "party": "bank", "key_id": "bank-2026-01",
         "public_key_hex": "<128 hex, no 04>"}
    link.<a>--<b>.sm4.json     mode 0600, a < b alphabetically; held by both ends of the link
        {"kind": "sm4-link", "parties": ["bank", "bureau"], "key_hex": "<32 hex>"}

``write_party_keys`` writes the party's SM2 pair and creates the SM4 key of every link the party
takes part in (``DEFAULT_LINKS``: bureau—bank, bank—headoffice) unless that link file exists
already — whichever end is written first creates it, the other end reuses it.

``load_keyring(directory, party=...)`` reads the party's private file and, for every other party
that has a public file and a link file shared with ``party`` (or only ``peers=`` if given), the
public key and the link key. So the bureau never trusts head office's key, and vice versa.
In the keyring, ``peer_public_keys`` and ``sm4_keys`` are both indexed by the **peer's key id**:
a message from peer P carries ``key_id = P's key id``; the receiver verifies with
``peer_public_keys[key_id]`` and decrypts with ``sm4_keys[key_id]`` (the link key shared with P).
A sender encrypts with ``sm4_keys[peer_key_id]`` and signs with its own private key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2 as _gmssl_sm2

from yibaodai.errors import ConfigurationError, GatewayRefused

SignatureEncoding = Literal["rs_base64", "der_base64"]
SIGNATURE_ENCODINGS: tuple[str, ...] = get_args(SignatureEncoding)
DEFAULT_USER_ID = b"1234567812345678"
SM4_KEY_BYTES = 16
SM4_BLOCK_BYTES = 16

# SM2 recommended curve (GB/T 32918.5), as in gmssl.
_CURVE = _gmssl_sm2.default_ecc_table
_P = int(_CURVE["p"], 16)
_A = int(_CURVE["a"], 16)
_B = int(_CURVE["b"], 16)
_N = int(_CURVE["n"], 16)
_G_HEX = _CURVE["g"].lower()

# Which parties share an SM4 link key (see the module docstring).
DEFAULT_LINKS: dict[str, tuple[str, ...]] = {
    "bureau": ("bank",),
    "bank": ("bureau", "headoffice"),
    "headoffice": ("bank",),
}


class CryptoError(ValueError):
    """A malformed key (hex of the wrong length, point not on the curve...)."""


# --------------------------------------------------------------------------------------- SM3


def sm3_hex(data: bytes) -> str:
    """SM3 digest as 64 lower-case hex characters."""
    return hashlib.new("sm3", data).hexdigest()


def _sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


# --------------------------------------------------------------------------------------- SM4


def _check_sm4_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != SM4_KEY_BYTES:
        raise CryptoError("SM4 key must be 16 bytes")


def _sm4_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    _check_sm4_key(key)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.SM4(bytes(key)), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def sm4_encrypt(key: bytes, plaintext: bytes) -> bytes:
    """SM4-CBC with PKCS7 padding; returns ``IV || ciphertext`` with a fresh random 16-byte IV."""
    return _sm4_cbc_encrypt(key, secrets.token_bytes(SM4_BLOCK_BYTES), plaintext)


def _decrypt_failed(en: str, zh: str) -> GatewayRefused:
    return GatewayRefused(
        message_zh=f"报文解密失败：{zh}",
        message_en=f"decryption failed: {en}",
        code="decrypt_failed",
    )


def sm4_decrypt(key: bytes, blob: bytes) -> bytes:
    """Inverse of :func:`sm4_encrypt`. Wrong key or corrupt data raises
    ``GatewayRefused(code="decrypt_failed")`` (see the module docstring for the limits of CBC)."""
    _check_sm4_key(key)
    if len(blob) < 2 * SM4_BLOCK_BYTES or len(blob) % SM4_BLOCK_BYTES:
        raise _decrypt_failed("ciphertext length is invalid", "密文长度不正确")
    iv, body = blob[:SM4_BLOCK_BYTES], blob[SM4_BLOCK_BYTES:]
    decryptor = Cipher(algorithms.SM4(bytes(key)), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise _decrypt_failed("wrong key or corrupt data", "密钥错误或数据损坏") from None


# --------------------------------------------------------------------------------------- SM2


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
    d = int.from_bytes(_sm3(_KAT_SEED), "big") % (_N - 2) + 1
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
    z = _sm3(
        (len(user_id) * 8).to_bytes(2, "big")
        + user_id
        + bytes.fromhex(_CURVE["a"])
        + bytes.fromhex(_CURVE["b"])
        + bytes.fromhex(_G_HEX)
        + pub
    )
    return _sm3(z + message)


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


# ----------------------------------------------------------------------------------- key ring


@dataclass(frozen=True)
class KeyRing:
    """Everything one party needs to seal and open envelopes.

    ``peer_public_keys`` and ``sm4_keys`` are indexed by the peer's key id (see module docstring);
    ``peer_key_ids`` maps a peer party name to its key id (for ``seal_request(peer_key_id=...)``).
    """

    own_key_id: str
    own_signing: SM2KeyPair
    peer_public_keys: dict[str, str]
    sm4_keys: dict[str, bytes] = field(repr=False)
    signature_encoding: SignatureEncoding = "rs_base64"
    own_party: str = ""
    peer_key_ids: dict[str, str] = field(default_factory=dict)
    user_id: bytes = DEFAULT_USER_ID

    def __post_init__(self) -> None:
        if self.signature_encoding not in SIGNATURE_ENCODINGS:
            raise ConfigurationError(
                message_zh=f"未知的签名编码：{self.signature_encoding}",
                message_en=f"unknown signature encoding: {self.signature_encoding}",
                code="bad_signature_encoding",
            )
        for key in self.sm4_keys.values():
            _check_sm4_key(key)
        object.__setattr__(
            self,
            "peer_public_keys",
            {k: normalize_public_key_hex(v) for k, v in self.peer_public_keys.items()},
        )

    def link_key(self, peer_key_id: str) -> bytes:
        try:
            return self.sm4_keys[peer_key_id]
        except KeyError:
            raise ConfigurationError(
                message_zh=f"没有与密钥 {peer_key_id} 对应的 SM4 链路密钥",
                message_en=f"no SM4 link key for peer key id {peer_key_id}",
                code="no_link_key",
            ) from None


def _private_path(directory: Path, party: str) -> Path:
    return directory / f"{party}.sm2.private.json"


def _public_path(directory: Path, party: str) -> Path:
    return directory / f"{party}.sm2.public.json"


def _link_path(directory: Path, a: str, b: str) -> Path:
    x, y = sorted((a, b))
    return directory / f"link.{x}--{y}.sm4.json"


def _check_name(kind: str, value: str) -> None:
    ok = bool(value) and all(c.isascii() and (c.isalnum() or c in "-_.") for c in value)
    if not ok or value.startswith(".") or (kind == "party" and "--" in value):
        raise ConfigurationError(
            message_zh=f"{kind} 名称无效：{value!r}",
            message_en=f"invalid {kind} name: {value!r}",
            code="bad_key_name",
        )


def _write_json(path: Path, payload: Mapping[str, Any], *, secret: bool) -> None:
    data = (json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if secret else 0o644)
    try:
        if secret:
            os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            message_zh=f"无法读取密钥文件 {path}",
            message_en=f"cannot read key file {path}: {exc}",
            code="key_file_unreadable",
        ) from exc
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        raise ConfigurationError(
            message_zh=f"密钥文件 {path} 类型不是 {kind}",
            message_en=f"key file {path} is not of kind {kind}",
            code="key_file_invalid",
        )
    return payload


def write_party_keys(
    directory: Path,
    *,
    party: str,
    key_id: str,
    links: Iterable[str] | None = None,
) -> None:
    """Generate ``party``'s SM2 key pair (private file 0600, public file 0644) and the SM4 key of
    each link ``party``—peer, for peer in ``links`` (default ``DEFAULT_LINKS[party]``), whose file
    does not exist yet (link files are 0600). Overwrites the party's own SM2 files."""
    _check_name("party", party)
    _check_name("key id", key_id)
    peers = list(DEFAULT_LINKS.get(party, ()) if links is None else links)
    for peer in peers:
        _check_name("party", peer)
    directory.mkdir(parents=True, exist_ok=True)
    pair = generate_sm2_keypair()
    _write_json(
        _private_path(directory, party),
        {
            "kind": "sm2-private",
            "party": party,
            "key_id": key_id,
            "private_key_hex": pair.private_key_hex,
            "public_key_hex": pair.public_key_hex,
        },
        secret=True,
    )
    _write_json(
        _public_path(directory, party),
        {
            "kind": "sm2-public",
            "party": party,
            "key_id": key_id,
            "public_key_hex": pair.public_key_hex,
        },
        secret=False,
    )
    for peer in peers:
        if peer == party:
            continue
        path = _link_path(directory, party, peer)
        if not path.exists():
            _write_json(
                path,
                {
                    "kind": "sm4-link",
                    "parties": sorted((party, peer)),
                    "key_hex": secrets.token_bytes(SM4_KEY_BYTES).hex(),
                },
                secret=True,
            )


def load_keyring(
    directory: Path,
    *,
    party: str,
    peers: Iterable[str] | None = None,
    signature_encoding: SignatureEncoding = "rs_base64",
    user_id: bytes = DEFAULT_USER_ID,
) -> KeyRing:
    """Load ``party``'s private key, the peers' public keys and the SM4 link keys shared with them.

    Default peers: every other party with a ``*.sm2.public.json`` **and** a link file shared with
    ``party`` (a party only trusts the parties it has a link with). Peers named explicitly in
    ``peers`` are loaded even without a link file; they get no SM4 key (sealing to them raises
    ``ConfigurationError``, opening their requests ``GatewayRefused("decrypt_failed")``)."""
    _check_name("party", party)
    own = _read_json(_private_path(directory, party), "sm2-private")
    try:
        pair = SM2KeyPair(str(own["private_key_hex"]), str(own["public_key_hex"]))
        own_key_id = str(own["key_id"])
    except (KeyError, CryptoError) as exc:
        raise ConfigurationError(
            message_zh=f"{party} 的私钥文件无效",
            message_en=f"private key file of {party} is invalid: {exc}",
            code="key_file_invalid",
        ) from exc
    if peers is None:
        suffix = ".sm2.public.json"
        names = sorted(p.name[: -len(suffix)] for p in directory.glob(f"*{suffix}"))
        peer_list = [n for n in names if n != party and _link_path(directory, party, n).exists()]
    else:
        peer_list = list(peers)
    public: dict[str, str] = {}
    sm4: dict[str, bytes] = {}
    key_ids: dict[str, str] = {}
    for peer in peer_list:
        _check_name("party", peer)
        info = _read_json(_public_path(directory, peer), "sm2-public")
        try:
            kid = str(info["key_id"])
            public[kid] = normalize_public_key_hex(str(info["public_key_hex"]))
        except (KeyError, CryptoError) as exc:
            raise ConfigurationError(
                message_zh=f"{peer} 的公钥文件无效",
                message_en=f"public key file of {peer} is invalid: {exc}",
                code="key_file_invalid",
            ) from exc
        if kid == own_key_id or kid in key_ids.values():
            raise ConfigurationError(
                message_zh=f"密钥标识重复：{kid}",
                message_en=f"duplicate key id: {kid}",
                code="duplicate_key_id",
            )
        key_ids[peer] = kid
        link = _link_path(directory, party, peer)
        if link.exists():
            info = _read_json(link, "sm4-link")
            try:
                key = bytes.fromhex(str(info["key_hex"]))
                _check_sm4_key(key)
            except (KeyError, ValueError) as exc:
                raise ConfigurationError(
                    message_zh=f"链路密钥文件 {link.name} 无效",
                    message_en=f"link key file {link.name} is invalid",
                    code="key_file_invalid",
                ) from exc
            sm4[kid] = key
    return KeyRing(
        own_key_id=own_key_id,
        own_signing=pair,
        peer_public_keys=public,
        sm4_keys=sm4,
        signature_encoding=signature_encoding,
        own_party=party,
        peer_key_ids=key_ids,
        user_id=user_id,
    )
