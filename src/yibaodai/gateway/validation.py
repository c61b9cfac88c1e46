"""Checking one message's rows (``parse_rows``): scans of the whole ``input`` (control
characters, personal fields), one row model per ``infno`` (``rows``), the envelope's
institution on every row and dates that cannot be true yet. Every problem becomes a
field-level message in Chinese and English; a message with any bad row is refused whole.

Plain 8301 rows skip pydantic through ``fast_daily``, which accepts only what the model
accepts (fuzzed in ``tests/unit/test_rows.py``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from pydantic import ValidationError

from yibaodai.domain.codes import validate_institution_code
from yibaodai.domain.text import KIND_TEXT, hidden_character
from yibaodai.errors import FieldError, ValidationFailed, YibaodaiError
from yibaodai.gateway.rows import (
    AUTH_MAX_LEAD,
    AUTH_MAX_SPAN,
    BAD_CHARS_RE,
    CENT,
    CLR_TYPES,
    DATE_RE,
    EARLIEST_DATE,
    INSUTYPES,
    MAX_DAILY_COUNT,
    MAX_ROWS,
    PERSONAL_FIELDS,
    RECORD_KEYS,
    ROW_MODELS,
    AuthorizationGranted,
    AuthorizationRevoked,
    BureauRow,
    ClrType,
    DailySummary,
    FundDisbursement,
    InstitutionEvent,
    InstitutionProfile,
    Insutype,
    ReconciliationTotal,
    daily_problem,
)

_ZH_BY_TYPE = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "bool_type": "应为布尔值",
    "float_type": "应为数值",
    "float_parsing": "应为数值",
    "finite_number": "应为有限数值",
    "list_type": "应为数组",
    "too_short": "元素过少",
    "too_long": "元素过多",
    "date_type": "应为日期",
    "date_from_datetime_inexact": "应为日期（不含时间）",
    "date_parsing": "日期格式或取值无效",
    "date_from_datetime_parsing": "日期格式或取值无效",
    "datetime_type": "应为日期时间",
    "datetime_parsing": "日期时间格式或取值无效",
    "datetime_from_date_parsing": "日期时间格式或取值无效",
    "string_too_long": "长度超出上限",
    "string_too_short": "长度不足",
    "string_pattern_mismatch": "格式不正确",
    "literal_error": "取值不在允许范围内",
    "greater_than_equal": "取值小于下限（如负数）",
    "greater_than": "取值过小",
    "less_than_equal": "取值超过上限",
    "less_than": "取值过大",
    "decimal_type": "应为十进制金额",
    "model_type": "应为对象",
}


def _split_message(msg: str) -> tuple[str, str]:
    """Our own validators say ``"中文 / English"``; split that into its two languages."""
    for sep in (" / ", "/ "):
        if sep in msg:
            zh, en = msg.split(sep, 1)
            return zh.strip(), en.strip()
    return msg, msg


def _pydantic_field_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    out: list[FieldError] = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"])
        where = prefix + (f".{loc}" if loc else "")
        msg = str(e["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if e["type"] in {"value_error", "assertion_error"}:
            zh, en = _split_message(msg)
        else:
            zh, en = _ZH_BY_TYPE.get(e["type"], "字段取值无效"), msg
        out.append(FieldError(where, f"{where}：{zh}", f"{where}: {en} ({e['type']})"))
    return out


def _safe_key(key: str) -> str:
    return key if not BAD_CHARS_RE.search(key) else key.encode(
        "utf-8", "backslashreplace").decode("ascii", "backslashreplace")


def _hidden_error(path: str, kind: str) -> FieldError:
    zh, en = KIND_TEXT[kind]
    return FieldError(path, f"{path}：{zh}", f"{path}: {en} ({kind})")


def find_bad_strings(value: Any, path: str = "input") -> list[tuple[str, str]]:
    """(path, kind) of every string, value or key, that breaks the text rule
    (``domain.text``: controls, format and bidirectional characters, separators, lone
    surrogates, noncharacters)."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        kind = hidden_character(value)
        if kind is not None:
            found.append((path, kind))
    elif isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{_safe_key(str(k))}"
            kind = hidden_character(str(k))
            if kind is not None:
                found.append((sub, kind))
            else:
                found.extend(find_bad_strings(v, sub))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(find_bad_strings(v, f"{path}[{i}]"))
    return found


