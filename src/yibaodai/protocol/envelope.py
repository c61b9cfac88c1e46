"""The national-style message envelope, sealed with national cryptography. No network, no database.

Request (bureau -> bank, bank -> head office, ...)
=================================================

Wire form: one JSON object with the national request fields (``infno``, ``msgid``,
``mdtrtarea_admvs``, ``insuplc_admdvs``, ``recer_sys_code``, ``dev_no``, ``dev_safe_info``,
``cainfo``, ``signtype``, ``infver``, ``opter_type``, ``opter``, ``opter_name``, ``inf_time``,
``fixmedins_code``, ``fixmedins_name``, ``sign_no``, ``input``) plus two bank extensions:
``key_id`` (the sender's key id: which SM2 key signed, and which link SM4 key encrypted) and
``nonce`` (32 random lower-case hex characters, for the gateway's replay check). No other field is
accepted; every field is required except ``cainfo`` (absent = empty = "signature_missing"), so
the signed field set is always the same.

Sealing (:func:`seal_request`):

1. ``input`` (a dict) is serialised as compact UTF-8 JSON: ``sort_keys=True``,
   ``separators=(",", ":")``, ``ensure_ascii=False``, ``allow_nan=False``. **Decimals are sent as
   JSON strings** in fixed-point notation (``Decimal("1234.50")`` -> ``"1234.50"``), never as JSON
   numbers, so no float ever touches an amount; receivers parse amount strings with ``Decimal``.
2. Those bytes are encrypted with SM4-CBC (random IV prepended, see ``crypto``) under the SM4 key of
   the link with the receiver, and ``input`` becomes the standard base64 of that blob.
3. The **canonical signing string** is: every envelope field except ``cainfo`` (so including the
   base64 ``input``, ``key_id`` and ``nonce``), as one JSON object with ``sort_keys=True``,
   ``separators=(",", ":")``, ``ensure_ascii=False``, encoded UTF-8. It is signed with SM3withSM2
   (user ID ``1234567812345678``) and the signature (encoding per key ring: ``rs_base64`` or
   ``der_base64``) goes into ``cainfo``. ``signtype`` is ``"SM2"``.

Opening (:func:`open_request`) goes: parse JSON (duplicate keys, NaN/Infinity refused) ->
validate the fields -> look up the sender's public key by ``key_id`` -> verify ``cainfo`` -> only
then decrypt -> parse the inner JSON (must be an object). The time window and nonce replay checks
belong to the gateway service (it owns the clock and the nonce store); use :func:`parse_inf_time`.

Response
========

``infcode`` (0 = success), ``inf_refmsgid`` (6-digit area + ``yyyyMMddHHmmss`` + 10-digit serial),
``refmsg_time`` and ``respond_time`` (``yyyyMMddHHmmssSSS``, Asia/Shanghai), ``err_msg`` (<= 200
chars), ``output`` (a JSON object), ``key_id`` and ``cainfo``. The response ``output`` is **plain
JSON, signed but not encrypted**, so that error answers stay readable in logs and by the sender
even when decryption was what failed; do not put confidential data into responses. The canonical
signing string is built exactly as for requests (every field except ``cainfo``; ``output`` nested
with sorted keys; Decimals in ``output`` converted to strings the same way).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from yibaodai.clock import SHANGHAI
from yibaodai.errors import FieldError, GatewayRefused, SignatureInvalid, ValidationFailed
from yibaodai.protocol.keys import KeyRing
from yibaodai.protocol.sm2 import sm2_sign, sm2_verify
from yibaodai.protocol.sm4 import sm4_decrypt, sm4_encrypt

INF_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_MSGID_TIME_FORMAT = "%Y%m%d%H%M%S"
_KEY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_SENDER_CODE_RE = re.compile(r"^[A-Za-z0-9]{12}$")
_AREA_RE = re.compile(r"^[0-9]{6}$")
#: ASCII digits only: ``\d`` would also match full-width and other Unicode digits, which
#: ``strptime`` then reads as numbers.
_INF_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


# ------------------------------------------------------------------------------------- times


def _shanghai(now: datetime) -> datetime:
    return now.replace(tzinfo=SHANGHAI) if now.tzinfo is None else now.astimezone(SHANGHAI)


def parse_inf_time(s: str) -> datetime:
    """``"yyyy-MM-dd HH:mm:ss"`` -> aware datetime in Asia/Shanghai (ValidationFailed if bad)."""
    if not isinstance(s, str) or not _INF_TIME_RE.fullmatch(s):
        raise _invalid(
            "inf_time",
            "时间格式应为 yyyy-MM-dd HH:mm:ss",
            "time must be formatted yyyy-MM-dd HH:mm:ss",
        )
    try:
        return datetime.strptime(s, INF_TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise _invalid("inf_time", "时间不存在", "no such date or time") from None


def format_inf_time(now: datetime) -> str:
    return _shanghai(now).strftime(INF_TIME_FORMAT)


def _format_ms_time(now: datetime) -> str:
    t = _shanghai(now)
    return t.strftime("%Y%m%d%H%M%S") + f"{t.microsecond // 1000:03d}"


def make_msgid(sender_code: str, now: datetime, seq: int) -> str:
    """30 chars: 12-char sender/institution code + ``yyyyMMddHHmmss`` (Asia/Shanghai) + 4-digit
    sequence (0..9999)."""
    if not _SENDER_CODE_RE.fullmatch(sender_code):
        raise ValueError("sender_code must be 12 ASCII letters or digits")
    if not 0 <= seq <= 9999:
        raise ValueError("seq must be in 0..9999")
    return f"{sender_code}{_shanghai(now).strftime(_MSGID_TIME_FORMAT)}{seq:04d}"


# ------------------------------------------------------------------------------------ errors


def _invalid(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        message_zh="报文字段校验失败",
        message_en="message fields are invalid",
        code="invalid_envelope",
        fields=[FieldError(field, f"{field}：{zh}", f"{field}: {en}")],
    )


_ZH_BY_TYPE = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "dict_type": "应为 JSON 对象",
    "string_pattern_mismatch": "格式不正确",
    "string_too_long": "长度超出上限",
    "string_too_short": "长度不足",
    "literal_error": "取值不在允许范围内",
    "value_error": "取值无效",
}


def _validation_failed(exc: ValidationError) -> ValidationFailed:
    fields: list[FieldError] = []
    for err in exc.errors(include_url=False):
        name = ".".join(str(p) for p in err["loc"]) or "envelope"
        zh = _ZH_BY_TYPE.get(err["type"], "字段无效")
        en = str(err["msg"])
        fields.append(FieldError(name, f"{name}：{zh}", f"{name}: {en}"))
    return ValidationFailed(
        message_zh="报文字段校验失败",
        message_en="message fields are invalid",
        code="invalid_envelope",
        fields=fields,
    )


# ------------------------------------------------------------------------------------ models

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class RequestEnvelope(BaseModel):
    """A sealed request as it travels (``input`` is the base64 SM4 ciphertext)."""

    model_config = _STRICT

    infno: str = Field(pattern=r"^[0-9]{4}$")
    msgid: str = Field(pattern=r"^[A-Za-z0-9]{12}[0-9]{14}[0-9]{4}$")
    mdtrtarea_admvs: str = Field(pattern=r"^[0-9]{6}$")
    insuplc_admdvs: str = Field(pattern=r"^[0-9]{6}$")
    recer_sys_code: str = Field(min_length=1, max_length=30)
    dev_no: str = Field(max_length=100)
    dev_safe_info: str = Field(max_length=2000)
    cainfo: str = Field(default="", max_length=512)
    signtype: Literal["SM2"]
    infver: Literal["V1.0"]
    opter_type: Literal["1", "2", "3"]
    opter: str = Field(min_length=1, max_length=30)
    opter_name: str = Field(min_length=1, max_length=50)
    inf_time: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$")
    fixmedins_code: str = Field(pattern=r"^[A-Z][0-9]{11}$")
    fixmedins_name: str = Field(min_length=1, max_length=200)
    sign_no: str = Field(max_length=30)
    input: str = Field(min_length=1, pattern=r"^[A-Za-z0-9+/]+={0,2}$")
    key_id: str = Field(pattern=_KEY_ID_PATTERN)
    nonce: str = Field(pattern=r"^[0-9a-f]{32}$")

    @field_validator("inf_time")
    @classmethod
    def _real_time(cls, v: str) -> str:
        datetime.strptime(v, INF_TIME_FORMAT)  # ValueError -> value_error
        return v

    @field_validator("msgid")
    @classmethod
    def _real_msgid_time(cls, v: str) -> str:
        datetime.strptime(v[12:26], _MSGID_TIME_FORMAT)
        return v


class ResponseEnvelope(BaseModel):
    """A signed response (``output`` is plain JSON, see the module docstring)."""

    model_config = _STRICT

    infcode: int
    inf_refmsgid: str = Field(pattern=r"^[0-9]{30}$")
    refmsg_time: str = Field(pattern=r"^[0-9]{17}$")
    respond_time: str = Field(pattern=r"^[0-9]{17}$")
    err_msg: str = Field(max_length=200)
    output: dict[str, Any]
    key_id: str = Field(pattern=_KEY_ID_PATTERN)
    cainfo: str = Field(default="", max_length=512)

    @field_validator("refmsg_time", "respond_time")
    @classmethod
    def _real_ms_time(cls, v: str) -> str:
        datetime.strptime(v[:14], _MSGID_TIME_FORMAT)
        return v

    @field_validator("inf_refmsgid")
    @classmethod
    def _real_refmsgid_time(cls, v: str) -> str:
        datetime.strptime(v[6:20], _MSGID_TIME_FORMAT)
        return v


@dataclass(frozen=True)
class OpenedRequest:
    envelope: RequestEnvelope
    input: dict[str, Any]
    raw_body: bytes
    key_id: str


# ------------------------------------------------------------------------------- JSON helpers


def to_jsonable(value: Any) -> Any:
    """Copy ``value`` for JSON: Decimal -> fixed-point string (``"1234.50"``), tuple -> list.
    Refuses non-string keys, non-finite numbers and other types (TypeError/ValueError)."""
    # Fast paths for what messages are made of (a list of flat rows of strings and ints: a
    # 1000-row 8301 is ~11,000 values); anything else takes the general path below.
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str and not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, got {type(k).__name__}")
            t = type(v)
            out[k] = v if t is str or t is int or v is None else to_jsonable(v)
        return out
    if kind is list:
        return [to_jsonable(v) for v in value]
    return _to_jsonable(value)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("non-finite Decimal cannot be sent")
        return format(value, "f")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, got {type(k).__name__}")
            out[k] = to_jsonable(v)
        return out
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} in a message")


def _compact(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


#: The bytes ``json.dumps(..., ensure_ascii=False)`` writes as they are inside a string:
#: printable ASCII except ``"`` and backslash (it escapes nothing else).
_JSON_VERBATIM = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')
_INPUT_PLACEHOLDER = b'"input":""'


def _verbatim_json_string(value: str) -> bytes | None:
    """``value`` as ASCII bytes when its JSON text is those bytes in double quotes, else None."""
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        return None
    return None if raw.translate(None, _JSON_VERBATIM) else raw


def canonical_signing_bytes(envelope: Mapping[str, Any]) -> bytes:
    """The bytes that ``cainfo`` signs: every field except ``cainfo``, sorted-key compact JSON,
    ``ensure_ascii=False``, UTF-8.

    A large ``input`` (base64: printable ASCII) is spliced in as it is instead of being run
    through the JSON encoder again (megabytes for a large 8301 message); the bytes are the
    same (``tests/integration/test_gateway_fastpaths.py``)."""
    fields = {k: v for k, v in envelope.items() if k != "cainfo"}
    big = fields.get("input")
    raw = _verbatim_json_string(big) if isinstance(big, str) and len(big) > 4096 else None
    if raw is not None:
        head = _compact({**fields, "input": ""})
        # Exactly once means it is the key itself (JSON text of a string value holds no
        # unescaped quote, so the real key is always one of the occurrences).
        if head.count(_INPUT_PLACEHOLDER) == 1:
            at = head.index(_INPUT_PLACEHOLDER)
            return b"".join((head[:at], b'"input":"', raw, b'"',
                             head[at + len(_INPUT_PLACEHOLDER):]))
    return _compact(fields)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # C speed; the loop below only runs to name the duplicate
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise ValueError(f"duplicate key {k!r}")
            seen.add(k)
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_loads(data: bytes | str) -> Any:
    return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)


def _parse_outer(raw: bytes | Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
    if isinstance(raw, Mapping):
        body = dict(raw)
        try:
            return body, _compact(body)
        except (TypeError, ValueError) as exc:
            raise GatewayRefused(
                message_zh="报文不是合法的 JSON",
                message_en="the message is not valid JSON",
                code="malformed_json",
            ) from exc
    if not isinstance(raw, bytes | bytearray):
        raise TypeError("raw must be bytes or a dict")
    raw_body = bytes(raw)
    try:
        parsed = _strict_loads(raw_body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # includes UnicodeDecodeError, JSONDecodeError
        raise GatewayRefused(
            message_zh="报文不是合法的 JSON",
            message_en="the message is not valid JSON",
            code="malformed_json",
        ) from exc
    if not isinstance(parsed, dict):
        raise GatewayRefused(
            message_zh="报文必须是 JSON 对象",
            message_en="the message must be a JSON object",
            code="malformed_json",
        )
    return parsed, raw_body


def _verify(fields: Mapping[str, Any], cainfo: str, key_id: str, keyring: KeyRing) -> None:
    if not cainfo:
        raise SignatureInvalid(
            message_zh="报文缺少签名（cainfo）",
            message_en="the message has no signature (cainfo)",
            code="signature_missing",
        )
    public_key = keyring.peer_public_keys.get(key_id)
    if public_key is None:
        raise SignatureInvalid(
            message_zh=f"未知的密钥标识：{key_id}",
            message_en=f"unknown key id: {key_id}",
            code="unknown_key_id",
        )
    try:
        signed = canonical_signing_bytes(fields)
    except (TypeError, ValueError):  # e.g. a number that overflowed to inf while parsing
        signed = None
    if signed is None or not sm2_verify(
        public_key,
        signed,
        cainfo,
        encoding=keyring.signature_encoding,
        user_id=keyring.user_id,
    ):
        raise SignatureInvalid(
            message_zh="报文签名验证失败",
            message_en="the message signature does not verify",
            code="signature_invalid",
        )


def _sign(fields: Mapping[str, Any], keyring: KeyRing) -> str:
    pair = keyring.own_signing
    return sm2_sign(
        pair.private_key_hex,
        pair.public_key_hex,
        canonical_signing_bytes(fields),
        encoding=keyring.signature_encoding,
        user_id=keyring.user_id,
    )


# ----------------------------------------------------------------------------------- request


def seal_request(
    *,
    infno: str,
    input: Mapping[str, Any],
    sender_code: str,
    fixmedins_code: str,
    fixmedins_name: str,
    area: str,
    keyring: KeyRing,
    peer_key_id: str,
    now: datetime,
    seq: int,
    insuplc_area: str | None = None,
    opter: str = "system",
    opter_name: str = "系统",
    opter_type: Literal["1", "2", "3"] = "1",
    recer_sys_code: str = "YIBAODAI",
    dev_no: str = "",
    dev_safe_info: str = "",
    sign_no: str = "",
    nonce: str | None = None,
) -> dict[str, Any]:
    """Build, encrypt and sign a request envelope; returns the wire dict (send it as
    ``json.dumps(..., ensure_ascii=False, separators=(",", ":")).encode()``).

    ``area`` fills ``mdtrtarea_admvs`` (and ``insuplc_admdvs`` unless ``insuplc_area`` is given);
    ``peer_key_id`` is the receiver's key id (selects the SM4 link key). ``input`` may hold
    Decimals (sent as strings); the envelope is validated before it is returned (ValidationFailed).
    """
    if not isinstance(input, Mapping):
        raise TypeError("input must be a dict")
    if peer_key_id not in keyring.peer_public_keys:
        raise SignatureInvalid(
            message_zh=f"未知的接收方密钥标识：{peer_key_id}",
            message_en=f"unknown receiver key id: {peer_key_id}",
            code="unknown_key_id",
        )
    plaintext = _compact(to_jsonable(input))
    blob = sm4_encrypt(keyring.link_key(peer_key_id), plaintext)
    fields: dict[str, Any] = {
        "infno": infno,
        "msgid": make_msgid(sender_code, now, seq),
        "mdtrtarea_admvs": area,
        "insuplc_admdvs": area if insuplc_area is None else insuplc_area,
        "recer_sys_code": recer_sys_code,
        "dev_no": dev_no,
        "dev_safe_info": dev_safe_info,
        "signtype": "SM2",
        "infver": "V1.0",
        "opter_type": opter_type,
        "opter": opter,
        "opter_name": opter_name,
        "inf_time": format_inf_time(now),
        "fixmedins_code": fixmedins_code,
        "fixmedins_name": fixmedins_name,
        "sign_no": sign_no,
        "input": base64.b64encode(blob).decode("ascii"),
        "key_id": keyring.own_key_id,
        "nonce": secrets.token_hex(16) if nonce is None else nonce,
    }
    fields["cainfo"] = ""
    try:
        RequestEnvelope.model_validate(fields)
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    fields["cainfo"] = _sign(fields, keyring)
    return fields


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose envelope is valid and whose signature verifies (``input`` still sealed)."""

    envelope: RequestEnvelope
    raw_body: bytes
    key_id: str


