"""The bank's transactions from the bureau: one pydantic model per ``infno`` row.

Validation turns every problem into a field-level message in Chinese and English; a message
with any bad row is refused whole (nothing is written).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yibaodai.domain.codes import validate_area_code, validate_institution_code, validate_uscc
from yibaodai.errors import FieldError, ValidationFailed, YibaodaiError

#: Keys that identify a person. Any of them anywhere in ``input`` refuses the whole message.
PERSONAL_FIELDS = frozenset({
    "psn_no", "psn_name", "certno", "psn_cert_type", "mdtrt_cert_no", "card_sn",
    "tel", "mob", "naty", "brdy", "gend", "psn_idet_type", "insu_admdvs_psn",
})

SCOPE_FOR_INFNO = {"8201": "profile", "8202": "events", "8301": "settlement",
                   "8302": "settlement", "8303": "disbursement"}


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("金额须为字符串或整数，不得为浮点数 / amounts must be strings or integers, "
                         "never floats")
    if isinstance(value, str) and not value.isascii():
        raise ValueError("金额含非ASCII字符（如全角数字）/ amount has non-ASCII characters")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("金额格式错误 / not a decimal amount") from None
    if not amount.is_finite():
        raise ValueError("金额格式错误 / not a decimal amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("金额最多两位小数 / at most 2 decimals")
    if abs(amount) >= Decimal("1e12"):
        raise ValueError("金额超出范围 / amount out of range")
    return amount.quantize(Decimal("0.01"))


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("fixmedins_code", mode="before", check_fields=False)
    @classmethod
    def _code(cls, v: Any) -> str:
        return validate_institution_code(v)


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


class DailySummary(_Row):
    fixmedins_code: str
    setl_date: date
    insutype: Literal["310", "320", "330", "340", "350", "360", "370", "380", "390", "391",
                      "392", "399", "410"]
    clr_type: Literal["11", "21", "41", "99"]
    setl_cnt: int = Field(ge=0, strict=True)
    refd_setl_cnt: int = Field(ge=0, strict=True)
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
        parts = self.fund_pay_sumamt + self.acct_pay + self.psn_cash_pay
        if abs(self.medfee_sumamt - parts) > Decimal("0.01"):
            raise ValueError("medfee_sumamt 须等于 fund_pay_sumamt + acct_pay + psn_cash_pay / "
                             "medfee_sumamt must equal fund_pay_sumamt + acct_pay + psn_cash_pay")
        if self.hifp_pay > self.fund_pay_sumamt:
            raise ValueError("hifp_pay 不得大于 fund_pay_sumamt / hifp_pay exceeds fund_pay_sumamt")
        if self.refd_setl_cnt > self.setl_cnt:
            raise ValueError("退费笔数不得大于结算笔数 / refd_setl_cnt exceeds setl_cnt")
        if self.medfee_sumamt < 0 and self.refd_setl_cnt == 0:
            raise ValueError("无退费时金额不得为负 / negative amounts need refunds")
        return self


class LoanStatus(_Row):
    """Head office's report of a whitelisted institution's loan (8601)."""

    fixmedins_code: str
    case_id: int = Field(ge=1, strict=True)
    status: Literal["approved", "drawn", "closed", "overdue"]
    drawn_amount: Decimal
    balance: Decimal
    overdue_days: int = Field(ge=0, strict=True)

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
}

MAX_ROWS = 20_000


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


def parse_rows(infno: str, payload: dict[str, Any], *, envelope_code: str) -> list[_Row]:
    """Validate ``input.data`` for ``infno``; raise ValidationFailed naming every bad field."""
    personal = find_personal_fields(payload)
    if personal:
        raise ValidationFailed(
            "报文含个人身份信息字段，整笔拒收", "message carries personal fields; refused whole",
            code="personal_data",
            fields=[FieldError(p, "不得传送个人信息", "personal data not accepted")
                    for p in personal],
        )
    model = ROW_MODELS.get(infno)
    if model is None:
        raise ValidationFailed(f"未知交易编号 {infno}", f"unknown infno {infno}",
                               code="unknown_infno",
                               fields=[FieldError("infno", "未知交易编号", "unknown transaction")])
    data = payload.get("data")
    if not isinstance(data, list) or not data:
        raise ValidationFailed("input.data 须为非空数组", "input.data must be a non-empty list",
                               code="missing_data",
                               fields=[FieldError("input.data", "须为非空数组", "non-empty list")])
    if len(data) > MAX_ROWS:
        raise ValidationFailed(f"单笔报文最多 {MAX_ROWS} 行", f"at most {MAX_ROWS} rows a message",
                               code="too_many_rows",
                               fields=[FieldError("input.data", "行数超限", "too many rows")])
    rows: list[_Row] = []
    errors: list[FieldError] = []
    for i, raw in enumerate(data):
        if not isinstance(raw, dict):
            errors.append(FieldError(f"input.data[{i}]", "须为对象", "must be an object"))
            continue
        try:
            row = model.model_validate(raw)
        except ValidationError as exc:
            for e in exc.errors():
                loc = ".".join(str(p) for p in e["loc"])
                where = f"input.data[{i}]" + (f".{loc}" if loc else "")
                msg = str(e["msg"]).removeprefix("Value error, ")
                errors.append(FieldError(where, msg, f"{e['type']}: {msg}"))
            continue
        except YibaodaiError as exc:
            for fe in exc.fields or [FieldError("", exc.message_zh, exc.message_en)]:
                errors.append(FieldError(f"input.data[{i}].{fe.field}", fe.message_zh,
                                         fe.message_en))
            continue
        if getattr(row, "fixmedins_code", envelope_code) != envelope_code:
            errors.append(FieldError(f"input.data[{i}].fixmedins_code",
                                     "行的机构编号与报文头不一致",
                                     "row institution differs from the envelope's"))
            continue
        rows.append(row)
        if len(errors) >= 50:
            break
    if errors:
        raise ValidationFailed("输入数据校验失败", "input rows failed validation",
                               code="invalid_rows", fields=errors)
    return rows