#: The envelope's own text fields (the others are fixed patterns, literals or base64).
ENVELOPE_TEXT_FIELDS = ("recer_sys_code", "dev_no", "dev_safe_info", "opter", "opter_name",
                        "fixmedins_name", "sign_no", "infno", "msgid", "mdtrtarea_admvs",
                        "insuplc_admdvs", "inf_time", "fixmedins_code", "key_id", "nonce")


def check_envelope_text(envelope: Any) -> None:
    """The text rule on the envelope's own fields, which the sender signed: refused whole
    (``invalid_envelope``) naming each field, as a bad row field would be."""
    bad = find_bad_strings({name: getattr(envelope, name) for name in ENVELOPE_TEXT_FIELDS},
                           path="envelope")
    if bad:
        raise ValidationFailed(
            "报文头字段含控制字符或无效字符", "envelope fields carry control or invalid characters",
            code="invalid_envelope",
            fields=[_hidden_error(p.removeprefix("envelope."), kind) for p, kind in bad])


def repeated_record(infno: str, rows: list[BureauRow]) -> None:
    """Refuse a message that carries one record twice (the same key, ``RECORD_KEYS``): two
    versions of one record leave the bank to guess which the bureau meant, and an identical
    repeat is a sender fault the bureau should see (``duplicate_rows``)."""
    key_of = RECORD_KEYS.get(infno)
    if key_of is None:
        return
    first: dict[tuple[Any, ...], int] = {}
    for i, row in enumerate(rows):
        key = tuple(getattr(row, name) for name in key_of)
        if key in first:
            where = f"input.data[{i}]" + (f".{key_of[0]}" if len(key_of) == 1 else "")
            names = ", ".join(key_of)
            same = row == rows[first[key]]
            raise ValidationFailed(
                "同一报文中存在同一记录的两个版本" if not same else "同一报文中存在重复的行",
                "one record twice in one message" + ("" if same else " (two versions)"),
                code="duplicate_rows",
                fields=[FieldError(where, f"{where}：与第 {first[key]} 行的 {names} 相同"
                                          + ("" if same else "而内容不同"),
                                   f"{where}: same {names} as row {first[key]}"
                                   + ("" if same else " with other content"))])
        first[key] = i