def verify_request(raw: bytes | Mapping[str, Any], *, keyring: KeyRing) -> VerifiedRequest:
    """The first half of :func:`open_request`: parse, validate, verify (same errors)."""
    body, raw_body = _parse_outer(raw)
    try:
        envelope = RequestEnvelope.model_validate(body)
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    fields = envelope.model_dump()
    _verify(fields, envelope.cainfo, envelope.key_id, keyring)
    return VerifiedRequest(envelope=envelope, raw_body=raw_body, key_id=envelope.key_id)


def decrypt_request(verified: VerifiedRequest, *, keyring: KeyRing) -> OpenedRequest:
    """The second half of :func:`open_request`: decrypt ``input`` and parse it (same errors)."""
    envelope = verified.envelope
    key = keyring.sm4_keys.get(envelope.key_id)
    if key is None:
        raise GatewayRefused(
            message_zh=f"没有与密钥 {envelope.key_id} 对应的链路密钥",
            message_en=f"no link key for key id {envelope.key_id}",
            code="decrypt_failed",
        )
    try:
        blob = base64.b64decode(envelope.input, validate=True)
    except (binascii.Error, ValueError):
        raise GatewayRefused(
            message_zh="报文解密失败：input 不是合法的 base64",
            message_en="decryption failed: input is not valid base64",
            code="decrypt_failed",
        ) from None
    plaintext = sm4_decrypt(key, blob)
    try:
        inner = _strict_loads(plaintext.decode("utf-8"))
    except (ValueError, RecursionError):
        raise GatewayRefused(
            message_zh="报文解密失败：解密结果不是合法的 JSON（密钥错误或数据损坏）",
            message_en="decryption failed: plaintext is not JSON (wrong key or corrupt data)",
            code="decrypt_failed",
        ) from None
    if not isinstance(inner, dict):
        raise _invalid("input", "应为 JSON 对象", "must be a JSON object")
    return OpenedRequest(envelope=envelope, input=inner, raw_body=verified.raw_body,
                         key_id=verified.key_id)


