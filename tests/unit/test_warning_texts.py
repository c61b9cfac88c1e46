"""What staff read of each warning rule when it fires (docs/ews.md "Rules"): the level, the period,
both texts (Chinese first) and the facts shown beside them, rounded as stored (ratios and
shares to 4 decimals, money to 2). One firing history per rule and level."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from yibaodai.domain.ews.history import BorrowerHistory, Disbursement, MonthFigures
from yibaodai.domain.ews.rules import RULES, Signal, run_rule
from yibaodai.domain.months import previous_months

AS_OF = date(2026, 10, 2)
MONTHS = previous_months(AS_OF, 24)


def history(o: dict[str, MonthFigures] | None = None, **kw: object) -> BorrowerHistory:
    m = {x: MonthFigures(100_000.0, 1_000, 10, 0.5) for x in MONTHS}
    m |= (o or {})
    kw.setdefault("last_settlement", AS_OF - timedelta(days=2))
    return BorrowerHistory(months=m, **kw)  # type: ignore[arg-type]


def inc(v: float) -> MonthFigures:
    return MonthFigures(v, 1000, 10, 0.5)


def feb_history() -> BorrowerHistory:
    months = {x: inc(100_000.0) for x in previous_months(date(2026, 3, 2), 24)}
    months |= {"2026-01": inc(30_000.0), "2026-02": inc(30_000.0)}
    return BorrowerHistory(months=months, last_settlement=date(2026, 2, 28))


def stepped(after: float) -> BorrowerHistory:
    return history({m: inc(100_123.4) for m in MONTHS[:-5]} | {m: inc(after) for m in MONTHS[-5:]})


CASES = {
    "W01 yellow": (("W01", history({"2026-09": inc(65_432.1)}), AS_OF),
        Signal(
        rule_code='W01',
        rule_version='w01-shortfall-3',
        level='yellow',
        period='2026-09',
        text_zh='2026-09月统筹结算收入为自身季节性预期的65%，低于70%（接近突破）',
        text_en='fund income in 2026-09 was 65% of its seasonal expectation (near breach below 70%)',  # noqa: E501
        inputs={'month': '2026-09', 'ratio': 0.6543})),
    "W01 orange": (("W01", history({"2026-09": inc(45_678.9)}), AS_OF),
        Signal(
        rule_code='W01',
        rule_version='w01-shortfall-3',
        level='orange',
        period='2026-09',
        text_zh='2026-09月统筹结算收入仅为自身季节性预期的46%，低于50%（突破）',
        text_en='fund income in 2026-09 was 46% of its seasonal expectation (breach below 50%)',
        inputs={'month': '2026-09', 'ratio': 0.4568, 'previous_ratio': 1.0})),
    "W01 red": (("W01", history({"2026-08": inc(41_234.5), "2026-09": inc(40_000.0)}), AS_OF),
        Signal(
        rule_code='W01',
        rule_version='w01-shortfall-3',
        level='red',
        period='2026-09',
        text_zh='2026-09月统筹结算收入仅为自身季节性预期的40%，低于50%（突破）',
        text_en='fund income in 2026-09 was 40% of its seasonal expectation (breach below 50%)',
        inputs={'month': '2026-09', 'ratio': 0.4, 'previous_ratio': 0.4123})),
    "W01 blue": (("W01", history({"2026-06": inc(97_123.4), "2026-07": inc(92_345.6), "2026-08": inc(86_789.1), "2026-09": inc(80_123.4)}), AS_OF),  # noqa: E501
        Signal(
        rule_code='W01',
        rule_version='w01-shortfall-3',
        level='blue',
        period='2026-09',
        text_zh='统筹结算收入相对季节性预期连续3个月下降（现为80%）',
        text_en='fund income fell against its seasonal expectation 3 months running (now 80%)',
        inputs={'month': '2026-09', 'ratio': 0.8012, 'ratios': [0.9712, 0.9235, 0.8679, 0.8012]})),
    "W01 feb": (("W01", feb_history(), date(2026,3,2)),
        Signal(
        rule_code='W01',
        rule_version='w01-shortfall-3',
        level='orange',
        period='2026-02',
        text_zh='1-2月合计统筹结算收入仅为自身季节性预期的30%，低于50%（突破）',
        text_en='fund income in January+February was 30% of its seasonal expectation (breach below 50%)',  # noqa: E501
        inputs={'month': '2026-02', 'ratio': 0.3, 'previous_ratio': 1.0})),
    "W05": (("W05", history({"2026-09": MonthFigures(100_000.0, 2_513, 517, 0.9)}), AS_OF),
        Signal(
        rule_code='W05',
        rule_version='w05-spikes-1',
        level='yellow',
        period='2026-09',
        text_zh='疑似异常：结算笔数2513为常月的2.5倍；退费占比21%（常月1%）；职工医保占比由50%变为90%',
        text_en="unusual pattern: settlement count 2513 is 2.5x usual; refund share 21% (usually 1%); employees' insurance share moved from 50% to 90%",  # noqa: E501
        inputs={'month': '2026-09', 'count': 2513, 'usual_count': 1000.0, 'refund_share': 0.2057, 'usual_refund_share': 0.01, 'employee_share': 0.9, 'usual_employee_share': 0.5})),  # noqa: E501
    "W06": (("W06", history(disbursements=(Disbursement("2026-06", date(2026,7,28), 95_000.0), Disbursement("2026-07", date(2026,8,28), 20_123.456))), AS_OF),  # noqa: E501
        Signal(
        rule_code='W06',
        rule_version='w06-mismatch-1',
        level='orange',
        period='2026-07',
        text_zh='2026-07月基金拨付额为结算统筹额的20%',
        text_en='fund disbursed for 2026-07 is 20% of settled fund income',
        inputs={'month': '2026-07', 'paid': 20123.46, 'settled': 100000.0, 'share': 0.2012})),
    "W07": (("W07", history(disbursements=(Disbursement("2026-05", date(2026,6,28), 95_000.0),)), AS_OF),  # noqa: E501
        Signal(
        rule_code='W07',
        rule_version='w07-late-1',
        level='orange',
        period='2026-07',
        text_zh='2026-06、2026-07月医保基金逾期未拨付',
        text_en='fund disbursement overdue for 2026-06, 2026-07',
        inputs={'missing': ['2026-06', '2026-07']})),
    "W08": (("W08", history(overdue_days=31), AS_OF),
        Signal(
        rule_code='W08',
        rule_version='w08-overdue-1',
        level='red',
        period='2026-10',
        text_zh='总行报告贷款逾期31天',
        text_en='head office reports the loan 31 days overdue',
        inputs={'overdue_days': 31})),
    "W02": (("W02", history(last_settlement=AS_OF - timedelta(days=45)), AS_OF),
        Signal(
        rule_code='W02',
        rule_version='w02-silence-2',
        level='orange',
        period='2026-10',
        text_zh='已连续45天无医保结算',
        text_en='no settlement for 45 days',
        inputs={'last_settlement': '2026-08-18', 'days': 45})),
    # a clean step five months ago: any change-point detector finds it (docs/ews.md W04)
    "W04 red": (("W04", stepped(35_432.1), AS_OF),
        Signal(
        rule_code='W04',
        rule_version='w04-level-3',
        level='red',
        period='2026-09',
        text_zh='统筹结算收入自2026-05起降至原水平的35%（变点检测）',
        text_en='fund income fell to 35% of its former level from 2026-05 (change point)',
        inputs={'change_month': '2026-05', 'share': 0.3539, 'before': 100123.4,
                'after': 35432.1, 'detector': 'cusum-lrv-bs-jump-ramp-3'})),
    "W04 orange": (("W04", stepped(70_321.5), AS_OF),
        Signal(
        rule_code='W04',
        rule_version='w04-level-3',
        level='orange',
        period='2026-09',
        text_zh='统筹结算收入自2026-05起降至原水平的70%（变点检测）',
        text_en='fund income fell to 70% of its former level from 2026-05 (change point)',
        inputs={'change_month': '2026-05', 'share': 0.7023, 'before': 100123.4,
                'after': 70321.5, 'detector': 'cusum-lrv-bs-jump-ramp-3'})),
}


@pytest.mark.parametrize("name", list(CASES))
def test_what_staff_read_when_a_rule_fires(name: str) -> None:
    (code, h, as_of), expected = CASES[name]
    assert run_rule(RULES[code], h, as_of, record=False) == expected
    recorded = run_rule(RULES[code], h, as_of)
    assert recorded is not None
    assert recorded.inputs["replay"] == {"as_of": as_of.isoformat(),
                                         "params": dict(RULES[code].params),
                                         "history": h.as_json()}
    assert {k: v for k, v in recorded.inputs.items() if k != "replay"} == expected.inputs
