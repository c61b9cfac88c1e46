"""Benchmark: one monthly early-warning run over 5,000 borrowers with 3 years of history.

Side by side, in one run and on the same series: every warning rule over every borrower
(``domain.ews.rules.evaluate``, with the inputs each warning stores), the change-point detector
alone, and a ``ruptures`` Binseg loop (normal cost, penalty 20·log n) over the same monthly
series. The borrowers' monthly figures are drawn directly (level, seasonality, noise, a
fifth of them falling), not through the daily simulator, so the bench times the rules only.

    .venv/bin/python -m bench.ews_bench [--borrowers 5000] [--months 36] [--repeat 3]

Not a test: run by hand when the rules change; targets ≤ 10 s and faster than Binseg.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
import warnings
from datetime import date

from bench.common import machine_facts
from yibaodai.domain.ews.changepoint import change_points
from yibaodai.domain.ews.history import BorrowerHistory, MonthFigures
from yibaodai.domain.ews.rules import evaluate
from yibaodai.domain.months import previous_months

AS_OF = date(2026, 12, 1)


def borrowers(n: int, months: int, seed: int = 11) -> list[BorrowerHistory]:
    rng = random.Random(seed)
    keys = previous_months(AS_OF, months)
    out = []
    for _ in range(n):
        level = rng.lognormvariate(math.log(30_000), 0.8)
        amp = rng.choice((0.0, 0.0, 0.3))
        fall_at = rng.randrange(months) if rng.random() < 0.2 else None
        figures = {}
        for i, key in enumerate(keys):
            factor = 1 + amp * math.cos(2 * math.pi * int(key[5:]) / 12)
            if fall_at is not None and i >= fall_at:
                factor *= 0.45
            fund = round(level * factor * rng.lognormvariate(0, 0.12), 2)
            cnt = max(1, round(fund / 120))
            figures[key] = MonthFigures(fund, cnt, rng.randrange(0, max(1, cnt // 30)),
                                        round(rng.uniform(0.5, 0.7), 4))
        out.append(BorrowerHistory(months=figures, last_settlement=date(2026, 11, 29)))
    return out


def timed(run, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--borrowers", type=int, default=5000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    facts = machine_facts(packages=("ruptures", "numpy"))
    book = borrowers(args.borrowers, args.months)
    series = [[f.fund_pay for f in h.months.values()] for h in book]

    import numpy as np
    import ruptures

    def binseg_loop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for s in series:
                x = np.asarray(s)
                z = ((x - x.mean()) / (x.std() or 1.0)).reshape(-1, 1)
                ruptures.Binseg(model="normal", min_size=2, jump=1).fit(z).predict(
                    pen=20 * math.log(len(s)))

    signals: list[int] = []

    def monthly_run() -> None:
        signals.clear()
        signals.extend(len(evaluate(h, AS_OF)) for h in book)

    rules_s = timed(monthly_run, args.repeat)
    detector_s = timed(lambda: [change_points(s) for s in series], args.repeat)
    binseg_s = timed(binseg_loop, args.repeat)
    report = {
        "borrowers": args.borrowers, "months": args.months,
        "monthly_run_s": round(rules_s, 3), "detector_only_s": round(detector_s, 3),
        "ruptures_binseg_loop_s": round(binseg_s, 3),
        "binseg_over_monthly_run": round(binseg_s / rules_s, 2),
        "binseg_over_detector": round(binseg_s / detector_s, 2),
        "signals": sum(signals), "borrowers_with_signals": sum(1 for n in signals if n),
        "target_met": rules_s <= 10 and rules_s < binseg_s,
        "machine": facts,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
