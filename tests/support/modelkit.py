"""Labelled samples for the workbench tests.

``synthetic_observations``: fast, engine-shaped observations whose outcome follows a known
logistic rule (falling income, instability, empty months and a weak grade raise the odds of
bad; a bigger business lowers them), plus a pure-noise characteristic and a near-copy of
another — so tests can check that building recovers the rule and screens out the rest.

``simulated``: the development sample from the simulated city (slow: cached per process).
"""

from __future__ import annotations

import math
from datetime import date
from functools import lru_cache

import numpy as np

from yibaodai.domain.admission import AdmissionInputs
from yibaodai.modelkit.samples import Observation
from yibaodai.modelkit.simulated import simulated_history

SEGMENTS = ("pharmacy", "clinic", "hospital")
DATES = tuple(date(2025, m, 1) for m in range(1, 7))


def synthetic_observations(n: int = 3000, *, seed: int = 1,
                           shift: float = 0.0) -> list[Observation]:
    """``shift`` moves the income distribution (a population drift for stability tests)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        segment = str(rng.choice(SEGMENTS, p=[0.6, 0.3, 0.1]))
        avg12 = float(rng.lognormal(math.log(60_000) + shift, 0.6))
        growth = float(rng.normal(0.02, 0.12))
        cv = float(abs(rng.normal(0.25, 0.12))) if rng.random() > 0.05 else None
        zero = int(rng.poisson(0.25))
        grade = str(rng.choice(list("AB"), p=[0.6, 0.4]))
        logit = (-2.4 - 5.0 * growth + 3.0 * (cv if cv is not None else 0.6) + 0.7 * zero
                 + 0.7 * (grade == "B") - 0.5 * math.log(avg12 / 60_000))
        bad = int(rng.random() < 1 / (1 + math.exp(-logit)))
        observed = DATES[k % len(DATES)]
        features = {
            "as_of": observed.isoformat(), "months_of_history": int(rng.integers(12, 25)),
            "avg_monthly_fund_pay_12m": f"{avg12:.2f}",
            "avg_monthly_fund_pay_6m": f"{avg12 * (1 + growth / 2):.2f}",
            "avg_monthly_fund_pay_3m": f"{avg12 * (1 + growth) * rng.normal(1, 0.01):.2f}",
            "growth_3m_over_prior_3m": growth, "cv_12m": cv, "zero_months_12m": zero,
            "refund_ratio": float(rng.beta(2, 80)),
            "acct_share_12m": float(rng.uniform(0.1, 0.5)),  # noise: no bearing on outcome
        }
        inputs = AdmissionInputs(
            fixmedins_code=f"P21020{k % 700:06d}", segment=segment, ownership="private",
            biz_stas="1", cred_lv_name=grade, penalties_24m=0, features=features,
            months_since_last_penalty=None, designation_days_left=400, months_designated=36)
        out.append(Observation(inputs, observed, bad))
    return out


@lru_cache(maxsize=2)
def simulated(institutions: int = 220, snapshots: int = 4
              ) -> tuple[list[Observation], list[Observation]]:
    return simulated_history(seed=5, institutions=institutions, as_of=date(2026, 6, 30),
                             snapshots=snapshots)