def find_personal_fields(value: Any, path: str = "input") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in PERSONAL_FIELDS:
                found.append(f"{path}.{k}")
            found.extend(find_personal_fields(v, f"{path}.{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(find_personal_fields(v, f"{path}[{i}]"))
    return found


def _date_problems(row: BureauRow, today: date) -> list[tuple[str, str, str]]:
    """(field, zh, en) for dates that cannot be true on ``today`` (the receiving day)."""
    out: list[tuple[str, str, str]] = []

    def not_after(name: str, value: date | None, limit: date, zh: str, en: str) -> None:
        if value is not None and value > limit:
            out.append((name, f"{zh}（{value} 晚于 {limit}）", f"{en} ({value} is after {limit})"))

    if isinstance(row, DailySummary):
        not_after("setl_date", row.setl_date, today, "结算日期不得晚于收到之日",
                  "settlement date cannot be in the future")
    elif isinstance(row, ReconciliationTotal):
        not_after("stmt_enddate", row.stmt_enddate, today, "对账截止日不得晚于收到之日",
                  "statement end cannot be in the future")
    elif isinstance(row, FundDisbursement):
        not_after("fin_acen_time", row.fin_acen_time.date(), today, "到账时间不得晚于收到之日",
                  "booking time cannot be in the future")
    elif isinstance(row, InstitutionEvent):
        not_after("evt_date", row.evt_date, today, "事件日期不得晚于收到之日",
                  "event date cannot be in the future")
    elif isinstance(row, InstitutionProfile):
        not_after("begntime", row.begntime, today, "定点开始日期不得晚于收到之日",
                  "designation start cannot be in the future")
        not_after("endtime", row.endtime, today + AUTH_MAX_SPAN, "定点截止日期过远",
                  "designation end too far in the future")
    elif isinstance(row, AuthorizationGranted):
        not_after("begndate", row.begndate, today + AUTH_MAX_LEAD, "授权起始日期过远",
                  "authorization start too far in the future")
        not_after("enddate", row.enddate, today + AUTH_MAX_SPAN, "授权截止日期过远（最长10年）",
                  "authorization end too far in the future (10 years at most)")
    elif isinstance(row, AuthorizationRevoked):
        not_after("revoke_time", row.revoke_time.date(), today + timedelta(days=1),
                  "撤销时间不得晚于收到之日", "revocation time cannot be in the future")
    return out


# --------------------------------------------------------------- 8301 fast path (throughput)

_DAILY_KEYS = frozenset(DailySummary.model_fields)
#: Plain amounts only (the form the bureau sends): what the fast path accepts is a subset of
#: what ``_money`` accepts; everything else takes the full (pydantic) path.
_PLAIN_AMOUNT_RE = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")


def fast_daily(raw: Any, codes: dict[str, bool]) -> DailySummary | None:
    """The 8301 row as a ``DailySummary`` when it is in the plain form the bureau sends (exactly
    the model's keys; ASCII strings for codes, dates and amounts; plain ints for counts) and
    passes every rule of the model; otherwise None, and the caller validates the row with the
    model, which then accepts it or names the problem. It never accepts a row the model would
    refuse (``tests/unit/test_rows.py`` checks this by fuzzing), and gives equal values.
    ``codes`` caches institution-code checks within one message."""
    if type(raw) is not dict or raw.keys() != _DAILY_KEYS:
        return None
    code = raw["fixmedins_code"]
    if type(code) is not str:
        return None
    known = codes.get(code)
    if known is None:
        try:
            validate_institution_code(code)
            known = True
        except YibaodaiError:
            known = False
        codes[code] = known
    if not known:
        return None
    text = raw["setl_date"]
    if type(text) is not str or not DATE_RE.fullmatch(text):
        return None
    try:
        setl_date = date.fromisoformat(text)
    except ValueError:
        return None
    if setl_date < EARLIEST_DATE:
        return None
    insutype, clr_type = raw["insutype"], raw["clr_type"]
    if type(insutype) is not str or insutype not in INSUTYPES or type(
            clr_type) is not str or clr_type not in CLR_TYPES:
        return None
    setl_cnt, refd = raw["setl_cnt"], raw["refd_setl_cnt"]
    if type(setl_cnt) is not int or type(refd) is not int or not (
            0 <= setl_cnt <= MAX_DAILY_COUNT and 0 <= refd <= MAX_DAILY_COUNT):
        return None
    amounts: list[Decimal] = []
    for name in ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"):
        value = raw[name]
        if type(value) is not str or not _PLAIN_AMOUNT_RE.fullmatch(value):
            return None
        amounts.append(Decimal(value).quantize(CENT))
    medfee, fund, hifp, acct, cash = amounts
    if daily_problem(medfee, fund, hifp, acct, cash, setl_cnt, refd) is not None:
        return None
    return _construct_daily({
        "fixmedins_code": code, "setl_date": setl_date, "insutype": cast(Insutype, insutype),
        "clr_type": cast(ClrType, clr_type), "setl_cnt": setl_cnt, "refd_setl_cnt": refd,
        "medfee_sumamt": medfee, "fund_pay_sumamt": fund, "hifp_pay": hifp, "acct_pay": acct,
        "psn_cash_pay": cash})


def _construct_daily(values: dict[str, Any]) -> DailySummary:
    """What ``DailySummary.model_construct`` does for a complete set of fields (no defaults,
    no extras, no private attributes), without its per-field bookkeeping, which cost more
    than all the checks above together (profiled: ~20 us a row). The fuzz tests compare the
    result with ``model_validate``'s."""
    row = _DAILY_NEW(DailySummary)
    _setattr(row, "__dict__", values)
    _setattr(row, "__pydantic_fields_set__", set(_DAILY_KEYS))
    _setattr(row, "__pydantic_extra__", None)
    _setattr(row, "__pydantic_private__", None)
    return row


_DAILY_NEW = DailySummary.__new__
_setattr = object.__setattr__


def parse_rows(infno: str, payload: dict[str, Any], *, envelope_code: str,
               today: date | None = None) -> list[BureauRow]:
    """Validate ``input.data`` for ``infno``; raise ValidationFailed naming every bad field.

    With ``today`` (the receiving day, Asia/Shanghai) dates that cannot be true yet are refused
    too (settlement and event dates after today, authorizations reaching too far ahead)."""
    if not isinstance(payload, dict):
        raise ValidationFailed("input 须为 JSON 对象", "input must be a JSON object",
                               code="invalid_rows",
                               fields=[FieldError("input", "须为 JSON 对象", "must be an object")])
    # Rows already accepted by the 8301 fast path hold no personal keys and no control
    # characters (their keys are the model's, their values plain ASCII), so the scans below
    # skip them (an empty object in their place keeps every path's index).
    data: Any = payload.get("data")
    fast: dict[int, BureauRow] = {}
    if infno == "8301" and isinstance(data, list) and len(data) <= MAX_ROWS:
        codes: dict[str, bool] = {}
        for i, raw in enumerate(data):
            quick = fast_daily(raw, codes)
            if quick is not None:
                fast[i] = quick
    scanned: dict[str, Any] = payload
    if fast:
        scanned = {**payload, "data": [{} if i in fast else r for i, r in enumerate(data)]}
    bad = find_bad_strings(scanned)
    if bad:
        raise ValidationFailed(
            "报文含控制字符或无效字符", "message carries control or invalid characters",
            code="invalid_rows", fields=[_hidden_error(p, kind) for p, kind in bad[:50]])
    personal = find_personal_fields(scanned)
    if personal:
        raise ValidationFailed(
            "报文含个人身份信息字段，整笔拒收", "message carries personal fields; refused whole",
            code="personal_data",
            fields=[FieldError(p, f"{p}：不得传送个人信息", f"{p}: personal data not accepted")
                    for p in personal[:50]],
        )
    model = ROW_MODELS.get(infno)
    if model is None:
        raise ValidationFailed(f"未知交易编号 {infno}", f"unknown infno {infno}",
                               code="unknown_infno",
                               fields=[FieldError("infno", "infno：未知交易编号",
                                                  "infno: unknown transaction")])
    extra = sorted(set(payload) - {"data"})
    if extra:
        raise ValidationFailed("input 含不允许的字段", "input has fields that are not allowed",
                               code="invalid_rows",
                               fields=[FieldError(f"input.{k}", f"input.{k}：不允许的字段",
                                                  f"input.{k}: field not allowed")
                                       for k in extra[:50]])
    if not isinstance(data, list) or not data:
        raise ValidationFailed("input.data 须为非空数组", "input.data must be a non-empty list",
                               code="missing_data",
                               fields=[FieldError("input.data", "input.data：须为非空数组",
                                                  "input.data: must be a non-empty list")])
    if len(data) > MAX_ROWS:
        raise ValidationFailed(f"单笔报文最多 {MAX_ROWS} 行", f"at most {MAX_ROWS} rows a message",
                               code="too_many_rows",
                               fields=[FieldError("input.data", f"input.data：行数超过 {MAX_ROWS}",
                                                  f"input.data: more than {MAX_ROWS} rows")])
    rows: list[BureauRow] = []
    errors: list[FieldError] = []
    for i, raw in enumerate(data):
        if len(errors) >= 50:
            break
        where = f"input.data[{i}]"
        pre = fast.get(i)
        if pre is not None:
            row: BureauRow = pre
        elif not isinstance(raw, dict):
            errors.append(FieldError(where, f"{where}：须为对象", f"{where}: must be an object"))
            continue
        else:
            try:
                row = model.model_validate(raw)
            except ValidationError as exc:
                errors.extend(_pydantic_field_errors(exc, where))
                continue
            except YibaodaiError as exc:
                for fe in exc.fields or [FieldError("", exc.message_zh, exc.message_en)]:
                    name = f"{where}.{fe.field}" if fe.field else where
                    errors.append(FieldError(name, f"{name}：{fe.message_zh}",
                                             f"{name}: {fe.message_en}"))
                continue
        code = getattr(row, "fixmedins_code", envelope_code)
        if code != envelope_code:
            name = f"{where}.fixmedins_code"
            errors.append(FieldError(
                name, f"{name}：行的机构编号 {code} 与报文头 {envelope_code} 不一致",
                f"{name}: row institution {code} differs from the envelope's {envelope_code}"))
            continue
        if today is not None:
            problems = _date_problems(row, today)
            if problems:
                errors.extend(FieldError(f"{where}.{f}", f"{where}.{f}：{zh}", f"{where}.{f}: {en}")
                              for f, zh, en in problems)
                continue
        rows.append(row)
    if errors:
        raise ValidationFailed("输入数据校验失败", "input rows failed validation",
                               code="invalid_rows", fields=errors[:50])
    repeated_record(infno, rows)
    return rows
