"""Fuzzing the row parsers: anything JSON-shaped is either parsed or refused with
ValidationFailed (never another exception); valid rows always parse; bad amounts never do."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibaodai.domain.codes import DALIAN_DISTRICTS, make_institution_code, make_uscc
from yibaodai.errors import ValidationFailed
from yibaodai.gateway.daily_columns import DailyColumns, fast_daily_columns, parse_daily
from yibaodai.gateway.rows import ROW_MODELS, DailySummary
from yibaodai.gateway.validation import fast_daily, parse_rows

TODAY = date(2026, 9, 1)
CODE = make_institution_code(letter="H", area_code="210202", seq=255)
USCC = make_uscc(area_code="210202", org_body8="MA0ABC12")
FIELDS = ["fixmedins_code", "setl_date", "insutype", "clr_type", "setl_cnt", "refd_setl_cnt",
          "medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay", "uscc",
          "fixmedins_name", "auth_no", "auth_scope", "begndate", "enddate", "psn_no"]

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                | st.text() | st.sampled_from(["", "310", "11", CODE, USCC, "2026-08-01",
                                               "１２３", "1.005", "-0", "1e3"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8) | st.sampled_from(FIELDS),
                                             inner, max_size=4), max_leaves=20)
row_like = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), json_values,
                           max_size=12)


def _parse(infno: str, payload: Any) -> None:
    try:
        parse_rows(infno, payload, envelope_code=CODE, today=TODAY)
    except ValidationFailed as exc:
        assert exc.fields, exc
        for f in exc.fields:
            f.field.encode("utf-8")  # always encodable (no lone surrogates)
            f.message_zh.encode("utf-8")
            f.message_en.encode("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(infno=st.sampled_from([*ROW_MODELS, "9999"]), payload=json_values)
def test_any_json_value_parses_or_is_refused(infno: str, payload: Any) -> None:
    _parse(infno, payload if isinstance(payload, dict) else {"data": payload})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(infno=st.sampled_from(list(ROW_MODELS)), rows=st.lists(row_like, min_size=1,
                                                              max_size=3))
def test_row_shaped_garbage_parses_or_is_refused(infno: str, rows: list[dict[str, Any]]) -> None:
    _parse(infno, {"data": rows})


cents = st.integers(min_value=0, max_value=10**11)


def _yuan(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


@st.composite
def daily_rows(draw: st.DrawFn) -> dict[str, Any]:
    fund, acct, cash = draw(cents), draw(cents), draw(cents)
    hifp = draw(st.integers(min_value=0, max_value=fund))
    cnt = draw(st.integers(min_value=0, max_value=10_000))
    return {
        "fixmedins_code": CODE,
        "setl_date": (TODAY - timedelta(days=draw(st.integers(0, 3000)))).isoformat(),
        "insutype": draw(st.sampled_from(["310", "390", "410"])),
        "clr_type": draw(st.sampled_from(["11", "21", "41", "99"])),
        "setl_cnt": cnt, "refd_setl_cnt": draw(st.integers(min_value=0, max_value=cnt)),
        "medfee_sumamt": _yuan(fund + acct + cash), "fund_pay_sumamt": _yuan(fund),
        "hifp_pay": _yuan(hifp), "acct_pay": _yuan(acct), "psn_cash_pay": _yuan(cash),
    }


@settings(max_examples=200, deadline=None)
@given(row=daily_rows())
def test_valid_daily_rows_always_parse(row: dict[str, Any]) -> None:
    [parsed] = parse_rows("8301", {"data": [row]}, envelope_code=CODE, today=TODAY)
    assert isinstance(parsed, DailySummary)
    assert str(parsed.medfee_sumamt) == row["medfee_sumamt"]


@settings(max_examples=100, deadline=None)
@given(area=st.sampled_from(sorted(DALIAN_DISTRICTS)), seq=st.integers(0, 99_999))
def test_valid_authorizations_always_parse(area: str, seq: int) -> None:
    code = make_institution_code(letter="Y", area_code=area, seq=seq)
    row = {"fixmedins_code": code, "fixmedins_name": "诊所", "uscc": USCC, "auth_no": f"A{seq}",
           "auth_scope": ["settlement"], "begndate": "2026-09-01", "enddate": "2029-08-31"}
    assert parse_rows("8101", {"data": [row]}, envelope_code=code, today=TODAY)


FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
bad_amounts = (
    st.builds(lambda c, extra: f"{c // 100}.{c % 100:02d}{extra}", cents,
              st.integers(0, 9).map(str) | st.text("0123456789", min_size=1, max_size=4))
    | st.floats(allow_nan=False, allow_infinity=False)
    | cents.map(lambda c: _yuan(c).translate(FULLWIDTH))
)


@settings(max_examples=300, deadline=None)
@given(row=daily_rows(), field=st.sampled_from(["medfee_sumamt", "fund_pay_sumamt",
                                                 "hifp_pay", "acct_pay", "psn_cash_pay"]),
       amount=bad_amounts)
def test_bad_amounts_always_refused(row: dict[str, Any], field: str, amount: Any) -> None:
    row[field] = amount
    with pytest.raises(ValidationFailed) as info:
        parse_rows("8301", {"data": [row]}, envelope_code=CODE, today=TODAY)
    assert any(f.field == f"input.data[0].{field}" for f in info.value.fields)


# -- the 8301 fast path never accepts what the model refuses, and agrees with it --------------

def _model_dump_or_none(raw: Any) -> dict[str, Any] | None:
    try:
        return DailySummary.model_validate(raw).model_dump()
    except Exception:
        return None


@settings(max_examples=300, deadline=None)
@given(row=daily_rows())
def test_fast_path_takes_plain_valid_rows_and_agrees(row: dict[str, Any]) -> None:
    quick = fast_daily(row, {})
    assert quick is not None
    assert quick.model_dump() == _model_dump_or_none(row)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row=daily_rows(), field=st.sampled_from(sorted(DailySummary.model_fields)),
       value=json_values | bad_amounts | st.sampled_from(
           [" 310", "310 ", "1e3", "-0.001", "２０２６-08-01", "2026-02-30", "1949-12-31",
            True, 10_000_001, -1, "00012.5", "-5.00"]))
def test_fast_path_never_accepts_what_the_model_refuses(row: dict[str, Any], field: str,
                                                        value: Any) -> None:
    row[field] = value
    quick = fast_daily(row, {})
    if quick is not None:
        assert quick.model_dump() == _model_dump_or_none(row)


def test_fast_path_needs_exactly_the_model_keys() -> None:
    row = {"fixmedins_code": CODE, "setl_date": "2026-08-20", "insutype": "310",
           "clr_type": "11", "setl_cnt": 4, "refd_setl_cnt": 0, "medfee_sumamt": "10.00",
           "fund_pay_sumamt": "5.00", "hifp_pay": "5.00", "acct_pay": "2.50",
           "psn_cash_pay": "2.50"}
    assert fast_daily(row, {}) is not None
    assert fast_daily({**row, "psn_name": "x"}, {}) is None
    with pytest.raises(ValidationFailed) as info:
        parse_rows("8301", {"data": [row, {**row, "setl_date": "2026-08-21", "psn_name": "x"}]},
                   envelope_code=CODE, today=TODAY)
    assert info.value.code == "personal_data"
    assert [f.field for f in info.value.fields] == ["input.data[1].psn_name"]


def test_fast_rows_behave_like_validated_rows() -> None:
    row = {"fixmedins_code": CODE, "setl_date": "2026-08-20", "insutype": "310",
           "clr_type": "11", "setl_cnt": 4, "refd_setl_cnt": 0, "medfee_sumamt": "10.5",
           "fund_pay_sumamt": "5.00", "hifp_pay": "5.00", "acct_pay": "2.50",
           "psn_cash_pay": "3.00"}
    quick, slow = fast_daily(row, {}), DailySummary.model_validate(row)
    assert quick == slow and quick is not None
    assert quick.model_fields_set == slow.model_fields_set
    assert quick.model_dump_json() == slow.model_dump_json()
    assert str(quick.medfee_sumamt) == "10.50"
    with pytest.raises(Exception):  # noqa: B017  (frozen, like the validated row)
        quick.setl_cnt = 5  # type: ignore[misc]


# -- the 8301 column path (whole messages) never accepts what parse_rows refuses, and agrees --

def _columns(cols: DailyColumns) -> dict[str, list[Any]]:
    return {name: list(getattr(cols, name)) for name in DailyColumns.__dataclass_fields__}


def _parse_rows_or_none(payload: Any) -> DailyColumns | None:
    try:
        rows = parse_rows("8301", payload, envelope_code=CODE, today=TODAY)
    except ValidationFailed:
        return None
    return DailyColumns.from_rows([r for r in rows if isinstance(r, DailySummary)])


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(daily_rows(), min_size=1, max_size=6))
def test_column_path_takes_plain_valid_messages_and_agrees(rows: list[dict[str, Any]]) -> None:
    cols = fast_daily_columns({"data": rows}, envelope_code=CODE, today=TODAY)
    assert cols is not None
    slow = _parse_rows_or_none({"data": rows})
    assert slow is not None and _columns(cols) == _columns(slow)
    assert [r.model_dump() for r in cols.rows()] == [DailySummary.model_validate(r).model_dump()
                                                     for r in rows]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(daily_rows(), min_size=1, max_size=4), pick=st.integers(0, 3),
       field=st.sampled_from(sorted(DailySummary.model_fields)) | st.text(max_size=6)
       | st.sampled_from(["psn_no", "certno"]),
       value=json_values | bad_amounts | st.sampled_from(
           [" 310", "310 ", "1e3", "-0.001", "２０２６-08-01", "2026-02-30", "1949-12-31",
            "2026-09-02", True, 10_000_001, -1, "00012.50", "-5.00", "1.00\n2.00",
            "1.00\n", "12.5", "12", 12, CODE.lower(), "H21020200256", "1234567890123.00"]))
def test_column_path_never_accepts_what_parse_rows_refuses(
        rows: list[dict[str, Any]], pick: int, field: str, value: Any) -> None:
    rows[pick % len(rows)][field] = value
    cols = fast_daily_columns({"data": rows}, envelope_code=CODE, today=TODAY)
    if cols is not None:
        slow = _parse_rows_or_none({"data": rows})
        assert slow is not None and _columns(cols) == _columns(slow)


@pytest.mark.parametrize("payload", [
    {"data": []}, {"data": None}, {"data": [{}]}, {"data": [1]}, {"other": 1},
    {"data": [], "x": 1},
])
def test_column_path_leaves_odd_shapes_to_parse_rows(payload: dict[str, Any]) -> None:
    assert fast_daily_columns(payload, envelope_code=CODE, today=TODAY) is None
    with pytest.raises(ValidationFailed):
        parse_daily(payload, envelope_code=CODE, today=TODAY)


def test_column_path_refuses_a_line_break_posing_as_two_amounts() -> None:
    row = {"fixmedins_code": CODE, "setl_date": "2026-08-20", "insutype": "310",
           "clr_type": "11", "setl_cnt": 4, "refd_setl_cnt": 0, "medfee_sumamt": "10.00",
           "fund_pay_sumamt": "5.00", "hifp_pay": "5.00", "acct_pay": "2.50",
           "psn_cash_pay": "2.50"}
    assert fast_daily_columns({"data": [row]}, envelope_code=CODE, today=TODAY) is not None
    bad = {**row, "acct_pay": "2.50\n2.50"}
    assert fast_daily_columns({"data": [bad, row]}, envelope_code=CODE, today=TODAY) is None
    with pytest.raises(ValidationFailed) as info:
        parse_daily({"data": [bad]}, envelope_code=CODE, today=TODAY)
    assert [f.field for f in info.value.fields] == ["input.data[0].acct_pay"]
    assert "acct_pay" in info.value.fields[0].message_zh
    # other amount forms the model accepts take the row path and give the same values
    plain = {**row, "medfee_sumamt": "10", "fund_pay_sumamt": 5, "acct_pay": "2.5"}
    assert fast_daily_columns({"data": [plain]}, envelope_code=CODE, today=TODAY) is None
    assert _columns(parse_daily({"data": [plain]}, envelope_code=CODE, today=TODAY)) == _columns(
        parse_daily({"data": [row]}, envelope_code=CODE, today=TODAY))
