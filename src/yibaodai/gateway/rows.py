"""The bank's transactions from the bureau and head office: one pydantic model per ``infno``
row, with the rules of each field and the cross-field rules of a row.

Checking a whole message (``validation.parse_rows``) turns every problem into a field-level
message in Chinese and English; a message with any bad row is refused whole (nothing is
written). The columnar 8301 fast path is ``daily_columns``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yibaodai.clock import SHANGHAI
from yibaodai.domain.codes import validate_area_code, validate_institution_code, validate_uscc

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
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}")
#: ``fin_acen_time`` as the bureau sends it: ``yyyy-MM-dd HH:mm:ss`` (a blank, never "T").
_BOOKING_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_YEAR_MONTH_RE = re.compile(r"[0-9]{4}(0[1-9]|1[0-2])")
CENT = Decimal("0.01")
#: Earliest date any row may carry.
EARLIEST_DATE = date(1950, 1, 1)
#: How far ahead of the receiving day an authorization may start, or end.
AUTH_MAX_LEAD = timedelta(days=366)
AUTH_MAX_SPAN = timedelta(days=10 * 366)
#: Control characters (C0, DEL, C1) and lone surrogates are refused in every string: PostgreSQL
#: cannot store NUL, and a lone surrogate cannot be encoded as UTF-8 at all.
BAD_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


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
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        raise ValueError("日期格式应为 yyyy-MM-dd / date must be a yyyy-MM-dd string")
    return value


def _check_date_range(value: date) -> date:
    if value < EARLIEST_DATE:
        raise ValueError(f"日期早于 {EARLIEST_DATE} / date before {EARLIEST_DATE}")
    return value


class BureauRow(BaseModel):
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


class AuthorizationGranted(BureauRow):
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


class AuthorizationRevoked(BureauRow):
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


class InstitutionProfile(BureauRow):
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


class InstitutionEvent(BureauRow):
    fixmedins_code: str
    evt_type: Literal["penalty", "suspension", "restore", "grade_change", "designation_end",
                      "staff_points"]
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
INSUTYPES = frozenset(get_args(Insutype))
CLR_TYPES = frozenset(get_args(ClrType))
#: Daily counts are at most this; a month (8302) at most 31 times as much.
MAX_DAILY_COUNT = 10_000_000
MAX_MONTHLY_COUNT = 31 * MAX_DAILY_COUNT


def daily_problem(medfee: Decimal, fund: Decimal, hifp: Decimal, acct: Decimal, cash: Decimal,
                   setl_cnt: int, refd_setl_cnt: int) -> str | None:
    """The cross-field rule of one 8301 row (``"中文 / English"``), or None."""
    if abs(medfee - (fund + acct + cash)) > CENT:
        return ("medfee_sumamt 须等于 fund_pay_sumamt + acct_pay + psn_cash_pay / "
                "medfee_sumamt must equal fund_pay_sumamt + acct_pay + psn_cash_pay")
    if hifp > fund:
        return "hifp_pay 不得大于 fund_pay_sumamt / hifp_pay exceeds fund_pay_sumamt"
    if refd_setl_cnt > setl_cnt:
        return "退费笔数不得大于结算笔数 / refd_setl_cnt exceeds setl_cnt"
    if medfee < 0 and refd_setl_cnt == 0:
        return "无退费时金额不得为负 / negative amounts need refunds"
    return None


class DailySummary(BureauRow):
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
        problem = daily_problem(self.medfee_sumamt, self.fund_pay_sumamt, self.hifp_pay,
                                 self.acct_pay, self.psn_cash_pay, self.setl_cnt,
                                 self.refd_setl_cnt)
        if problem is not None:
            raise ValueError(problem)
        return self


class ReconciliationTotal(BureauRow):
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
        if abs(self.fund_pay_sumamt + self.acct_pay) > abs(self.medfee_sumamt) + CENT:
            raise ValueError("fund_pay_sumamt + acct_pay 不得大于 medfee_sumamt / "
                             "fund_pay_sumamt + acct_pay exceeds medfee_sumamt")
        return self


class FundDisbursement(BureauRow):
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


class LoanStatus(BureauRow):
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


ROW_MODELS: dict[str, type[BureauRow]] = {
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
