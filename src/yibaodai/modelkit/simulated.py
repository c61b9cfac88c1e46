"""The development sample from the simulated history (the synthetic city of ``sim/city.py``).

The city's daily settlements are generated for every institution over the years before
``as_of``; on each of ``snapshots`` month starts the engine's own feature definitions are run
on DuckDB over those facts (``features.engines.batch_features``: the same definitions the
decisions use, so what the model learns from is what it will be given), with the profile facts
a decision would take on that day. The outcome is read from what the same institution's
settlements did in the ``horizon`` months after the snapshot — the simulation's hidden
archetypes are never looked at:

**bad** when, in the ``horizon`` months from the observation date, there are two consecutive
months without any fund payment (the business stopped), or the monthly mean of the second half
of the window is below ``DECLINE_RATIO`` of the 12-month average the features saw (the business
collapsed); otherwise **good**.

The last snapshot's window ends where ``as_of``'s month starts, so every outcome is already
known on ``as_of``; the rows on ``as_of`` itself have no outcome and are the recent population.
Designation agreements are taken as renewed when they expire (the city simulates no renewals;
without this, the agreement's end date would predict every "stop" exactly). The K10 knock-out
still reads the agreement's end date at observation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pyarrow as pa

from yibaodai.domain.admission import AdmissionInputs
from yibaodai.features import engines
from yibaodai.features.definitions import MONTHS, month_index, month_start
from yibaodai.modelkit.samples import Observation
from yibaodai.sim.city import SyntheticInstitution, daily_settlements, generate_city

DECLINE_RATIO = 0.5
HORIZON_MONTHS = 12
_FEN = Decimal(100)
Progress = Callable[[str, int, int], None]

LABEL_RULE = ("bad: within the horizon after the observation date, two consecutive months "
              "without fund payment, or the second half's monthly mean fund payment below "
              f"{DECLINE_RATIO:g} x the 12-month average at observation")


def observation_dates(as_of: date, *, snapshots: int, horizon: int = HORIZON_MONTHS
                      ) -> list[date]:
    """Month starts whose outcome window ends by ``as_of``'s month, oldest first."""
    last = month_index(as_of) - horizon
    return [month_start(last - k) for k in reversed(range(snapshots))]


def city_date(as_of: date, horizon: int = HORIZON_MONTHS) -> date:
    """The date the city is generated as of: where its stories (deteriorations, stops, new
    designations — spread about ten months either side) overlap the snapshots and their
    outcome windows, so some are visible at observation and some come only after."""
    return month_start(month_index(as_of) - horizon + 1) - timedelta(days=1)


def _facts(inst: SyntheticInstitution, *, seed: int, start: date,
           end: date) -> tuple[pa.Table, dict[int, int]]:
    # designations are taken as renewed on expiry (the city simulates no renewals)
    rows = daily_settlements(replace(inst, endtime=max(inst.endtime, end)), seed=seed,
                             start=start, end=end)
    monthly: dict[int, int] = {}
    for r in rows:
        key = month_index(r.setl_date)
        monthly[key] = monthly.get(key, 0) + int(r.fund_pay_sumamt * _FEN)
    def fen(name: str) -> np.ndarray:
        return np.fromiter((int(getattr(r, name) * _FEN) for r in rows), dtype=np.int64,
                           count=len(rows))
    table = pa.table({
        "fixmedins_code": pa.array([inst.fixmedins_code] * len(rows), pa.string()),
        "setl_date": pa.array([r.setl_date for r in rows], pa.date32()),
        "setl_cnt": pa.array([r.setl_cnt for r in rows], pa.int64()),
        "refd_setl_cnt": pa.array([r.refd_setl_cnt for r in rows], pa.int64()),
        "medfee_sumamt_fen": fen("medfee_sumamt"), "fund_pay_sumamt_fen": fen("fund_pay_sumamt"),
        "hifp_pay_fen": fen("hifp_pay"), "acct_pay_fen": fen("acct_pay"),
        "psn_cash_pay_fen": fen("psn_cash_pay")})
    return table, monthly


