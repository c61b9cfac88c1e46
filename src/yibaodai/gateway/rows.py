"""The bank's transactions from the bureau: one pydantic model per ``infno`` row.

Validation turns every problem into a field-level message in Chinese and English; a message
with any bad row is refused whole (nothing is written).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yibaodai.clock import SHANGHAI
from yibaodai.domain.codes import validate_area_code, validate_institution_code, validate_uscc
from yibaodai.errors import FieldError, ValidationFailed, YibaodaiError

#: Keys that identify a person. Any of them anywhere in ``input`` refuses the whole message.
PERSONAL_FIELDS = frozenset({
    "psn_no", "psn_name", "certno", "psn_cert_type", "mdtrt_cert_no", "card_sn",
    "tel", "mob", "naty", "brdy", "gend", "psn_idet_type", "insu_admdvs_psn",
})

SCOPE_FOR_INFNO = {"8201": "profile", "8202": "events", "8301": "settlement",
                   "8302": "settlement", "8303": "disbursement"}


#: Amount strings: optional minus, 1-12 ASCII digits, optionally "." and 1-2 ASCII digits.
#: (No exponent, no "+", no underscores, no blanks: ``Decimal()`` would accept all of those, and
#: full-width digits too.)
_AMOUNT_RE = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")
_TOO_PRECISE_RE = re.compile(r"-?[0-9]{1,12}\.[0-9]{3,}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}")
#: ``fin_acen_time`` as the bureau sends it: ``yyyy-MM-dd HH:mm:ss`` (a blank, never "T").
_BOOKING_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_YEAR_MONTH_RE = re.compile(r"[0-9]{4}(0[1-9]|1[0-2])")
_CENT = Decimal("0.01")
#: Earliest date any row may carry.
EARLIEST_DATE = date(1950, 1, 1)
#: How far ahead of the receiving day an authorization may start, or end.
AUTH_MAX_LEAD = timedelta(days=366)
AUTH_MAX_SPAN = timedelta(days=10 * 366)
#: Control characters (C0, DEL, C1) and lone surrogates are refused in every string: PostgreSQL
#: cannot store NUL, and a lone surrogate cannot be encoded as UTF-8 at all.
_BAD_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _money(value: Any) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError("金额须为字符串或整数，不得为浮点数 / "
                         "amounts must be strings or integers, never floats")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        if not value.isascii():
            raise ValueError("金额含非ASCII字符（如全角数字）/ amount has non-ASCII characters "
                             "(e.g. full-width digits)")
        if _TOO_PRECISE_RE.fullmatch(value):
            raise ValueError("金额最多两位小数 / at most 2 decimals")
        if not _AMOUNT_RE.fullmatch(value):
            raise ValueError("金额格式错误，应为如 1234.50 的十进制数 / not a decimal amount "
                             "like 1234.50")
        amount = Decimal(value)
    else:
        raise ValueError("金额须为字符串或整数 / amounts must be strings or integers")
    if abs(amount) >= Decimal("1e12"):
        raise ValueError("金额超出范围 / amount out of range")
    return amount.quantize(Decimal("0.01"))


def _iso_date(value: Any) -> Any:
    """Dates travel as ``"yyyy-MM-dd"`` strings only (no numbers: pydantic would read them as
    Unix timestamps)."""
    if isinstance(value, date | datetime):
        return value
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError("日期格式应为 yyyy-MM-dd / date must be a yyyy-MM-dd string")
    return value


def _check_date_range(value: date) -> date:
    if value < EARLIEST_DATE:
        raise ValueError(f"日期早于 {EARLIEST_DATE} / date before {EARLIEST_DATE}")
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("fixmedins_code", mode="before", check_fields=False)
    @classmethod
    def _code(cls, v: Any) -> str:
        return validate_institution_code(v)

    @field_validator("begndate", "enddate", "begntime", "endtime", "evt_date", "setl_date",
                     "stmt_begndate", "stmt_enddate", mode="before", check_fields=False)
    @classmethod
    def _date_text(cls, v: Any) -> Any:
        return None if v is None else _iso_date(v)

    @field_validator("begndate", "enddate", "begntime", "endtime", "evt_date", "setl_date",
                     "stmt_begndate", "stmt_enddate", mode="after", check_fields=False)
    @classmethod
    def _date_range(cls, v: date | None) -> date | None:
        return None if v is None else _check_date_range(v)


class AuthorizationGranted(_Row):
    fixmedins_code: str
    fixmedins_name: str = Field(min_length=1, max_length=200)
    uscc: str
    auth_no: str = Field(min_length=1, max_length=40)
    auth_scope: list[Literal["profile", "events", "settlement", "disbursement"]] = Field(
        min_length=1)
    begndate: date
    enddate: date

    @field_validator("uscc", mode="before")
    @classmethod
    def _uscc(cls, v: Any) -> str:
        return validate_uscc(v)

    @model_validator(mode="after")
    def _dates(self) -> AuthorizationGranted:
        if self.enddate < self.begndate:
            raise ValueError("授权截止日早于起始日 / enddate before begndate")
        return self


class AuthorizationRevoked(_Row):
    fixmedins_code: str
    auth_no: str = Field(min_length=1, max_length=40)
    revoke_time: datetime

    @field_validator("revoke_time", mode="before")
    @classmethod
    def _time_text(cls, v: Any) -> Any:
        if not isinstance(v, str) or not _DATETIME_RE.fullmatch(v):
            raise ValueError("时间格式应为 yyyy-MM-dd HH:mm:ss / time must be a "
                             "yyyy-MM-dd HH:mm:ss string")
        return v


class InstitutionProfile(_Row):
    fixmedins_code: str
    fixmedins_name: str = Field(min_length=1, max_length=200)
    uscc: str
    fixmedins_type: Literal["1", "2", "3", "4", "5"]
    hosp_lv: str = Field(default="", max_length=20)
    fix_blng_admdvs: str
    addr: str = Field(min_length=1, max_length=300)
    biz_stas: Literal["1", "2", "3"]
    cred_lv_name: str = Field(default="", max_length=20)
    begntime: date
    endtime: date | None = None
    legrep_name: str = Field(default="", max_length=50)
    bankacct: str = Field(default="", max_length=40)
    # Bank extensions (documented in docs/interface.md): geocoded location and ownership.
    latitude: float | None = Field(default=None, ge=38.0, le=40.5)
    longitude: float | None = Field(default=None, ge=120.5, le=123.5)
    ownership: Literal["private", "public"] = "private"

    @field_validator("uscc", mode="before")
    @classmethod
    def _uscc(cls, v: Any) -> str:
        return validate_uscc(v)

    @field_validator("fix_blng_admdvs", mode="before")
    @classmethod
    def _area(cls, v: Any) -> str:
        return validate_area_code(v, field="fix_blng_admdvs")


class InstitutionEvent(_Row):
    fixmedins_code: str
    evt_type: Literal["penalty", "suspension", "restore", "grade_change", "designation_end"]
    evt_date: date
    evt_desc: str = Field(default="", max_length=500)
    evt_amt: Decimal | None = None

    @field_validator("evt_amt", mode="before")
    @classmethod
    def _amt(cls, v: Any) -> Decimal | None:
        return None if v is None else _money(v)


Insutype = Literal["310", "320", "330", "340", "350", "360", "370", "380", "390", "391", "392",
                   "399", "410"]
ClrType = Literal["11", "21", "41", "99"]
#: Daily counts are at most this; a month (8302) at most 31 times as much.
MAX_DAILY_COUNT = 10_000_000
MAX_MONTHLY_COUNT = 31 * MAX_DAILY_COUNT


def _daily_problem(medfee: Decimal, fund: Decimal, hifp: Decimal, acct: Decimal, cash: Decimal,
                   setl_cnt: int, refd_setl_cnt: int) -> str | None:
    """The cross-field rule of one 8301 row (``"中文 / English"``), or None."""
    if abs(medfee - (fund + acct + cash)) > _CENT:
        return ("medfee_sumamt 须等于 fund_pay_sumamt + acct_pay + psn_cash_pay / "
                "medfee_sumamt must equal fund_pay_sumamt + acct_pay + psn_cash_pay")
    if hifp > fund:
        return "hifp_pay 不得大于 fund_pay_sumamt / hifp_pay exceeds fund_pay_sumamt"
    if refd_setl_cnt > setl_cnt:
        return "退费笔数不得大于结算笔数 / refd_setl_cnt exceeds setl_cnt"
    if medfee < 0 and refd_setl_cnt == 0:
        return "无退费时金额不得为负 / negative amounts need refunds"
    return None


class DailySummary(_Row):
    fixmedins_code: str
    setl_date: date
    insutype: Insutype
    clr_type: ClrType
    setl_cnt: int = Field(ge=0, le=MAX_DAILY_COUNT, strict=True)
    refd_setl_cnt: int = Field(ge=0, le=MAX_DAILY_COUNT, strict=True)
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    hifp_pay: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal

    @field_validator("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay",
                     mode="before")
    @classmethod
    def _amounts(cls, v: Any) -> Decimal:
        return _money(v)

    @model_validator(mode="after")
    def _consistent(self) -> DailySummary:
        problem = _daily_problem(self.medfee_sumamt, self.fund_pay_sumamt, self.hifp_pay,
                                 self.acct_pay, self.psn_cash_pay, self.setl_cnt,
                                 self.refd_setl_cnt)
        if problem is not None:
            raise ValueError(problem)
        return self


class ReconciliationTotal(_Row):
    """The bureau's reconciliation totals (8302) for one institution, insurance type and
    clearing type over a period within one calendar month (national 3201 style)."""

    fixmedins_code: str
    stmt_begndate: date
    stmt_enddate: date
    insutype: Insutype
    clr_type: ClrType
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    fixmedins_setl_cnt: int = Field(ge=0, le=MAX_MONTHLY_COUNT, strict=True)

    @field_validator("medfee_sumamt", "fund_pay_sumamt", "acct_pay", mode="before")
    @classmethod
    def _amounts(cls, v: Any) -> Decimal:
        return _money(v)

    @model_validator(mode="after")
    def _consistent(self) -> ReconciliationTotal:
        if self.stmt_enddate < self.stmt_begndate:
            raise ValueError("对账截止日早于起始日 / stmt_enddate before stmt_begndate")
        if (self.stmt_begndate.year, self.stmt_begndate.month) != (
                self.stmt_enddate.year, self.stmt_enddate.month):
            raise ValueError("对账期间须在同一自然月内 / the statement period must lie within "
                             "one calendar month")
        if abs(self.fund_pay_sumamt + self.acct_pay) > abs(self.medfee_sumamt) + _CENT:
            raise ValueError("fund_pay_sumamt + acct_pay 不得大于 medfee_sumamt / "
                             "fund_pay_sumamt + acct_pay exceeds medfee_sumamt")
        return self


class FundDisbursement(_Row):
    """One disbursement of fund money to the institution's bank account (8303)."""

    fixmedins_code: str
    dfr_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    dfr_sumamt: Decimal
    bankacct: str = Field(pattern=r"^[0-9]{6,32}$")
    fin_acen_time: datetime
    clr_type: ClrType
    setlym: str

    @field_validator("dfr_sumamt", mode="before")
    @classmethod
    def _amount(cls, v: Any) -> Decimal:
        amount = _money(v)
        if amount <= 0:
            raise ValueError("拨付金额须大于零 / dfr_sumamt must be positive")
        return amount

    @field_validator("fin_acen_time", mode="before")
    @classmethod
    def _booking_time(cls, v: Any) -> datetime:
        if not isinstance(v, str) or not _BOOKING_TIME_RE.fullmatch(v):
            raise ValueError("时间格式应为 yyyy-MM-dd HH:mm:ss / time must be a "
                             "yyyy-MM-dd HH:mm:ss string")
        try:
            moment = datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ValueError("时间不存在 / no such date or time") from None
        if moment.date() < EARLIEST_DATE:
            raise ValueError(f"日期早于 {EARLIEST_DATE} / date before {EARLIEST_DATE}")
        return moment.replace(tzinfo=SHANGHAI)

    @field_validator("setlym", mode="before")
    @classmethod
    def _year_month(cls, v: Any) -> str:
        if not isinstance(v, str) or not _YEAR_MONTH_RE.fullmatch(v) or v[:4] < "1950":
            raise ValueError("结算年月格式应为 yyyyMM（1950 年起）/ setlym must be a yyyyMM "
                             "string (1950 or later)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FundDisbursement:
        if self.setlym > self.fin_acen_time.strftime("%Y%m"):
            raise ValueError("结算年月不得晚于到账时间 / setlym is after the month of "
                             "fin_acen_time")
        return self


class LoanStatus(_Row):
    """Head office's report of a whitelisted institution's loan (8601)."""

    fixmedins_code: str
    case_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    status: Literal["approved", "drawn", "closed", "overdue"]
    drawn_amount: Decimal
    balance: Decimal
    overdue_days: int = Field(ge=0, le=100_000, strict=True)

    @field_validator("drawn_amount", "balance", mode="before")
    @classmethod
    def _amounts(cls, v: Any) -> Decimal:
        return _money(v)


ROW_MODELS: dict[str, type[_Row]] = {
    "8601": LoanStatus,
    "8101": AuthorizationGranted,
    "8102": AuthorizationRevoked,
    "8201": InstitutionProfile,
    "8202": InstitutionEvent,
    "8301": DailySummary,
    "8302": ReconciliationTotal,
    "8303": FundDisbursement,
}

MAX_ROWS = 20_000


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
    return key if not _BAD_CHARS_RE.search(key) else key.encode(
        "utf-8", "backslashreplace").decode("ascii", "backslashreplace")


def find_bad_strings(value: Any, path: str = "input") -> list[str]:
    """Paths of strings (values or keys) holding control characters or lone surrogates."""
    found: list[str] = []
    if isinstance(value, str):
        if _BAD_CHARS_RE.search(value):
            found.append(path)
    elif isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{_safe_key(str(k))}"
            if _BAD_CHARS_RE.search(str(k)):
                found.append(sub)
            else:
                found.extend(find_bad_strings(v, sub))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(find_bad_strings(v, f"{path}[{i}]"))
    return found


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


def _date_problems(row: _Row, today: date) -> list[tuple[str, str, str]]:
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
_INSUTYPES = frozenset(get_args(Insutype))
_CLR_TYPES = frozenset(get_args(ClrType))
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
    if type(text) is not str or not _DATE_RE.fullmatch(text):
        return None
    try:
        setl_date = date.fromisoformat(text)
    except ValueError:
        return None
    if setl_date < EARLIEST_DATE:
        return None
    insutype, clr_type = raw["insutype"], raw["clr_type"]
    if type(insutype) is not str or insutype not in _INSUTYPES or type(
            clr_type) is not str or clr_type not in _CLR_TYPES:
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
        amounts.append(Decimal(value).quantize(_CENT))
    medfee, fund, hifp, acct, cash = amounts
    if _daily_problem(medfee, fund, hifp, acct, cash, setl_cnt, refd) is not None:
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


# ------------------------------------------------------ 8301 as columns (throughput, no rows)

#: The 8301 fields in model order; the columns of ``DailyColumns`` follow it.
_DAILY_FIELDS = tuple(DailySummary.model_fields)
_DAILY_COLUMN_GETTERS = tuple(operator.itemgetter(name) for name in _DAILY_FIELDS)
#: One amount column in the canonical form the bureau sends (``to_jsonable`` of a Decimal
#: quantized to cents: always two decimals, e.g. ``"1234.50"``, ``"-0.50"``), one amount a
#: line. Each line is a subset of ``_AMOUNT_RE`` (at most 12 whole digits, so below 1e12), and
#: with exactly two decimals its value in fen is the line without the dot.
_CENTS_COLUMN_RE = re.compile(r"(?:-?[0-9]{1,12}\.[0-9]{2}\n)*+-?[0-9]{1,12}\.[0-9]{2}")


def _fen(amount: Decimal) -> int:
    """Decimal yuan (at most 2 decimals, as validated) -> integer fen, exactly."""
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise ValueError(f"money has more than 2 decimals: {amount}")
    return int(fen)


@dataclass(frozen=True, eq=False)
class DailyColumns:
    """Validated 8301 rows as columns (row ``i`` is index ``i`` of every list), amounts in
    integer fen as ``settlement_facts`` stores them. Built by :func:`parse_daily`."""

    fixmedins_code: Sequence[str]
    setl_date: Sequence[date]
    insutype: Sequence[str]
    clr_type: Sequence[str]
    setl_cnt: Sequence[int]
    refd_setl_cnt: Sequence[int]
    medfee_sumamt_fen: Sequence[int]
    fund_pay_sumamt_fen: Sequence[int]
    hifp_pay_fen: Sequence[int]
    acct_pay_fen: Sequence[int]
    psn_cash_pay_fen: Sequence[int]

    def __len__(self) -> int:
        return len(self.setl_date)

    @classmethod
    def from_rows(cls, rows: Sequence[DailySummary]) -> DailyColumns:
        return cls(
            [r.fixmedins_code for r in rows], [r.setl_date for r in rows],
            [r.insutype for r in rows], [r.clr_type for r in rows],
            [r.setl_cnt for r in rows], [r.refd_setl_cnt for r in rows],
            [_fen(r.medfee_sumamt) for r in rows], [_fen(r.fund_pay_sumamt) for r in rows],
            [_fen(r.hifp_pay) for r in rows], [_fen(r.acct_pay) for r in rows],
            [_fen(r.psn_cash_pay) for r in rows])

    def rows(self) -> list[DailySummary]:
        """The same rows as validated models (slow; for tests and small callers)."""
        def yuan(fen: int) -> str:
            return format(Decimal(fen).scaleb(-2), "f")

        return [DailySummary.model_validate({
            "fixmedins_code": c, "setl_date": d.isoformat(), "insutype": i, "clr_type": t,
            "setl_cnt": n, "refd_setl_cnt": r, "medfee_sumamt": yuan(m),
            "fund_pay_sumamt": yuan(f), "hifp_pay": yuan(h), "acct_pay": yuan(a),
            "psn_cash_pay": yuan(p)})
            for c, d, i, t, n, r, m, f, h, a, p in zip(
                self.fixmedins_code, self.setl_date, self.insutype, self.clr_type,
                self.setl_cnt, self.refd_setl_cnt, self.medfee_sumamt_fen,
                self.fund_pay_sumamt_fen, self.hifp_pay_fen, self.acct_pay_fen,
                self.psn_cash_pay_fen, strict=True)]


def _all_of_type(values: Sequence[Any], kind: type) -> bool:
    return set(map(type, values)) == {kind}


def fast_daily_columns(payload: Any, *, envelope_code: str,
                       today: date | None) -> DailyColumns | None:
    """A whole 8301 ``input`` as validated columns when every row is in the plain form the
    bureau sends (exactly the model's keys; ASCII strings for codes and dates; amounts as
    strings with exactly two decimals; plain ints for counts) and the message passes every
    check ``parse_rows`` makes (rows, institution, dates against ``today``, the cross-field
    rule, which is checked in integer fen). Otherwise None: the caller then runs
    ``parse_rows``, which accepts the message or names every problem. Works column by column
    with C-level operations (sets, ``map``, one regular expression per amount column), no
    object per row. ``tests/unit/test_rows.py`` checks by fuzzing that it never accepts what
    ``parse_rows`` refuses and gives the same rows.

    Keys and values of accepted rows are the model's field names, ISO dates, code-set
    members, digits, ``.``, ``-`` and ints: no personal fields and no control characters, so
    ``parse_rows``' scans for those cannot fire on an accepted message."""
    if type(payload) is not dict or payload.keys() != {"data"}:
        return None
    data = payload["data"]
    if type(data) is not list or not 0 < len(data) <= MAX_ROWS:
        return None
    n = len(data)
    if not _all_of_type(data, dict) or set(map(len, data)) != {len(_DAILY_FIELDS)}:
        return None
    try:  # with exactly 11 keys each, all 11 present means exactly the model's keys
        columns = [list(map(get, data)) for get in _DAILY_COLUMN_GETTERS]
    except KeyError:
        return None
    codes, dates, insutypes, clr_types, setl_cnt, refd, *amounts = columns
    if (not _all_of_type(codes, str) or set(codes) != {envelope_code}
            or not _institution_code_ok(envelope_code)):
        return None
    if (not _all_of_type(insutypes, str) or not set(insutypes) <= _INSUTYPES
            or not _all_of_type(clr_types, str) or not set(clr_types) <= _CLR_TYPES):
        return None
    if not _all_of_type(dates, str):
        return None
    parsed: dict[str, date] = {}
    for text in set(dates):
        if not _DATE_RE.fullmatch(text):
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        if day < EARLIEST_DATE or (today is not None and day > today):
            return None
        parsed[text] = day
    if (not _all_of_type(setl_cnt, int) or not _all_of_type(refd, int)
            or min(setl_cnt) < 0 or max(setl_cnt) > MAX_DAILY_COUNT
            or min(refd) < 0 or max(refd) > MAX_DAILY_COUNT
            or any(map(operator.gt, refd, setl_cnt))):
        return None
    fen: list[list[int]] = []
    for column in amounts:
        if not _all_of_type(column, str):
            return None
        text = "\n".join(column)
        # The count rules out a line break inside a value posing as two amounts.
        if text.count("\n") != n - 1 or not _CENTS_COLUMN_RE.fullmatch(text):
            return None
        fen.append(list(map(int, text.replace(".", "").split("\n"))))
    medfee, fund, hifp, acct, cash = fen
    # _daily_problem in fen: |medfee - (fund + acct + cash)| <= 1 fen, hifp <= fund,
    # (refd <= setl_cnt above), negative amounts only with refunds.
    paid = map(operator.add, map(operator.add, fund, acct), cash)
    diffs = list(map(operator.sub, medfee, paid))
    if max(diffs) > 1 or min(diffs) < -1 or any(map(operator.gt, hifp, fund)):
        return None
    if min(medfee) < 0 and any(m < 0 and r == 0 for m, r in zip(medfee, refd, strict=True)):
        return None
    return DailyColumns(codes, list(map(parsed.__getitem__, dates)), insutypes, clr_types,
                        setl_cnt, refd, medfee, fund, hifp, acct, cash)


def _institution_code_ok(code: str) -> bool:
    try:
        return validate_institution_code(code) == code
    except YibaodaiError:
        return False


def parse_daily(payload: dict[str, Any], *, envelope_code: str,
                today: date | None = None) -> DailyColumns:
    """Validate an 8301 ``input`` like ``parse_rows`` (same acceptance, same refusals), as
    columns: the column fast path when the whole message is in the bureau's plain form, else
    ``parse_rows`` (which names every problem)."""
    columns = fast_daily_columns(payload, envelope_code=envelope_code, today=today)
    if columns is not None:
        return columns
    rows = parse_rows("8301", payload, envelope_code=envelope_code, today=today)
    return DailyColumns.from_rows([r for r in rows if isinstance(r, DailySummary)])


def parse_rows(infno: str, payload: dict[str, Any], *, envelope_code: str,
               today: date | None = None) -> list[_Row]:
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
    fast: dict[int, _Row] = {}
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
            code="invalid_rows",
            fields=[FieldError(p, f"{p}：含控制字符或无效的 Unicode 字符",
                               f"{p}: control character or invalid Unicode")
                    for p in bad[:50]],
        )
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
    rows: list[_Row] = []
    errors: list[FieldError] = []
    for i, raw in enumerate(data):
        if len(errors) >= 50:
            break
        where = f"input.data[{i}]"
        pre = fast.get(i)
        if pre is not None:
            row: _Row = pre
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
    return rows
