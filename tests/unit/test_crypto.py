"""National cryptography: standard vectors, round trips, strictness, key files, OpenSSL interop."""

from __future__ import annotations

import base64
import json
import platform
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2 as gmssl_sm2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibaodai.errors import ConfigurationError, GatewayRefused
from yibaodai.protocol import sm2, sm4
from yibaodai.protocol.keys import KeyRing, load_keyring, write_party_keys
from yibaodai.protocol.sm2 import SM2KeyPair, generate_sm2_keypair, sm2_sign, sm2_verify
from yibaodai.protocol.sm3 import sm3_hex
from yibaodai.protocol.sm4 import sm4_decrypt, sm4_encrypt

SM4_VECTOR = bytes.fromhex("0123456789abcdeffedcba9876543210")
N = int(gmssl_sm2.default_ecc_table["n"], 16)


@pytest.fixture(scope="module")
def pair() -> SM2KeyPair:
    return generate_sm2_keypair()


BACKENDS = ["tongsuo", "gmssl"]
ENCODINGS: list[sm2.SignatureEncoding] = ["rs_base64", "der_base64"]
OTHER_USER_ID = b"ALICE123@YAHOO.COM"

needs_tongsuo = pytest.mark.skipif(
    not sm2.TONGSUO_AVAILABLE,
    reason=f"tongsuopy is unavailable: {sm2.TONGSUO_UNAVAILABLE_REASON}",
)


