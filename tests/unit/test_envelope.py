"""The sealed national-style envelope: round trips, tamper refusal, key ids, encodings,
responses."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibaodai.clock import SHANGHAI
from yibaodai.errors import GatewayRefused, SignatureInvalid, ValidationFailed, YibaodaiError
from yibaodai.protocol.envelope import (
    OpenedRequest,
    RequestEnvelope,
    ResponseEnvelope,
    canonical_signing_bytes,
    make_msgid,
    open_request,
    open_response,
    parse_inf_time,
    seal_request,
    seal_response,
)
from yibaodai.protocol.keys import KeyRing, load_keyring, write_party_keys
from yibaodai.protocol.sm2 import SignatureEncoding, generate_sm2_keypair, sm2_sign, sm2_verify
from yibaodai.protocol.sm4 import sm4_encrypt

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=SHANGHAI)
INSTITUTION = "H21020200255"
BUREAU_CODE = "YBJ210200001"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyRing]:
    d: Path = tmp_path_factory.mktemp("keys")
    write_party_keys(d, party="bureau", key_id="bureau-k1")
    write_party_keys(d, party="bank", key_id="bank-k1")
    write_party_keys(d, party="headoffice", key_id="ho-k1")
    return {p: load_keyring(d, party=p) for p in ("bureau", "bank", "headoffice")}


def _seal(ring: KeyRing, input: dict[str, Any], peer: str = "bank-k1", **kw: Any) -> dict[str, Any]:
    return seal_request(
        infno="8101",
        input=input,
        sender_code=BUREAU_CODE,
        fixmedins_code=INSTITUTION,
        fixmedins_name="大连市中山区某某医院",
        area="210202",
        keyring=ring,
        peer_key_id=peer,
        now=NOW,
        seq=7,
        **kw,
    )


def _wire(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


SAMPLE_INPUT: dict[str, Any] = {
    "fixmedins_code": INSTITUTION,
    "data": [
        {
            "setl_date": "2026-03-01",
            "medfee_sumamt": Decimal("1234.50"),
            "fund_pay_sumamt": Decimal("1E+3"),
            "cnt": 12,
        }
    ],
}


@pytest.fixture(scope="module")
def sealed(keys: dict[str, KeyRing]) -> dict[str, Any]:
    return _seal(keys["bureau"], SAMPLE_INPUT)


# -------------------------------------------------------------------------------- round trip


def test_sealed_request_opens_to_the_same_input_with_decimals_as_strings(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    opened = open_request(_wire(sealed), keyring=keys["bank"])
    assert isinstance(opened, OpenedRequest)
    assert opened.input == {
        "fixmedins_code": INSTITUTION,
        "data": [
            {
                "setl_date": "2026-03-01",
                "medfee_sumamt": "1234.50",
                "fund_pay_sumamt": "1000",
                "cnt": 12,
            }
        ],
    }
    assert Decimal(opened.input["data"][0]["medfee_sumamt"]) == Decimal("1234.50")
    assert opened.key_id == "bureau-k1" == opened.envelope.key_id
    assert opened.raw_body == _wire(sealed)


def test_sealed_request_carries_the_national_fields(sealed: dict[str, Any]) -> None:
    assert sealed["infno"] == "8101"
    assert sealed["msgid"] == BUREAU_CODE + "20260302093015" + "0007"
    assert len(sealed["msgid"]) == 30
    assert sealed["inf_time"] == "2026-03-02 09:30:15"
    assert sealed["mdtrtarea_admvs"] == sealed["insuplc_admdvs"] == "210202"
    assert (sealed["signtype"], sealed["infver"], sealed["opter_type"]) == ("SM2", "V1.0", "1")
    assert re.fullmatch(r"[0-9a-f]{32}", sealed["nonce"])
    assert set(sealed) == set(RequestEnvelope.model_fields)


def test_sealed_input_is_ciphertext_not_plaintext(sealed: dict[str, Any]) -> None:
    blob = base64.b64decode(sealed["input"], validate=True)
    assert len(blob) % 16 == 0 and len(blob) >= 32
    assert b"1234.50" not in blob and INSTITUTION.encode() not in blob


def test_two_seals_of_the_same_input_differ_in_nonce_iv_and_signature(
    keys: dict[str, KeyRing],
) -> None:
    a, b = _seal(keys["bureau"], {"x": 1}), _seal(keys["bureau"], {"x": 1})
    assert a["nonce"] != b["nonce"] and a["input"] != b["input"] and a["cainfo"] != b["cainfo"]


def test_cainfo_signs_the_documented_canonical_string(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    fields = {k: v for k, v in sealed.items() if k != "cainfo"}
    expected = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )
    assert canonical_signing_bytes(sealed) == expected
    assert "大连市中山区".encode() in expected  # not \\u-escaped
    public = keys["bank"].peer_public_keys["bureau-k1"]
    assert sm2_verify(public, expected, sealed["cainfo"])


def test_a_dict_can_be_opened_as_well_as_bytes(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    assert open_request(dict(sealed), keyring=keys["bank"]).input["fixmedins_code"] == INSTITUTION


def test_bank_and_head_office_exchange_on_their_own_link(keys: dict[str, KeyRing]) -> None:
    env = seal_request(
        infno="8201",
        input={"batch": "B1"},
        sender_code="BANK00000001",
        fixmedins_code=INSTITUTION,
        fixmedins_name="某医院",
        area="210200",
        keyring=keys["bank"],
        peer_key_id="ho-k1",
        now=NOW,
        seq=1,
    )
    assert open_request(_wire(env), keyring=keys["headoffice"]).input == {"batch": "B1"}
    # the bureau knows the bank's public key (signature verifies) but not the bank-HO link key
    with pytest.raises(GatewayRefused) as exc:
        open_request(_wire(env), keyring=keys["bureau"])
    assert exc.value.code == "decrypt_failed"


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(
        [
            "医保贷",
            "'; DROP TABLE loans; --",
            "<script>alert(1)</script>",
            '\\u0000"\\',
            "{{7*7}}",
            "${jndi:ldap://x}",
            "\u202e",
            "\x00",
        ]
    )
    | st.decimals(allow_nan=False, allow_infinity=False, places=2).map(lambda d: format(d, "f"))
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(payload=st.dictionaries(st.text(max_size=12), json_values, max_size=6))
@settings(max_examples=60, deadline=None)
def test_any_json_object_round_trips_through_seal_and_open(payload: dict[str, Any]) -> None:
    keys = _KEYS_FOR_HYPOTHESIS
    opened = open_request(_wire(_seal(keys["bureau"], payload)), keyring=keys["bank"])
    assert opened.input == payload


def _module_keys() -> dict[str, KeyRing]:
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="yibaodai-envelope-keys-"))
    write_party_keys(d, party="bureau", key_id="bureau-k1")
    write_party_keys(d, party="bank", key_id="bank-k1")
    return {p: load_keyring(d, party=p) for p in ("bureau", "bank")}


_KEYS_FOR_HYPOTHESIS = _module_keys()


# ----------------------------------------------------------------------------------- tamper

SIGNED_FIELDS = sorted(set(RequestEnvelope.model_fields))
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F)) + "医保"


@given(
    field=st.sampled_from(SIGNED_FIELDS),
    position=st.integers(min_value=0, max_value=10_000),
    replacement=st.sampled_from(PRINTABLE),
)
@settings(max_examples=250, deadline=None)
def test_changing_any_character_of_any_field_is_refused(
    field: str, position: int, replacement: str
) -> None:
    keys = _KEYS_FOR_HYPOTHESIS
    envelope = _SEALED_FOR_HYPOTHESIS
    value = envelope[field]
    if value == "":
        mutated = replacement
    else:
        i = position % len(value)
        if value[i] == replacement:
            replacement = "A" if replacement != "A" else "B"
        mutated = value[:i] + replacement + value[i + 1 :]
    tampered = {**envelope, field: mutated}
    with pytest.raises((SignatureInvalid, ValidationFailed)):
        open_request(_wire(tampered), keyring=keys["bank"])


_SEALED_FOR_HYPOTHESIS = _seal(_KEYS_FOR_HYPOTHESIS["bureau"], SAMPLE_INPUT)


def test_every_single_byte_change_of_the_wire_body_is_refused() -> None:
    keys = _KEYS_FOR_HYPOTHESIS
    body = _wire(_SEALED_FOR_HYPOTHESIS)
    assert open_request(body, keyring=keys["bank"]).input  # the untouched body opens
    for i in range(len(body)):
        for flip in (0x01, 0x20):
            tampered = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
            with pytest.raises(YibaodaiError):
                open_request(tampered, keyring=keys["bank"])


def test_removing_or_adding_a_field_is_refused(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    for name in SIGNED_FIELDS:
        if name == "cainfo":
            continue
        with pytest.raises(ValidationFailed) as exc:
            open_request({k: v for k, v in sealed.items() if k != name}, keyring=keys["bank"])
        assert [f.field for f in exc.value.fields] == [name]
    with pytest.raises(ValidationFailed) as exc:
        open_request({**sealed, "extra": "x"}, keyring=keys["bank"])
    assert exc.value.fields[0].field == "extra"


# ---------------------------------------------------------------------------- signature/key


def test_missing_or_empty_signature_is_refused_as_missing(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    for envelope in ({k: v for k, v in sealed.items() if k != "cainfo"}, {**sealed, "cainfo": ""}):
        with pytest.raises(SignatureInvalid) as exc:
            open_request(_wire(envelope), keyring=keys["bank"])
        assert exc.value.code == "signature_missing"


def test_unknown_key_id_is_refused(keys: dict[str, KeyRing], sealed: dict[str, Any]) -> None:
    with pytest.raises(SignatureInvalid) as exc:
        open_request(_wire({**sealed, "key_id": "bureau-k9"}), keyring=keys["bank"])
    assert exc.value.code == "unknown_key_id"


def test_a_receiver_that_does_not_know_the_sender_refuses(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    with pytest.raises(SignatureInvalid) as exc:
        open_request(_wire(sealed), keyring=keys["headoffice"])
    assert exc.value.code == "unknown_key_id"


def test_sealing_for_an_unknown_peer_is_refused(keys: dict[str, KeyRing]) -> None:
    with pytest.raises(SignatureInvalid):
        _seal(keys["bureau"], {"x": 1}, peer="nobody")


def test_an_envelope_signed_by_another_key_under_the_senders_key_id_is_refused(
    keys: dict[str, KeyRing],
) -> None:
    impostor = dataclasses.replace(keys["bureau"], own_signing=generate_sm2_keypair())
    with pytest.raises(SignatureInvalid) as exc:
        open_request(_wire(_seal(impostor, {"x": 1})), keyring=keys["bank"])
    assert exc.value.code == "signature_invalid"


def test_a_signature_copied_from_another_envelope_is_refused(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    other = _seal(keys["bureau"], {"x": 1})
    with pytest.raises(SignatureInvalid) as exc:
        open_request(_wire({**sealed, "cainfo": other["cainfo"]}), keyring=keys["bank"])
    assert exc.value.code == "signature_invalid"


@pytest.mark.parametrize("encoding", ["rs_base64", "der_base64"])
def test_both_signature_encodings_round_trip(
    keys: dict[str, KeyRing], encoding: SignatureEncoding
) -> None:
    sender = dataclasses.replace(keys["bureau"], signature_encoding=encoding)
    receiver = dataclasses.replace(keys["bank"], signature_encoding=encoding)
    env = _seal(sender, {"x": "1.00"})
    raw = base64.b64decode(env["cainfo"])
    assert (len(raw) == 64) == (encoding == "rs_base64")
    assert (raw[0] == 0x30) or encoding == "rs_base64"
    assert open_request(_wire(env), keyring=receiver).input == {"x": "1.00"}
    other: SignatureEncoding = "der_base64" if encoding == "rs_base64" else "rs_base64"
    with pytest.raises(SignatureInvalid):
        open_request(
            _wire(env), keyring=dataclasses.replace(keys["bank"], signature_encoding=other)
        )


# --------------------------------------------------------------------------- decrypt / parse


def _hand_sealed(ring: KeyRing, plaintext: bytes, link_key: bytes) -> dict[str, Any]:
    """A correctly signed envelope around arbitrary plaintext (to reach the decrypt stage)."""
    env = _seal(ring, {"x": 1})
    env["input"] = base64.b64encode(sm4_encrypt(link_key, plaintext)).decode()
    env["cainfo"] = sm2_sign(
        ring.own_signing.private_key_hex,
        ring.own_signing.public_key_hex,
        canonical_signing_bytes(env),
    )
    return env


def test_a_signed_envelope_encrypted_with_the_wrong_link_key_fails_to_decrypt(
    keys: dict[str, KeyRing],
) -> None:
    wrong = dataclasses.replace(keys["bureau"], sm4_keys={"bank-k1": bytes(range(16))})
    with pytest.raises(GatewayRefused) as exc:
        open_request(_wire(_seal(wrong, {"x": 1})), keyring=keys["bank"])
    assert exc.value.code == "decrypt_failed" and not isinstance(exc.value, SignatureInvalid)


def test_decrypted_json_that_is_not_an_object_is_a_validation_failure(
    keys: dict[str, KeyRing],
) -> None:
    env = _hand_sealed(keys["bureau"], b"[1,2]", keys["bureau"].sm4_keys["bank-k1"])
    with pytest.raises(ValidationFailed) as exc:
        open_request(_wire(env), keyring=keys["bank"])
    assert exc.value.fields[0].field == "input"


def test_decrypted_bytes_that_are_not_json_are_refused_as_decrypt_failed(
    keys: dict[str, KeyRing],
) -> None:
    env = _hand_sealed(keys["bureau"], b"\xff\xfe not json", keys["bureau"].sm4_keys["bank-k1"])
    with pytest.raises(GatewayRefused) as exc:
        open_request(_wire(env), keyring=keys["bank"])
    assert exc.value.code == "decrypt_failed"


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{", b"[1,2]", b'"x"', b"\xff\xfe", b'{"a":1,"a":2}', b'{"a":NaN}'],
)
def test_malformed_json_is_refused(keys: dict[str, KeyRing], body: bytes) -> None:
    with pytest.raises(GatewayRefused) as exc:
        open_request(body, keyring=keys["bank"])
    assert exc.value.code == "malformed_json"


def test_bad_fields_are_named_one_by_one_in_chinese_and_english(
    keys: dict[str, KeyRing], sealed: dict[str, Any]
) -> None:
    bad = {
        **sealed,
        "infno": "81",
        "opter_type": "9",
        "inf_time": "2026-02-30 10:00:00",
        "fixmedins_code": 123,
    }
    with pytest.raises(ValidationFailed) as exc:
        open_request(_wire(bad), keyring=keys["bank"])
    by_field = {f.field: f for f in exc.value.fields}
    assert set(by_field) == {"infno", "opter_type", "inf_time", "fixmedins_code"}
    assert by_field["infno"].message_zh.startswith("infno：")
    assert by_field["infno"].message_en.startswith("infno: ")
    assert all(re.search(r"[\u4e00-\u9fff]", f.message_zh) for f in exc.value.fields)


# ---------------------------------------------------------------------------------- response


def test_signed_response_opens_and_keeps_its_fields(keys: dict[str, KeyRing]) -> None:
    env = seal_response(
        infcode=0,
        err_msg="",
        output={"accepted": 3, "amt": Decimal("9.90")},
        refmsgid_area="210200",
        serial=42,
        now=NOW,
        keyring=keys["bank"],
    )
    assert env["inf_refmsgid"] == "210200" + "20260302093015" + "0000000042"
    assert env["respond_time"] == env["refmsg_time"] == "20260302093015123"
    opened = open_response(_wire(env), keyring=keys["bureau"])
    assert isinstance(opened, ResponseEnvelope)
    assert (opened.infcode, opened.output, opened.key_id) == (
        0,
        {"accepted": 3, "amt": "9.90"},
        "bank-k1",
    )


def test_error_response_is_readable_and_err_msg_is_cut_to_200(keys: dict[str, KeyRing]) -> None:
    env = seal_response(
        infcode=1,
        err_msg="签名无效" * 100,
        output={},
        refmsgid_area="210200",
        serial=1,
        now=NOW,
        keyring=keys["bank"],
    )
    assert len(env["err_msg"]) == 200
    assert open_response(_wire(env), keyring=keys["bureau"]).infcode == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("infcode", 1),
        ("err_msg", "x"),
        ("output", {"accepted": 4}),
        ("respond_time", "20260302093015124"),
        ("inf_refmsgid", "210200202603020930150000000043"),
    ],
)
def test_tampered_response_is_refused(keys: dict[str, KeyRing], field: str, value: Any) -> None:
    env = seal_response(
        infcode=0,
        err_msg="",
        output={"accepted": 3},
        refmsgid_area="210200",
        serial=42,
        now=NOW,
        keyring=keys["bank"],
    )
    with pytest.raises(SignatureInvalid) as exc:
        open_response(_wire({**env, field: value}), keyring=keys["bureau"])
    assert exc.value.code == "signature_invalid"


def test_response_with_missing_signature_or_unknown_key_is_refused(
    keys: dict[str, KeyRing],
) -> None:
    env = seal_response(
        infcode=0,
        err_msg="",
        output={},
        refmsgid_area="210200",
        serial=1,
        now=NOW,
        keyring=keys["bank"],
    )
    with pytest.raises(SignatureInvalid, match="signature_missing"):
        open_response({**env, "cainfo": ""}, keyring=keys["bureau"])
    with pytest.raises(SignatureInvalid, match="unknown_key_id"):
        open_response(env, keyring=keys["bank"])  # the bank does not list itself as a peer


def test_response_with_a_number_that_overflows_is_refused_not_crashed(
    keys: dict[str, KeyRing],
) -> None:
    env = seal_response(
        infcode=0,
        err_msg="",
        output={"n": 1},
        refmsgid_area="210200",
        serial=1,
        now=NOW,
        keyring=keys["bank"],
    )
    body = _wire(env).replace(b'"n":1', b'"n":1e400')
    with pytest.raises(SignatureInvalid):
        open_response(body, keyring=keys["bureau"])


@pytest.mark.parametrize("encoding", ["rs_base64", "der_base64"])
def test_responses_round_trip_in_both_signature_encodings(
    keys: dict[str, KeyRing], encoding: SignatureEncoding
) -> None:
    bank = dataclasses.replace(keys["bank"], signature_encoding=encoding)
    bureau = dataclasses.replace(keys["bureau"], signature_encoding=encoding)
    env = seal_response(
        infcode=0,
        err_msg="",
        output={"ok": True},
        refmsgid_area="210200",
        serial=1,
        now=NOW,
        keyring=bank,
    )
    assert open_response(env, keyring=bureau).output == {"ok": True}


# ------------------------------------------------------------------------------ small helpers


def test_inf_time_parses_as_shanghai_time() -> None:
    t = parse_inf_time("2026-03-02 09:30:15")
    assert t == datetime(2026, 3, 2, 1, 30, 15, tzinfo=UTC)
    assert t.utcoffset() is not None and t.tzinfo == SHANGHAI


@pytest.mark.parametrize(
    "text", ["2026-03-02T09:30:15", "2026-02-30 09:30:15", "", "now", "2026-03-02 24:00:00"]
)
def test_bad_inf_time_is_a_validation_failure(text: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_inf_time(text)
    assert exc.value.fields[0].field == "inf_time"


def test_msgid_uses_shanghai_time_even_when_given_utc() -> None:
    utc = datetime(2026, 3, 1, 16, 0, 0, tzinfo=UTC)
    assert make_msgid("H21020200255", utc, 12) == "H21020200255" + "20260302000000" + "0012"


@pytest.mark.parametrize(
    ("code", "seq"),
    [("SHORT", 1), ("H2102020025!", 1), ("H21020200255", 10000), ("H21020200255", -1)],
)
def test_msgid_refuses_bad_sender_codes_and_sequences(code: str, seq: int) -> None:
    with pytest.raises(ValueError):
        make_msgid(code, NOW, seq)


def test_sealing_with_bad_national_fields_is_refused_before_signing(
    keys: dict[str, KeyRing],
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        seal_request(
            infno="81A1",
            input={},
            sender_code=BUREAU_CODE,
            fixmedins_code="h123",
            fixmedins_name="x",
            area="2102",
            keyring=keys["bureau"],
            peer_key_id="bank-k1",
            now=NOW,
            seq=1,
        )
    assert {f.field for f in exc.value.fields} == {
        "infno",
        "fixmedins_code",
        "mdtrtarea_admvs",
        "insuplc_admdvs",
    }


def test_sealing_refuses_values_json_cannot_carry(keys: dict[str, KeyRing]) -> None:
    with pytest.raises(TypeError):
        _seal(keys["bureau"], {"when": datetime(2026, 1, 1)})
    with pytest.raises(ValueError):
        _seal(keys["bureau"], {"amt": Decimal("NaN")})
    with pytest.raises(ValueError):
        _seal(keys["bureau"], {"x": float("inf")})