def _institutions(city: list[SyntheticInstitution]) -> pa.Table:
    return pa.table({
        "fixmedins_code": [i.fixmedins_code for i in city],
        "fixmedins_type": [i.fixmedins_type for i in city],
        "hosp_lv": [i.hosp_lv or None for i in city],
        "ownership": [i.ownership for i in city],
        "biz_stas": [i.biz_stas for i in city],
        "cred_lv_name": [i.cred_lv_name for i in city],
        "begntime": pa.array([i.begntime for i in city], pa.date32())})


def _no_events() -> pa.Table:
    return pa.table({"fixmedins_code": pa.array([], pa.string()),
                     "evt_type": pa.array([], pa.string()),
                     "evt_date": pa.array([], pa.date32())})


def inputs_on(inst: SyntheticInstitution, features: dict[str, object],
              on: date) -> AdmissionInputs:
    """The inputs a decision on ``on`` would take (as ``admission.service.gather_inputs``)."""
    stopped = inst.stopped_on is not None and inst.stopped_on <= on
    return AdmissionInputs(
        fixmedins_code=inst.fixmedins_code, segment=str(features["institution_type"]),
        ownership=inst.ownership or "private", biz_stas="2" if stopped else "1",
        cred_lv_name=inst.cred_lv_name or "",
        penalties_24m=int(features["penalties_or_suspensions_24m"] or 0),  # type: ignore[call-overload]
        features=features, months_since_last_penalty=None,
        designation_days_left=(inst.endtime - on).days,
        months_designated=features["months_since_designation"],  # type: ignore[arg-type]
    )


def outcome(monthly: dict[int, int], *, observed_on: date, avg_12m_yuan: str,
            horizon: int = HORIZON_MONTHS) -> int:
    """1 bad, 0 good, by the rule in the module docstring."""
    first = month_index(observed_on)
    series = [monthly.get(first + k, 0) for k in range(horizon)]
    stopped = any(a <= 0 and b <= 0 for a, b in pairwise(series))
    late = series[horizon // 2:]
    baseline = Decimal(avg_12m_yuan) * _FEN
    collapsed = baseline > 0 and Decimal(sum(late)) / len(late) < baseline * Decimal(
        str(DECLINE_RATIO))
    return int(stopped or collapsed)


def simulated_history(*, seed: int, institutions: int, as_of: date, snapshots: int = 6,
                      horizon: int = HORIZON_MONTHS, progress: Progress | None = None
                      ) -> tuple[list[Observation], list[Observation]]:
    """(labelled observations on the snapshot dates, unlabelled ones on ``as_of``)."""
    dates = observation_dates(as_of, snapshots=snapshots, horizon=horizon)
    city = generate_city(seed=seed, institutions=institutions, as_of=city_date(as_of, horizon))
    start = month_start(month_index(dates[0]) - MONTHS)
    parts, monthly = [], {}
    for n, inst in enumerate(city):
        if progress and n % 25 == 0:
            progress("simulating settlements", n, len(city))
        table, months = _facts(inst, seed=seed, start=start, end=as_of - timedelta(days=1))
        parts.append(table)
        monthly[inst.fixmedins_code] = months
    by_code = {i.fixmedins_code: i for i in city}
    con = engines.duckdb_backend({engines.FACTS: pa.concat_tables(parts),
                                  engines.INSTITUTIONS: _institutions(city),
                                  engines.EVENTS: _no_events()})
    labelled: list[Observation] = []
    recent: list[Observation] = []
    try:
        for n, on in enumerate([*dates, as_of]):
            if progress:
                progress(f"features on {on}", n, len(dates) + 1)
            for features in engines.batch_features(con, as_of=on):
                inst = by_code[str(features["fixmedins_code"])]
                if inst.begntime > on:
                    continue  # not designated yet: not part of the population
                inputs = inputs_on(inst, features, on)
                if on == as_of:
                    recent.append(Observation(inputs, on, None))
                else:
                    bad = outcome(monthly[inst.fixmedins_code], observed_on=on,
                                  avg_12m_yuan=str(features["avg_monthly_fund_pay_12m"]),
                                  horizon=horizon)
                    labelled.append(Observation(inputs, on, bad))
    finally:
        con.disconnect()
    return labelled, recent