def open_request(raw: bytes | Mapping[str, Any], *, keyring: KeyRing) -> OpenedRequest:
    """Parse, validate, verify, decrypt. Raises ``GatewayRefused`` ("malformed_json",
    "decrypt_failed"), ``ValidationFailed`` (field errors), ``SignatureInvalid``
    ("signature_missing", "unknown_key_id", "signature_invalid"). No time/replay checks here.
    (:func:`verify_request` then :func:`decrypt_request`.)"""
    return decrypt_request(verify_request(raw, keyring=keyring), keyring=keyring)


# ---------------------------------------------------------------------------------- response


def seal_response(
    *,
    infcode: int,
    err_msg: str,
    output: Mapping[str, Any],
    refmsgid_area: str,
    serial: int,
    now: datetime,
    keyring: KeyRing,
    received_at: datetime | None = None,
) -> dict[str, Any]:
    """Build and sign a response. ``inf_refmsgid`` = ``refmsgid_area`` + ``now`` as
    ``yyyyMMddHHmmss`` + ``serial`` as 10 digits; ``refmsg_time`` is ``received_at`` (default
    ``now``), ``respond_time`` is ``now``. ``err_msg`` longer than 200 characters is cut to 200."""
    if not _AREA_RE.fullmatch(refmsgid_area):
        raise ValueError("refmsgid_area must be 6 digits")
    if not 0 <= serial <= 9_999_999_999:
        raise ValueError("serial must fit in 10 digits")
    fields: dict[str, Any] = {
        "infcode": infcode,
        "inf_refmsgid": f"{refmsgid_area}{_shanghai(now).strftime(_MSGID_TIME_FORMAT)}"
        f"{serial:010d}",
        "refmsg_time": _format_ms_time(now if received_at is None else received_at),
        "respond_time": _format_ms_time(now),
        "err_msg": err_msg[:200],
        "output": to_jsonable(output),
        "key_id": keyring.own_key_id,
        "cainfo": "",
    }
    try:
        ResponseEnvelope.model_validate(fields)
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    fields["cainfo"] = _sign(fields, keyring)
    return fields


def open_response(raw: bytes | Mapping[str, Any], *, keyring: KeyRing) -> ResponseEnvelope:
    """Parse, validate and verify a response (same errors as :func:`open_request`)."""
    body, _ = _parse_outer(raw)
    try:
        envelope = ResponseEnvelope.model_validate(body)
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    _verify(envelope.model_dump(), envelope.cainfo, envelope.key_id, keyring)
    return envelope
