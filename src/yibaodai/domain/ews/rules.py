"""The post-loan warning rules (贷后预警规则), each a documented, versioned rule with its
parameters (docs/ews.md). Pure: a borrower's history and a day in, signals out.

Codes are stable: W01-W03 keep their old meaning (income shortfall, settlement silence, bureau
events) with better rules; W04-W08 are new. A change to a rule's logic or parameters is a new
``version`` of that rule; each signal carries the version, the parameters and the history it
was computed from, so ``replay`` recomputes it exactly."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from statistics import median
from typing import Any, Literal

from yibaodai.domain.ews.changepoint import CHANGEPOINT_VERSION, change_points
from yibaodai.domain.ews.history import BorrowerHistory, BureauEvent
from yibaodai.domain.months import month_key, previous_months

Level = Literal["red", "orange", "yellow", "blue"]
LEVEL_RANK: dict[str, int] = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
LEVEL_ZH: dict[str, str] = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
RULES_VERSION = "ews-rules-2026.12-r4"
HISTORY_MONTHS = 36


@dataclass(frozen=True)
class Signal:
    rule_code: str
    rule_version: str
    level: Level
    period: str
    text_zh: str
    text_en: str
    #: the facts shown to staff, and under ``replay`` the day, parameters and history used
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """What a rule function returns before the engine adds code, version and inputs."""

    level: Level
    period: str
    text_zh: str
    text_en: str
    facts: dict[str, Any] = field(default_factory=dict)


RuleFn = Callable[[BorrowerHistory, date, Mapping[str, Any]], Finding | None]


@dataclass(frozen=True)
class Rule:
    code: str
    version: str
    name_zh: str
    name_en: str
    params: Mapping[str, Any]
    check: RuleFn


def _month_before(key: str, count: int = 1) -> str:
    year, month = int(key[:4]), int(key[5:])
    month -= count
    while month <= 0:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


def _festival_smoothed(h: BorrowerHistory, months: list[str]) -> list[float]:
    """Monthly income with January and February both replaced by their mean: the Spring
    Festival moves between the two, so only their sum is comparable from year to year."""
    values = [h.fund_pay(m) for m in months]
    for i, m in enumerate(months):
        if m.endswith("-01") and i + 1 < len(months):
            pair = (values[i] + values[i + 1]) / 2
            values[i] = values[i + 1] = pair
    return values


def _base(h: BorrowerHistory, month: str, window: int) -> float:
    """Median festival-smoothed income of the ``window`` months before ``month``."""
    months = [_month_before(month, k) for k in range(window + 1, 0, -1)]
    # smooth over a span that includes February when the window ends on a January
    smoothed = _festival_smoothed(h, [*months, month])[:-1]
    return float(median(smoothed))


def expected_income(h: BorrowerHistory, month: str, window: int = 6) -> float | None:
    """The borrower's own seasonal expectation for ``month``: the median of the months before
    it, times last year's ratio of the same month to its own preceding median (when a year of
    history is there; clipped to 0.5-2 so one odd month cannot set the bar)."""
    base = _base(h, month, window)
    if base <= 0:
        return None
    last_year = _month_before(month, 12)
    if all(_month_before(last_year, k) in h.months for k in range(1, window + 1)) \
            and last_year in h.months:
        before = _base(h, last_year, window)
        if before > 0:
            return base * min(2.0, max(0.5, h.fund_pay(last_year) / before))
    return base


def _shortfall_ratio(h: BorrowerHistory, month: str, window: int) -> float | None:
    """Actual over expected income for ``month``; February is judged as January+February."""
    if month.endswith("-02"):
        jan = _month_before(month)
        exp_jan, exp_feb = expected_income(h, jan, window), expected_income(h, month, window)
        if exp_jan is None or exp_feb is None:
            return None
        return (h.fund_pay(jan) + h.fund_pay(month)) / (exp_jan + exp_feb)
    expected = expected_income(h, month, window)
    return None if expected is None else h.fund_pay(month) / expected


def _watched_months(h: BorrowerHistory, as_of: date) -> list[str]:
    months = previous_months(as_of, HISTORY_MONTHS)
    first = next((i for i, m in enumerate(months) if h.months.get(m)), len(months))
    return months[first:]


def w01_shortfall(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> Finding | None:
    """Last complete month against the borrower's own seasonal expectation: below
    ``near_breach`` (70 %) yellow, below ``breach`` (50 %) orange, a breach two months running
    red; ``declines`` consecutive falls of the ratio ending below ``decline_floor`` blue.
    January waits for February (the Spring Festival)."""
    months = _watched_months(h, as_of)
    if len(months) < p["min_history"]:
        return None
    last = months[-1]
    if last.endswith("-01"):
        return None
    window = int(p["window"])
    ratio = _shortfall_ratio(h, last, window)
    if ratio is None:
        return None
    facts: dict[str, Any] = {"month": last, "ratio": round(ratio, 4)}
    judged = "1-2月合计" if last.endswith("-02") else f"{last}月"
    judged_en = "January+February" if last.endswith("-02") else last
    if ratio < p["breach"]:
        # the month judged before: February (as January+February) for March, December for
        # February, else the month before
        prev_month = _month_before(last, 2 if last.endswith("-02") else 1)
        prev = _shortfall_ratio(h, prev_month, window)
        level: Level = "red" if prev is not None and prev < p["breach"] else "orange"
        facts["previous_ratio"] = None if prev is None else round(prev, 4)
        return Finding(level, last, f"{judged}统筹结算收入仅为自身季节性预期的{ratio:.0%}，"
                       f"低于{p['breach']:.0%}（突破）",
                       f"fund income in {judged_en} was {ratio:.0%} of its seasonal expectation "
                       f"(breach below {p['breach']:.0%})", facts)
    if ratio < p["near_breach"]:
        return Finding("yellow", last, f"{judged}统筹结算收入为自身季节性预期的{ratio:.0%}，"
                       f"低于{p['near_breach']:.0%}（接近突破）",
                       f"fund income in {judged_en} was {ratio:.0%} of its seasonal expectation "
                       f"(near breach below {p['near_breach']:.0%})", facts)
    ratios = []
    for k in range(int(p["declines"]) + 1):
        m = _month_before(last, k)
        if m.endswith("-01"):
            return None
        r = _shortfall_ratio(h, m, window)
        if r is None:
            return None
        ratios.append(r)
    ratios.reverse()
    if all(b < a for a, b in pairwise(ratios)) \
            and ratios[-1] < p["decline_floor"]:
        facts["ratios"] = [round(r, 4) for r in ratios]
        return Finding("blue", last, f"统筹结算收入相对季节性预期连续{p['declines']}个月下降"
                       f"（现为{ratio:.0%}）", f"fund income fell against its seasonal "
                       f"expectation {p['declines']} months running (now {ratio:.0%})", facts)
    return None


def w02_silence(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> Finding | None:
    """No settlement at all for ``orange_days`` (30) days, red from ``red_days`` (60). The
    bureau pushes settlement data daily, so this needs no allowance beyond a month."""
    if h.last_settlement is None:
        return None
    days = (as_of - h.last_settlement).days
    if days < p["orange_days"]:
        return None
    level: Level = "red" if days >= p["red_days"] else "orange"
    return Finding(level, month_key(as_of), f"已连续{days}天无医保结算",
                   f"no settlement for {days} days",
                   {"last_settlement": h.last_settlement.isoformat(), "days": days})


EVENT_LEVEL: dict[str, Level] = {"suspension": "red", "designation_end": "red",
                                 "penalty": "orange", "grade_change": "yellow",
                                 "staff_points": "yellow"}
EVENT_ZH = {"penalty": "医保处罚", "suspension": "暂停医保结算", "designation_end": "定点协议终止",
            "grade_change": "信用等级下调", "staff_points": "医保医师/药师记分"}
GRADES = "ABCD"  # the bureau's credit grades, best first
_GRADE_MOVE = re.compile(r"([A-D])\s*(?:→|->)\s*([A-D])")


def grade_move(evt_desc: str) -> tuple[str, str] | None:
    """The grades a grade-change event names (``A→C``), or None when it names none."""
    found = _GRADE_MOVE.search(evt_desc)
    return (found.group(1), found.group(2)) if found else None


def _event_level(e: BureauEvent, h: BorrowerHistory, staff_points: int,
                 p: Mapping[str, Any]) -> Level | None:
    if e.evt_type == "grade_change":
        move = grade_move(e.evt_desc)
        if move is not None and GRADES.index(move[1]) <= GRADES.index(move[0]):
            return None  # an upgrade (or no change) is no warning
        now = h.credit_grade or (move[1] if move is not None else "")  # the profile's grade
        return "orange" if now in ("C", "D") else "yellow"
    if e.evt_type == "staff_points" and staff_points >= int(p["staff_points_orange"]):
        return "orange"
    return EVENT_LEVEL.get(e.evt_type)


def w03_bureau(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> Finding | None:
    """Bureau events since the bank began watching (within ``lookback_days``): suspension or
    end of designation red, penalty orange, a credit-grade downgrade yellow (orange when the
    profile's grade is now C or D; an upgrade, ``C→A`` in the bureau's text, is no warning),
    penalty points on the institution's staff (医保医师/药师记分) yellow, orange from
    ``staff_points_orange`` such events; designation ending within ``designation_days``
    yellow."""
    since = max(h.watched_since or date.min, as_of - timedelta(days=int(p["lookback_days"])))
    events = sorted((e for e in h.events if e.evt_type in EVENT_LEVEL and
                     since <= e.evt_date <= as_of), key=lambda e: (e.evt_date, e.evt_type))
    found: list[tuple[Level, str, str, str]] = []
    points = 0
    for e in events:
        points += e.evt_type == "staff_points"
        level = _event_level(e, h, points, p)
        if level is None:
            continue
        found.append((level, month_key(e.evt_date),
                      f"医保局通报{EVENT_ZH[e.evt_type]}（{e.evt_date.isoformat()}）：{e.evt_desc}",
                      f"bureau reported {e.evt_type.replace('_', ' ')} on "
                      f"{e.evt_date.isoformat()}"))
    if h.designation_end is not None and as_of <= h.designation_end <= as_of + timedelta(
            days=int(p["designation_days"])):
        days = (h.designation_end - as_of).days
        found.append(("yellow", month_key(as_of), f"定点协议将于{days}天后到期",
                      f"designation ends in {days} days"))
    if not found:
        return None
    worst = max(found, key=lambda f: (LEVEL_RANK[f[0]], f[1]))
    return Finding(worst[0], max(f[1] for f in found), "；".join(f[2] for f in found),
                   "; ".join(f[3] for f in found),
                   {"events": [{"evt_type": e.evt_type, "evt_date": e.evt_date.isoformat(),
                                "evt_desc": e.evt_desc} for e in events],
                    "credit_grade": h.credit_grade,
                    "designation_end": h.designation_end.isoformat() if h.designation_end
                    else None})


#: what an external source may report (``monitoring.sources``) and its level
EXTERNAL_LEVEL: dict[str, Level] = {
    "court_dishonest": "red", "registration_revoked": "red",
    "court_enforcement": "orange", "registration_abnormal": "orange",
    "tax_revenue_drop": "yellow"}
EXTERNAL_ZH = {"court_dishonest": "列入失信被执行人名单", "court_enforcement": "被法院强制执行",
               "registration_revoked": "营业执照被吊销或注销",
               "registration_abnormal": "列入经营异常名录", "tax_revenue_drop": "纳税申报收入下降"}


def w09_external(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> Finding | None:
    """Facts from external sources (tax, business registration, court enforcement lists;
    ``BorrowerHistory.extra["external"]``) since the bank began watching, within
    ``lookback_days``: on the dishonest-debtor list or the licence revoked red, enforcement or
    the abnormal-operations list orange, tax-declared revenue falling yellow."""
    since = max(h.watched_since or date.min, as_of - timedelta(days=int(p["lookback_days"])))
    facts = sorted((f for f in h.extra.get("external", [])
                    if f.get("kind") in EXTERNAL_LEVEL
                    and since <= date.fromisoformat(f["fact_date"]) <= as_of),
                   key=lambda f: (f["fact_date"], f["kind"]))
    if not facts:
        return None
    worst = max(facts, key=lambda f: (LEVEL_RANK[EXTERNAL_LEVEL[f["kind"]]], f["fact_date"]))
    return Finding(
        EXTERNAL_LEVEL[worst["kind"]], max(month_key(date.fromisoformat(f["fact_date"]))
                                           for f in facts),
        "；".join(f"{f['source']}：{EXTERNAL_ZH[f['kind']]}（{f['fact_date']}）"
                 f"{f.get('note') or ''}" for f in facts),
        "; ".join(f"{f['source']}: {f['kind'].replace('_', ' ')} on {f['fact_date']}"
                  for f in facts),
        {"external": facts})


def w04_level_change(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> Finding | None:
    """A fall in the level of monthly income found by the change-point detector on up to 36
    months (January and February averaged): the newest change within ``recent_months``,
    with the new level below ``orange_share`` (75 %) of the old one orange, below
    ``red_share`` (50 %) red."""
    months = _watched_months(h, as_of)
    if months and months[-1].endswith("-01"):
        months = months[:-1]  # January waits for February
    if len(months) < p["min_history"]:
        return None
    values = _festival_smoothed(h, months)
    cuts = change_points(values)
    if not cuts or cuts[-1] < len(values) - int(p["recent_months"]):
        return None
    cut = cuts[-1]
    start = cuts[-2] if len(cuts) > 1 else 0
    before = float(median(values[start:cut]))
    after = float(median(values[cut:]))
    # the detector's minimum segment may pull a last normal month into the new level: the
    # change month is the first one nearer the new level than the old
    while cut < len(values) - 1 and abs(values[cut] - before) < abs(values[cut] - after):
        cut += 1
    if before <= 0:
        return None
    share = after / before
    if share >= p["orange_share"]:
        return None
    level: Level = "red" if share < p["red_share"] else "orange"
    return Finding(level, months[-1], f"统筹结算收入自{months[cut]}起降至原水平的{share:.0%}"
                   "（变点检测）", f"fund income fell to {share:.0%} of its former level "
                   f"from {months[cut]} (change point)",
                   {"change_month": months[cut], "share": round(share, 4),
                    "before": round(before, 2), "after": round(after, 2),
                    "detector": CHANGEPOINT_VERSION})


def _spike_months(h: BorrowerHistory, as_of: date, window: int) -> tuple[str, list[str]] | None:
    months = _watched_months(h, as_of)
    if len(months) < window + 1 or months[-1].endswith(("-01", "-02")):
        return None  # the festival months are not compared with their neighbours
    return months[-1], [m for m in months[-window - 1:-1] if not m.endswith(("-01", "-02"))]


def w05_spikes(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> Finding | None:
    """Patterns that may signal fraud in the last complete month against the median of the
    months before: settlement count above ``count_factor`` (2x) the usual, refund share above
    ``refund_factor`` (3x) the usual and at least ``refund_floor`` (10 %), or the employees'
    share of the fund moving by more than ``share_shift`` (25 points). All yellow."""
    picked = _spike_months(h, as_of, int(p["window"]))
    if picked is None:
        return None
    last, prior = picked
    now = h.months.get(last)
    figures = [h.months[m] for m in prior if m in h.months]
    if now is None or len(figures) < 3:
        return None
    zh: list[str] = []
    en: list[str] = []
    facts: dict[str, Any] = {"month": last}
    usual_cnt = float(median(f.setl_cnt for f in figures))
    year_ago = h.months.get(_month_before(last, 12))
    if year_ago is not None:  # a seasonal peak is no spike: compare with last year's month too
        usual_cnt = max(usual_cnt, float(year_ago.setl_cnt))
    if usual_cnt > 0 and now.setl_cnt > p["count_factor"] * usual_cnt:
        zh.append(f"结算笔数{now.setl_cnt}为常月的{now.setl_cnt / usual_cnt:.1f}倍")
        en.append(f"settlement count {now.setl_cnt} is {now.setl_cnt / usual_cnt:.1f}x usual")
        facts["count"], facts["usual_count"] = now.setl_cnt, usual_cnt
    refunds = [f.refd_cnt / f.setl_cnt for f in figures if f.setl_cnt]
    usual_refund = float(median(refunds)) if refunds else 0.0
    refund = now.refd_cnt / now.setl_cnt if now.setl_cnt else 0.0
    if refund >= p["refund_floor"] and refund > p["refund_factor"] * usual_refund:
        zh.append(f"退费占比{refund:.0%}（常月{usual_refund:.0%}）")
        en.append(f"refund share {refund:.0%} (usually {usual_refund:.0%})")
        facts["refund_share"], facts["usual_refund_share"] = round(refund, 4), round(
            usual_refund, 4)
    shares = [f.employee_share for f in figures if f.employee_share is not None]
    if now.employee_share is not None and len(shares) >= 3:
        usual_share = float(median(shares))
        if abs(now.employee_share - usual_share) > p["share_shift"]:
            zh.append(f"职工医保占比由{usual_share:.0%}变为{now.employee_share:.0%}")
            en.append(f"employees' insurance share moved from {usual_share:.0%} to "
                      f"{now.employee_share:.0%}")
            facts["employee_share"], facts["usual_employee_share"] = now.employee_share, round(
                usual_share, 4)
    if not zh:
        return None
    return Finding("yellow", last, "疑似异常：" + "；".join(zh),
                   "unusual pattern: " + "; ".join(en), facts)


def _disbursement_deadline(month: str, p: Mapping[str, Any]) -> date:
    """Funds for month M are claimed by the 10th of M+1 and paid within about 20 working days
    (``payment_days`` calendar days stand for them) plus ``grace_days``."""
    year, mon = int(month[:4]), int(month[5:]) + 1
    if mon == 13:
        year, mon = year + 1, 1
    return date(year, mon, 10) + timedelta(days=int(p["payment_days"]) + int(p["grace_days"]))


def _due_months(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> list[str]:
    """Settled months whose disbursement is due by ``as_of`` (newest last), for borrowers whose
    disbursements the bureau shares at all."""
    if not h.disbursements:
        return []
    first_paid = min(d.setlym for d in h.disbursements)
    return [m for m in previous_months(as_of, int(p["months"]))
            if m >= first_paid and h.fund_pay(m) > 0 and _disbursement_deadline(m, p) < as_of]


def w06_disbursement_mismatch(h: BorrowerHistory, as_of: date, p: Mapping[str, Any],
                              ) -> Finding | None:
    """The fund's disbursements (8303) for the newest due month against its settled fund
    income: paid share outside ``low``-``high`` (60 %-130 %) yellow, below ``very_low`` (30 %)
    orange. The usual hold-back (about 5-10 %) stays well inside the band."""
    due = _due_months(h, as_of, p)
    if not due:
        return None
    month = due[-1]
    paid = sum(d.amount for d in h.disbursements if d.setlym == month)
    if paid == 0:
        return None  # that is lateness (W07), not a mismatch
    share = paid / h.fund_pay(month)
    if p["low"] <= share <= p["high"]:
        return None
    level: Level = "orange" if share < p["very_low"] else "yellow"
    return Finding(level, month, f"{month}月基金拨付额为结算统筹额的{share:.0%}",
                   f"fund disbursed for {month} is {share:.0%} of settled fund income",
                   {"month": month, "paid": round(paid, 2), "settled": h.fund_pay(month),
                    "share": round(share, 4)})


def w07_disbursement_late(h: BorrowerHistory, as_of: date, p: Mapping[str, Any],
                          ) -> Finding | None:
    """Settled months with no disbursement (8303) past the normal lag: one month yellow,
    two or more orange."""
    missing = [m for m in _due_months(h, as_of, p)
               if not any(d.setlym == m for d in h.disbursements)]
    if not missing:
        return None
    level: Level = "orange" if len(missing) >= 2 else "yellow"
    return Finding(level, missing[-1], f"{'、'.join(missing)}月医保基金逾期未拨付",
                   f"fund disbursement overdue for {', '.join(missing)}",
                   {"missing": missing})


def w08_overdue(h: BorrowerHistory, as_of: date, p: Mapping[str, Any]) -> Finding | None:
    """Overdue reported by head office (8601): any day orange, ``red_days`` (30) or more red."""
    if h.overdue_days <= 0:
        return None
    level: Level = "red" if h.overdue_days >= p["red_days"] else "orange"
    return Finding(level, month_key(as_of), f"总行报告贷款逾期{h.overdue_days}天",
                   f"head office reports the loan {h.overdue_days} days overdue",
                   {"overdue_days": h.overdue_days})


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("W01", "w01-shortfall-3", "季节性收入缺口", "Seasonal income shortfall",
         {"window": 6, "near_breach": 0.7, "breach": 0.5, "declines": 3, "decline_floor": 0.85,
          "min_history": 7}, w01_shortfall),
    Rule("W02", "w02-silence-2", "结算中断", "Settlement stopped",
         {"orange_days": 30, "red_days": 60}, w02_silence),
    Rule("W03", "w03-bureau-3", "医保局事件", "Bureau events",
         {"lookback_days": 365, "designation_days": 60, "staff_points_orange": 2}, w03_bureau),
    Rule("W04", "w04-level-3", "收入水平变化", "Income level change",
         {"recent_months": 6, "orange_share": 0.75, "red_share": 0.5, "min_history": 12},
         w04_level_change),
    Rule("W05", "w05-spikes-1", "异常波动", "Suspicious spikes",
         {"window": 6, "count_factor": 2.0, "refund_factor": 3.0, "refund_floor": 0.1,
          "share_shift": 0.25}, w05_spikes),
    Rule("W06", "w06-mismatch-1", "拨付与结算不符", "Disbursement mismatch",
         {"months": 4, "payment_days": 28, "grace_days": 10, "low": 0.6, "high": 1.3,
          "very_low": 0.3}, w06_disbursement_mismatch),
    Rule("W07", "w07-late-1", "基金拨付逾期", "Disbursement late",
         {"months": 4, "payment_days": 28, "grace_days": 10}, w07_disbursement_late),
    Rule("W08", "w08-overdue-1", "贷款逾期", "Loan overdue", {"red_days": 30}, w08_overdue),
    Rule("W09", "w09-external-1", "外部数据", "External sources", {"lookback_days": 365},
         w09_external),
)}


def run_rule(rule: Rule, history: BorrowerHistory, as_of: date,
             params: Mapping[str, Any] | None = None, *, record: bool = True) -> Signal | None:
    """One rule on one borrower. With ``record`` the signal keeps what ``replay`` needs."""
    used = dict(rule.params if params is None else params)
    found = rule.check(history, as_of, used)
    if found is None:
        return None
    inputs: dict[str, Any] = dict(found.facts)
    if record:
        inputs["replay"] = {"as_of": as_of.isoformat(), "params": used,
                            "history": history.as_json()}
    return Signal(rule.code, rule.version, found.level, found.period, found.text_zh,
                  found.text_en, inputs)


def evaluate(history: BorrowerHistory, as_of: date, *, record: bool = True,
             rules: Mapping[str, Rule] = RULES) -> list[Signal]:
    """Every rule on one borrower as of ``as_of`` (at most one signal per rule)."""
    out = []
    for rule in rules.values():
        signal = run_rule(rule, history, as_of, record=record)
        if signal is not None:
            out.append(signal)
    return out


def replay(rule_code: str, inputs: Mapping[str, Any]) -> Signal | None:
    """Recompute a stored signal from its own inputs (same rule, parameters, history, day)."""
    kept = inputs["replay"]
    return run_rule(RULES[rule_code], BorrowerHistory.from_json(kept["history"]),
                    date.fromisoformat(kept["as_of"]), kept["params"])


__all__ = ["LEVEL_RANK", "RULES", "RULES_VERSION", "Finding", "Level", "Rule", "Signal",
           "evaluate", "expected_income", "replay", "run_rule"]