def _use_backend(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(sm2, "SM2_BACKEND", name)
    assert sm2.sm2_backend_for() == name


@pytest.fixture(params=BACKENDS)
def sm2_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once per SM2 backend (the default user ID then goes to that backend)."""
    name = str(request.param)
    if name == "tongsuo" and not sm2.TONGSUO_AVAILABLE:
        pytest.skip(f"tongsuopy is unavailable: {sm2.TONGSUO_UNAVAILABLE_REASON}")
    _use_backend(monkeypatch, name)
    return name


class _Spy:
    """Wraps a module function and counts its calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls = 0
        original = getattr(sm2, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(sm2, name, wrapper)


# ----------------------------------------------------------------------------------------- SM3


def test_sm3_of_abc_matches_the_standard_vector() -> None:
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm3_of_the_64_byte_standard_message_matches_the_vector() -> None:
    assert sm3_hex(b"abcd" * 16) == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


# ----------------------------------------------------------------------------------------- SM4


def test_sm4_ecb_block_matches_the_standard_vector() -> None:
    enc = Cipher(algorithms.SM4(SM4_VECTOR), modes.ECB()).encryptor()
    assert (enc.update(SM4_VECTOR) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_cbc_first_block_equals_ecb_of_plaintext_xor_iv() -> None:
    iv = bytes(range(16))
    blob = sm4._sm4_cbc_encrypt(
        SM4_VECTOR, iv, bytes(a ^ b for a, b in zip(SM4_VECTOR, iv, strict=True))
    )
    assert blob[:16] == iv
    assert blob[16:32].hex() == "681edf34d206965e86b3e94f536e4246"


@given(key=st.binary(min_size=16, max_size=16), plaintext=st.binary(max_size=300))
def test_sm4_round_trips_any_plaintext(key: bytes, plaintext: bytes) -> None:
    blob = sm4_encrypt(key, plaintext)
    assert len(blob) % 16 == 0 and len(blob) >= 32
    assert sm4_decrypt(key, blob) == plaintext


def test_sm4_uses_a_fresh_iv_so_equal_plaintexts_encrypt_differently() -> None:
    key = bytes(16)
    assert sm4_encrypt(key, b"same") != sm4_encrypt(key, b"same")


def test_sm4_decrypt_with_the_wrong_key_is_refused() -> None:
    blob = sm4._sm4_cbc_encrypt(SM4_VECTOR, bytes(16), "医保结算数据".encode())
    with pytest.raises(GatewayRefused) as exc:
        sm4_decrypt(bytes(16), blob)
    assert exc.value.code == "decrypt_failed"


@pytest.mark.parametrize("blob", [b"", b"x" * 16, b"x" * 33, b"\x00" * 31])
def test_sm4_decrypt_of_truncated_or_misaligned_data_is_refused(blob: bytes) -> None:
    with pytest.raises(GatewayRefused) as exc:
        sm4_decrypt(SM4_VECTOR, blob)
    assert exc.value.code == "decrypt_failed"


def test_sm4_refuses_a_key_that_is_not_16_bytes() -> None:
    with pytest.raises(ValueError):
        sm4_encrypt(b"short", b"data")


# ----------------------------------------------------------------------------------------- SM2


@pytest.mark.usefixtures("sm2_backend")
def test_generated_public_key_is_128_hex_on_the_curve_and_matches_the_private_key(
    pair: SM2KeyPair,
) -> None:
    assert len(pair.public_key_hex) == 128
    assert sm2.normalize_public_key_hex(pair.public_key_hex) == pair.public_key_hex
    assert sm2.sm2_public_key_from_private(pair.private_key_hex) == pair.public_key_hex


@pytest.mark.usefixtures("sm2_backend")
def test_key_pair_repr_hides_the_private_key(pair: SM2KeyPair) -> None:
    assert pair.private_key_hex not in repr(pair)
    assert pair.private_key_hex not in str(pair)
    assert "[secure]" in repr(pair)


@pytest.mark.usefixtures("sm2_backend")
def test_key_pair_with_a_mismatched_public_key_is_rejected(pair: SM2KeyPair) -> None:
    other = generate_sm2_keypair()
    with pytest.raises(ValueError):
        SM2KeyPair(pair.private_key_hex, other.public_key_hex)


@pytest.mark.usefixtures("sm2_backend")
@pytest.mark.parametrize("encoding", ["rs_base64", "der_base64"])
def test_signature_verifies_in_both_encodings_and_fails_for_another_message(
    pair: SM2KeyPair, encoding: sm2.SignatureEncoding
) -> None:
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, "授信".encode(), encoding=encoding)
    assert sm2_verify(pair.public_key_hex, "授信".encode(), sig, encoding=encoding)
    assert not sm2_verify(pair.public_key_hex, "授信!".encode(), sig, encoding=encoding)
    assert not sm2_verify(
        generate_sm2_keypair().public_key_hex, "授信".encode(), sig, encoding=encoding
    )


@pytest.mark.usefixtures("sm2_backend")
def test_rs_signature_is_64_bytes_and_der_signature_parses_as_der(pair: SM2KeyPair) -> None:
    rs = base64.b64decode(sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m"))
    assert len(rs) == 64
    der = base64.b64decode(
        sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m", encoding="der_base64")
    )
    r, s = decode_dss_signature(der)
    assert 1 <= r < N and 1 <= s < N


@pytest.mark.usefixtures("sm2_backend")
def test_signature_in_one_encoding_does_not_verify_as_the_other(pair: SM2KeyPair) -> None:
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m", encoding="der_base64")
    assert not sm2_verify(pair.public_key_hex, b"m", sig, encoding="rs_base64")


@pytest.mark.usefixtures("sm2_backend")
def test_public_key_with_or_without_the_04_prefix_is_accepted(pair: SM2KeyPair) -> None:
    sig = sm2_sign(pair.private_key_hex, "04" + pair.public_key_hex, b"m")
    assert sm2_verify("04" + pair.public_key_hex, b"m", sig)
    assert sm2_verify(pair.public_key_hex.upper(), b"m", sig)


@pytest.mark.usefixtures("sm2_backend")
def test_public_key_whose_x_starts_with_04_still_works() -> None:
    # d = 11 gives x = 04b3...; gmssl's constructor would lstrip("04") this key and break it.
    kp = SM2KeyPair(f"{11:064x}", sm2.sm2_public_key_from_private(f"{11:064x}"))
    assert kp.public_key_hex.startswith("04b3cb10")
    sig = sm2_sign(kp.private_key_hex, kp.public_key_hex, b"m")
    assert sm2_verify(kp.public_key_hex, b"m", sig)
    assert sm2_verify("04" + kp.public_key_hex, b"m", sig)
    naive = gmssl_sm2.CryptSM2(private_key=kp.private_key_hex, public_key=kp.public_key_hex)
    assert naive.public_key != kp.public_key_hex  # the gmssl bug this module works around


@pytest.mark.usefixtures("sm2_backend")
def test_signature_agrees_with_gmssl_sign_with_sm3_for_the_default_user_id(
    pair: SM2KeyPair,
) -> None:
    c = gmssl_sm2.CryptSM2(private_key=pair.private_key_hex, public_key=pair.public_key_hex)
    c.public_key = pair.public_key_hex
    theirs = c.sign_with_sm3(b"hello", f"{12345:064x}")
    theirs_b64 = base64.b64encode(bytes.fromhex(theirs)).decode()
    assert sm2_verify(pair.public_key_hex, b"hello", theirs_b64)
    ours = base64.b64decode(sm2_sign(pair.private_key_hex, pair.public_key_hex, b"hello")).hex()
    assert c.verify_with_sm3(ours, b"hello")


@pytest.mark.usefixtures("sm2_backend")
def test_malleated_der_signature_with_s_plus_n_is_rejected(pair: SM2KeyPair) -> None:
    # (r, s + n) satisfies the verification equation mod n; it must be refused (by the range
    # check here; gmssl alone happens to refuse it too because it truncates s to 64 hex digits).
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = base64.b64decode(
        sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m", encoding="der_base64")
    )
    r, s = decode_dss_signature(der)
    forged = base64.b64encode(encode_dss_signature(r, s + N)).decode()
    assert not sm2_verify(pair.public_key_hex, b"m", forged, encoding="der_base64")


def _der_int(v: int) -> bytes:
    body = v.to_bytes(v.bit_length() // 8 + 1, "big")  # minimal, with a 00 if the top bit is set
    return b"\x02" + bytes([len(body)]) + body


@pytest.mark.usefixtures("sm2_backend")
def test_non_strict_der_forms_of_a_valid_signature_are_rejected(pair: SM2KeyPair) -> None:
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m", encoding="der_base64")
    r, s = decode_dss_signature(base64.b64decode(sig))
    body = _der_int(r) + _der_int(s)
    assert b"\x30" + bytes([len(body)]) + body == base64.b64decode(sig)
    padded_r = b"\x02" + bytes([len(_der_int(r)) - 1]) + b"\x00" + _der_int(r)[2:]
    padded_body = padded_r + _der_int(s)
    forms = [
        b"\x30\x81" + bytes([len(body)]) + body,  # long-form length
        b"\x30" + bytes([len(padded_body)]) + padded_body,  # r with a superfluous leading 00
        b"\x30" + bytes([len(body)]) + body + b"\x00",  # trailing data
        b"\x31" + bytes([len(body)]) + body,  # SET instead of SEQUENCE
    ]
    for raw in forms:
        forged = base64.b64encode(raw).decode()
        assert not sm2_verify(pair.public_key_hex, b"m", forged, encoding="der_base64"), raw.hex()
    assert sm2_verify(pair.public_key_hex, b"m", sig, encoding="der_base64")


@pytest.mark.usefixtures("sm2_backend")
def test_non_canonical_base64_of_a_valid_signature_is_rejected(pair: SM2KeyPair) -> None:
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m")  # 64 bytes -> ends in "=="
    assert sig.endswith("==")
    last = sig[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = alphabet[alphabet.index(last) ^ 1]  # flips a padding bit the decoder ignores
    forged = sig[:-3] + twin + "=="
    assert base64.b64decode(forged) == base64.b64decode(sig)
    assert not sm2_verify(pair.public_key_hex, b"m", forged)


@pytest.mark.usefixtures("sm2_backend")
@given(garbage=st.text(max_size=200))
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_garbage_signatures_return_false_rather_than_raising(
    pair: SM2KeyPair, garbage: str
) -> None:
    for encoding in ("rs_base64", "der_base64"):
        assert sm2_verify(pair.public_key_hex, b"m", garbage, encoding=encoding) is False


@pytest.mark.usefixtures("sm2_backend")
@given(raw=st.binary(max_size=80))
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_garbage_bytes_as_signatures_return_false(pair: SM2KeyPair, raw: bytes) -> None:
    sig = base64.b64encode(raw).decode()
    for encoding in ("rs_base64", "der_base64"):
        assert sm2_verify(pair.public_key_hex, b"m", sig, encoding=encoding) is False


@pytest.mark.usefixtures("sm2_backend")
@pytest.mark.parametrize(
    "signature",
    [
        "",
        "=",
        "A" * 88,
        base64.b64encode(bytes(64)).decode(),
        base64.b64encode(N.to_bytes(32, "big") * 2).decode(),
        None,
        12,
    ],
)
def test_degenerate_signatures_return_false(pair: SM2KeyPair, signature: object) -> None:
    assert sm2_verify(pair.public_key_hex, b"m", signature) is False  # type: ignore[arg-type]


@pytest.mark.usefixtures("sm2_backend")
@pytest.mark.parametrize("public_key", ["", "zz", "00" * 64, "04" + "11" * 64, "ab" * 70])
def test_garbage_public_keys_make_verify_return_false(pair: SM2KeyPair, public_key: str) -> None:
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m")
    assert sm2_verify(public_key, b"m", sig) is False


# -------------------------------------------------------------------------------- SM2 backends


def test_tongsuo_is_the_default_backend_where_tongsuopy_has_a_wheel() -> None:
    has_wheel = sys.platform == "linux" and platform.machine() == "x86_64"
    if not has_wheel and not sm2.TONGSUO_AVAILABLE:
        pytest.skip("no tongsuopy wheel for this machine: gmssl is the backend")
    assert sm2.TONGSUO_AVAILABLE, sm2.TONGSUO_UNAVAILABLE_REASON
    assert sm2.TONGSUO_UNAVAILABLE_REASON is None
    assert sm2.SM2_BACKEND == "tongsuo"
    assert sm2.sm2_backend_for() == "tongsuo"
    assert sm2.sm2_backend_for(b"1234567812345678") == "tongsuo"
    assert sm2.sm2_backend_for(OTHER_USER_ID) == "gmssl"


def test_without_tongsuo_every_call_goes_to_gmssl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sm2, "SM2_BACKEND", "gmssl")
    assert sm2.sm2_backend_for() == "gmssl"
    monkeypatch.setattr(sm2, "SM2_BACKEND", "tongsuo")
    monkeypatch.setattr(sm2, "_TONGSUO", None)
    assert sm2.sm2_backend_for() == "gmssl"


@needs_tongsuo
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_default_path_signs_verifies_and_derives_keys_with_tongsuo(
    pair: SM2KeyPair, encoding: sm2.SignatureEncoding, monkeypatch: pytest.MonkeyPatch
) -> None:
    ts_sign, ts_verify = _Spy(monkeypatch, "_tongsuo_sign"), _Spy(monkeypatch, "_tongsuo_verify")
    gm = [
        _Spy(monkeypatch, n) for n in ("_gmssl_sign", "_gmssl_verify", "_gmssl_public_from_private")
    ]
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m", encoding=encoding)
    assert sm2_verify(pair.public_key_hex, b"m", sig, encoding=encoding)
    assert not sm2_verify(pair.public_key_hex, b"m!", sig, encoding=encoding)
    kp = generate_sm2_keypair()
    assert sm2.sm2_public_key_from_private(kp.private_key_hex) == kp.public_key_hex
    assert (ts_sign.calls, ts_verify.calls) == (1, 2)
    assert [spy.calls for spy in gm] == [0, 0, 0]


@pytest.mark.usefixtures("sm2_backend")
def test_a_non_default_user_id_is_served_by_gmssl(
    pair: SM2KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    ts_sign, ts_verify = _Spy(monkeypatch, "_tongsuo_sign"), _Spy(monkeypatch, "_tongsuo_verify")
    gm_sign, gm_verify = _Spy(monkeypatch, "_gmssl_sign"), _Spy(monkeypatch, "_gmssl_verify")
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, b"m", user_id=OTHER_USER_ID)
    assert sm2_verify(pair.public_key_hex, b"m", sig, user_id=OTHER_USER_ID)
    assert not sm2_verify(pair.public_key_hex, b"m!", sig, user_id=OTHER_USER_ID)
    assert (ts_sign.calls, ts_verify.calls, gm_sign.calls, gm_verify.calls) == (0, 0, 1, 2)
    assert not sm2_verify(pair.public_key_hex, b"m", sig)  # the ID is part of the signature


@needs_tongsuo
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("signer", "verifier"), [("tongsuo", "gmssl"), ("gmssl", "tongsuo")])
def test_a_signature_made_by_one_backend_verifies_with_the_other(
    pair: SM2KeyPair,
    monkeypatch: pytest.MonkeyPatch,
    encoding: sm2.SignatureEncoding,
    signer: str,
    verifier: str,
) -> None:
    message = '跨后端互验 {"rows":1000}'.encode()
    _use_backend(monkeypatch, signer)
    sig = sm2_sign(pair.private_key_hex, pair.public_key_hex, message, encoding=encoding)
    r, s = sm2._decode_signature(sig, encoding) or (0, 0)
    tampered = sm2._encode_signature(r, s ^ 1, encoding)
    _use_backend(monkeypatch, verifier)
    assert sm2_verify(pair.public_key_hex, message, sig, encoding=encoding)
    assert not sm2_verify(pair.public_key_hex, message + b" ", sig, encoding=encoding)
    assert not sm2_verify(pair.public_key_hex, message, tampered, encoding=encoding)
    assert not sm2_verify(generate_sm2_keypair().public_key_hex, message, sig, encoding=encoding)


@needs_tongsuo
@pytest.mark.parametrize("d", [1, 2, 11, 0xFF, N - 2, N // 2, 0x1234567890ABCDEF])
def test_both_backends_derive_the_same_public_key(d: int) -> None:
    tongsuo = sm2._ts_private_key(f"{d:064x}")[1]
    assert tongsuo == sm2._gmssl_public_from_private(d)
    assert sm2.normalize_public_key_hex(tongsuo) == tongsuo


@needs_tongsuo
def test_tongsuo_key_objects_are_built_once_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_backend(monkeypatch, "tongsuo")
    kp = generate_sm2_keypair()
    sm2._ts_private_key.cache_clear()
    sm2._ts_public_key.cache_clear()
    sigs = [sm2_sign(kp.private_key_hex, kp.public_key_hex, b"m%d" % i) for i in range(3)]
    for i, sig in enumerate(sigs):
        assert sm2_verify(kp.public_key_hex, b"m%d" % i, sig)
    assert sm2_verify("04" + kp.public_key_hex.upper(), b"m0", sigs[0])  # same key, other form
    assert sm2._ts_private_key.cache_info().misses == 1
    assert sm2._ts_private_key.cache_info().hits == 2
    assert sm2._ts_public_key.cache_info().misses == 1
    assert sm2._ts_public_key.cache_info().hits == 3


@pytest.mark.usefixtures("sm2_backend")
def test_signing_with_someone_elses_public_key_behaves_as_before(
    pair: SM2KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old code signed with d over Z of the public key given; Tongsuo cannot, so gmssl does.
    other = generate_sm2_keypair()
    gm_sign = _Spy(monkeypatch, "_gmssl_sign")
    sig = sm2_sign(pair.private_key_hex, other.public_key_hex, b"m")
    assert gm_sign.calls == 1
    raw = base64.b64decode(sig).hex()
    e = sm2.sm2_digest(other.public_key_hex, b"m")
    assert sm2._crypt("00" * 32, pair.public_key_hex).verify(raw, e)
    assert not sm2_verify(other.public_key_hex, b"m", sig)


@pytest.mark.usefixtures("sm2_backend")
@given(r=st.integers(1, N - 1), s=st.integers(1, N - 1))
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_well_formed_but_wrong_signatures_return_false(pair: SM2KeyPair, r: int, s: int) -> None:
    for encoding in ENCODINGS:
        sig = sm2._encode_signature(r, s, encoding)
        assert sm2_verify(pair.public_key_hex, b"m", sig, encoding=encoding) is False


@needs_tongsuo
def test_tongsuo_passes_its_known_answer_self_test() -> None:
    ts, reason = sm2._load_tongsuo()
    assert ts is not None and reason is None


@needs_tongsuo
@pytest.mark.parametrize(
    ("name", "value"),
    [("_KAT_S", sm2._KAT_S ^ 1), ("_KAT_PUBLIC", "00" + sm2._KAT_PUBLIC[2:])],
)
def test_tongsuo_failing_the_known_answer_self_test_is_not_used(
    monkeypatch: pytest.MonkeyPatch, name: str, value: object
) -> None:
    monkeypatch.setattr(sm2, name, value)
    ts, reason = sm2._load_tongsuo()
    assert ts is None and reason


def test_an_unloadable_tongsuopy_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tongsuopy.crypto", None)
    ts, reason = sm2._load_tongsuo()
    assert ts is None and reason is not None and "ModuleNotFoundError" in reason


# -------------------------------------------------------------------------- OpenSSL interop

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
DISTID = "distid:1234567812345678"


def _openssl_has_sm2() -> bool:
    try:
        out = subprocess.run(
            [OPENSSL, "list", "-public-key-algorithms"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "SM2" in out


needs_openssl_sm2 = pytest.mark.skipif(
    not _openssl_has_sm2(), reason="openssl command line with SM2 is not available"
)


def _der_len(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


def _pem(label: str, der: bytes) -> str:
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


SM2_OID = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301
EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1


def _spki_pem(public_key_hex: str) -> str:
    """SubjectPublicKeyInfo for an SM2 public key (tiny hand-written DER, test only)."""
    algo = EC_PUBLIC_KEY_OID + SM2_OID
    algo_seq = b"\x30" + _der_len(len(algo)) + algo
    point = b"\x00\x04" + bytes.fromhex(public_key_hex)
    bitstring = b"\x03" + _der_len(len(point)) + point
    body = algo_seq + bitstring
    return _pem("PUBLIC KEY", b"\x30" + _der_len(len(body)) + body)


def _sec1_pem(kp: SM2KeyPair) -> str:
    """SEC 1 ECPrivateKey with the SM2 curve OID and the public key."""
    d = bytes.fromhex(kp.private_key_hex)
    params = b"\xa0" + _der_len(len(SM2_OID)) + SM2_OID
    point = b"\x00\x04" + bytes.fromhex(kp.public_key_hex)
    pub = b"\x03" + _der_len(len(point)) + point
    pub_tagged = b"\xa1" + _der_len(len(pub)) + pub
    body = b"\x02\x01\x01" + b"\x04\x20" + d + params + pub_tagged
    return _pem("EC PRIVATE KEY", b"\x30" + _der_len(len(body)) + body)


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([OPENSSL, *args], capture_output=True, timeout=60)


@pytest.mark.usefixtures("sm2_backend")
@needs_openssl_sm2
def test_openssl_derives_the_same_public_key_from_our_private_key(
    tmp_path: Path, pair: SM2KeyPair
) -> None:
    (tmp_path / "k.pem").write_text(_sec1_pem(pair))
    out = _run("pkey", "-in", str(tmp_path / "k.pem"), "-pubout")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == _spki_pem(pair.public_key_hex)


@pytest.mark.usefixtures("sm2_backend")
@needs_openssl_sm2
@pytest.mark.parametrize("encoding", ["rs_base64", "der_base64"])
def test_openssl_verifies_a_signature_made_here(
    tmp_path: Path, pair: SM2KeyPair, encoding: sm2.SignatureEncoding
) -> None:
    message = '医保局推送 {"a":1}'.encode()
    sig = base64.b64decode(
        sm2_sign(pair.private_key_hex, pair.public_key_hex, message, encoding=encoding)
    )
    if encoding == "rs_base64":  # OpenSSL wants DER
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        sig = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    (tmp_path / "pub.pem").write_text(_spki_pem(pair.public_key_hex))
    (tmp_path / "m").write_bytes(message)
    (tmp_path / "sig").write_bytes(sig)
    ok = _run(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(tmp_path / "pub.pem"),
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        DISTID,
        "-in",
        str(tmp_path / "m"),
        "-sigfile",
        str(tmp_path / "sig"),
    )
    assert ok.returncode == 0 and b"Verified Successfully" in ok.stdout, ok.stderr
    (tmp_path / "m").write_bytes(message + b"x")
    bad = _run(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(tmp_path / "pub.pem"),
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        DISTID,
        "-in",
        str(tmp_path / "m"),
        "-sigfile",
        str(tmp_path / "sig"),
    )
    assert bad.returncode != 0


@pytest.mark.usefixtures("sm2_backend")
@needs_openssl_sm2
def test_a_signature_made_by_openssl_verifies_here(tmp_path: Path, pair: SM2KeyPair) -> None:
    message = "来自 OpenSSL 的签名".encode()
    (tmp_path / "k.pem").write_text(_sec1_pem(pair))
    (tmp_path / "m").write_bytes(message)
    out = _run(
        "dgst",
        "-sm3",
        "-sign",
        str(tmp_path / "k.pem"),
        "-sigopt",
        DISTID,
        "-out",
        str(tmp_path / "sig"),
        str(tmp_path / "m"),
    )
    assert out.returncode == 0, out.stderr
    der = (tmp_path / "sig").read_bytes()
    assert sm2_verify(
        pair.public_key_hex, message, base64.b64encode(der).decode(), encoding="der_base64"
    )
    r, s = decode_dss_signature(der)
    rs = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    assert sm2_verify(pair.public_key_hex, message, rs, encoding="rs_base64")
    assert not sm2_verify(pair.public_key_hex, message + b"!", rs)


@pytest.mark.usefixtures("sm2_backend")
@needs_openssl_sm2
def test_a_key_generated_by_openssl_signs_compatibly_here(tmp_path: Path) -> None:
    assert _run("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "k.pem")).returncode == 0
    der = _run("pkey", "-in", str(tmp_path / "k.pem"), "-outform", "DER", "-traditional").stdout
    # SEC 1: 30 77 02 01 01 04 20 <d:32> a0 0a <oid> a1 44 03 42 00 04 <x||y:64>
    d_hex = der[7:39].hex()
    pub_hex = der[-64:].hex()
    kp = SM2KeyPair(d_hex, pub_hex)  # raises if the public key does not match d
    (tmp_path / "pub.pem").write_text(_spki_pem(kp.public_key_hex))
    (tmp_path / "m").write_bytes(b"openssl key")
    der_sig = base64.b64decode(
        sm2_sign(kp.private_key_hex, kp.public_key_hex, b"openssl key", encoding="der_base64")
    )
    (tmp_path / "sig").write_bytes(der_sig)
    ok = _run(
        "dgst",
        "-sm3",
        "-verify",
        str(tmp_path / "pub.pem"),
        "-sigopt",
        DISTID,
        "-signature",
        str(tmp_path / "sig"),
        str(tmp_path / "m"),
    )
    assert ok.returncode == 0 and b"Verified OK" in ok.stdout, ok.stderr


# ------------------------------------------------------------------------------- key files


def test_three_parties_load_their_own_keys_and_each_others_public_keys(tmp_path: Path) -> None:
    write_party_keys(tmp_path, party="bureau", key_id="bureau-k1")
    write_party_keys(tmp_path, party="bank", key_id="bank-k1")
    write_party_keys(tmp_path, party="headoffice", key_id="ho-k1")
    bureau = load_keyring(tmp_path, party="bureau")
    bank = load_keyring(tmp_path, party="bank")
    ho = load_keyring(tmp_path, party="headoffice")

    assert bank.own_key_id == "bank-k1"
    assert bank.peer_key_ids == {"bureau": "bureau-k1", "headoffice": "ho-k1"}
    assert bank.peer_public_keys["bureau-k1"] == bureau.own_signing.public_key_hex
    assert bureau.peer_public_keys["bank-k1"] == bank.own_signing.public_key_hex
    # each link shares one SM4 key, and the two links differ
    assert bureau.sm4_keys["bank-k1"] == bank.sm4_keys["bureau-k1"]
    assert ho.sm4_keys["bank-k1"] == bank.sm4_keys["ho-k1"]
    assert bank.sm4_keys["bureau-k1"] != bank.sm4_keys["ho-k1"]
    # bureau and head office have no link, so they do not even trust each other's keys
    assert set(bureau.peer_public_keys) == set(bureau.sm4_keys) == {"bank-k1"}
    assert set(ho.peer_public_keys) == set(ho.sm4_keys) == {"bank-k1"}


def test_private_and_link_key_files_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    write_party_keys(tmp_path, party="bureau", key_id="bureau-k1")
    write_party_keys(tmp_path, party="bank", key_id="bank-k1")
    for name in ("bureau.sm2.private.json", "bank.sm2.private.json", "link.bank--bureau.sm4.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    public = json.loads((tmp_path / "bank.sm2.public.json").read_text())
    assert set(public) == {"kind", "party", "key_id", "public_key_hex"}


def test_rewriting_one_partys_keys_keeps_the_existing_link_key(tmp_path: Path) -> None:
    write_party_keys(tmp_path, party="bureau", key_id="bureau-k1")
    write_party_keys(tmp_path, party="bank", key_id="bank-k1")
    before = load_keyring(tmp_path, party="bank").sm4_keys["bureau-k1"]
    write_party_keys(tmp_path, party="bureau", key_id="bureau-k2")
    assert load_keyring(tmp_path, party="bank").sm4_keys["bureau-k2"] == before


def test_a_directory_with_only_one_partys_files_is_enough_for_that_party(tmp_path: Path) -> None:
    full = tmp_path / "all"
    write_party_keys(full, party="bureau", key_id="bureau-k1")
    write_party_keys(full, party="bank", key_id="bank-k1")
    bank_only = tmp_path / "bank"
    bank_only.mkdir()
    for name in ("bank.sm2.private.json", "bureau.sm2.public.json", "link.bank--bureau.sm4.json"):
        shutil.copy(full / name, bank_only / name)
    ring = load_keyring(bank_only, party="bank")
    assert set(ring.peer_public_keys) == {"bureau-k1"} and set(ring.sm4_keys) == {"bureau-k1"}


def test_peers_named_explicitly_are_loaded_even_without_a_link(tmp_path: Path) -> None:
    write_party_keys(tmp_path, party="bureau", key_id="bureau-k1")
    write_party_keys(tmp_path, party="headoffice", key_id="ho-k1", links=())
    ring = load_keyring(tmp_path, party="bureau", peers=["headoffice"])
    assert set(ring.peer_public_keys) == {"ho-k1"} and ring.sm4_keys == {}
    with pytest.raises(ConfigurationError):
        ring.link_key("ho-k1")


def test_keyring_repr_shows_no_secret(tmp_path: Path) -> None:
    write_party_keys(tmp_path, party="bureau", key_id="bureau-k1")
    write_party_keys(tmp_path, party="bank", key_id="bank-k1")
    ring = load_keyring(tmp_path, party="bank")
    text = repr(ring)
    assert ring.own_signing.private_key_hex not in text
    link = ring.sm4_keys["bureau-k1"]
    assert link.hex() not in text and str(link) not in text


def test_missing_private_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_keyring(tmp_path, party="bank")


def test_a_tampered_private_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    write_party_keys(tmp_path, party="bank", key_id="bank-k1", links=())
    path = tmp_path / "bank.sm2.private.json"
    data = json.loads(path.read_text())
    data["public_key_hex"] = generate_sm2_keypair().public_key_hex
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigurationError):
        load_keyring(tmp_path, party="bank")


def test_keyring_refuses_an_unknown_signature_encoding(pair: SM2KeyPair) -> None:
    with pytest.raises(ConfigurationError):
        KeyRing("k", pair, {}, {}, signature_encoding="hex")  # type: ignore[arg-type]


def test_party_names_with_path_characters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        write_party_keys(tmp_path, party="../evil", key_id="k1")
