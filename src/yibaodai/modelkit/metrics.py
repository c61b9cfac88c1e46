"""How good and how stable a score is: discrimination, calibration, cut-offs, PSI/CSI.

Scores are points, higher = better (fewer bads). Discrimination uses scikit-learn's ROC AUC
and scipy's two-sample Kolmogorov-Smirnov statistic (the largest gap between the score
distributions of goods and bads, the KS of credit scoring); Gini = 2 AUC - 1. Calibration
compares, per score band, the bad rate observed with the bad probability the points stand for
(``Scaling``), with scipy's exact binomial test.

Stability (PSI of the score over score bands, CSI of a characteristic over its bins):
``sum((actual share - expected share) x ln(actual share / expected share))``, shares smoothed
by half a row per bin so an empty bin does not give infinity. Thresholds: below 0.10 stable,
0.10-0.25 watch, 0.25 and above shifted. **Small populations**: even with no change at all, a
PSI computed from ``n`` and ``m`` rows over ``k`` bins comes out around ``(k - 1)(1/n + 1/m)``
(PSI is a symmetrised chi-square divided by the rows); each result carries that noise floor, and
``caution`` is set when it reaches ``CAUTION_NOISE`` (half the first threshold) — then a
"watch" may be sampling alone. A month of a few dozen decisions is such a case.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from yibaodai.modelkit.regression import Scaling

PSI_WATCH = 0.10
PSI_SHIFT = 0.25
CAUTION_NOISE = 0.05
SCORE_BANDS = 10
THRESHOLDS = {"watch": PSI_WATCH, "shift": PSI_SHIFT, "caution_noise_floor": CAUTION_NOISE}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def discrimination(target: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """Rows, bads, bad rate, AUC, KS, Gini (None where one outcome is absent)."""
    # SciPy and scikit-learn: imported here, not at module level. The web app imports this module,
    # and the bank's start-up (``serve``, the demo) should not pay seconds for them.
    from scipy.stats import ks_2samp
    from sklearn.metrics import roc_auc_score

    n, bads = len(target), int(np.sum(target))
    out: dict[str, Any] = {"rows": n, "bads": bads, "bad_rate": _rate(bads, n),
                           "auc": None, "ks": None, "gini": None}
    if 0 < bads < n:
        auc = float(roc_auc_score(target, -np.asarray(score, dtype="float64")))
        ks = float(ks_2samp(score[target == 1], score[target == 0]).statistic)
        out |= {"auc": auc, "ks": ks, "gini": 2 * auc - 1}
    return out


def band_edges(scores: np.ndarray, bands: int = SCORE_BANDS) -> list[int]:
    """Inner edges of about ``bands`` score bands of equal development population (whole
    points; duplicate quantiles merge bands)."""
    qs = np.quantile(scores, np.linspace(0, 1, bands + 1)[1:-1], method="lower")
    return sorted({int(q) + 1 for q in qs})


def band_of(edges: Sequence[int], scores: np.ndarray) -> np.ndarray:
    """Band index of each score: band i holds ``edges[i-1] <= score < edges[i]``."""
    return np.searchsorted(np.asarray(edges), scores, side="right")


def band_labels(edges: Sequence[int]) -> list[str]:
    bounds: list[int | None] = [None, *edges, None]
    return [f"[{'-inf' if lo is None else lo}, {'+inf' if hi is None else hi})"
            for lo, hi in itertools.pairwise(bounds)]


def band_counts(edges: Sequence[int], scores: np.ndarray) -> list[int]:
    return [int(c) for c in np.bincount(band_of(edges, scores), minlength=len(edges) + 1)]


def calibration(target: np.ndarray, score: np.ndarray, edges: Sequence[int],
                scaling: Scaling) -> list[dict[str, Any]]:
    from scipy.stats import binomtest  # lazily, as in ``discrimination``

    bands = band_of(edges, score)
    predicted = scaling.bad_probability(score)
    rows = []
    for i, label in enumerate(band_labels(edges)):
        mask = bands == i
        n, bads = int(mask.sum()), int(target[mask].sum())
        expected = float(predicted[mask].mean()) if n else None
        p_value = float(binomtest(bads, n, min(max(expected, 1e-12), 1.0)).pvalue) \
            if n and expected is not None else None
        rows.append({"band": label, "rows": n, "bads": bads, "observed_bad_rate": _rate(bads, n),
                     "predicted_bad_rate": expected, "binomial_p_value": p_value})
    return rows


def cutoff_table(target: np.ndarray, score: np.ndarray,
                 cutoffs: Sequence[int]) -> list[dict[str, Any]]:
    """For each cut-off (admit at score >= cut-off): approvals and bad rates either side."""
    n = len(target)
    rows = []
    for c in sorted(set(cutoffs)):
        admitted = score >= c
        a, bads_a = int(admitted.sum()), int(target[admitted].sum())
        bads_r = int(target[~admitted].sum())
        rows.append({"cutoff": int(c), "approved": a, "approval_rate": _rate(a, n),
                     "bad_rate_approved": _rate(bads_a, a),
                     "bad_rate_refused": _rate(bads_r, n - a)})
    return rows


def status_of(value: float | None) -> str:
    if value is None:
        return "no_data"
    return "stable" if value < PSI_WATCH else "watch" if value < PSI_SHIFT else "shift"


def stability(expected: Sequence[int], actual: Sequence[int],
              labels: Sequence[str]) -> dict[str, Any]:
    """PSI (or CSI) of ``actual`` counts against ``expected`` counts over the same bins."""
    e, a = np.asarray(expected, dtype="float64"), np.asarray(actual, dtype="float64")
    used = (e + a) > 0
    n_e, n_a, k = e.sum(), a.sum(), int(used.sum())
    if n_e == 0 or n_a == 0:
        return {"value": None, "status": "no_data", "expected_rows": int(n_e),
                "actual_rows": int(n_a), "noise_floor": None, "caution": True, "bins": []}
    pe = (e[used] + 0.5) / (n_e + 0.5 * k)
    pa = (a[used] + 0.5) / (n_a + 0.5 * k)
    parts = (pa - pe) * np.log(pa / pe)
    value = float(parts.sum())
    noise = (k - 1) * (1 / n_e + 1 / n_a)
    names = [lbl for lbl, u in zip(labels, used, strict=True) if u]
    return {"value": value, "status": status_of(value), "expected_rows": int(n_e),
            "actual_rows": int(n_a), "noise_floor": float(noise),
            "caution": bool(noise >= CAUTION_NOISE),
            "bins": [{"bin": name, "expected": int(x), "actual": int(y),
                      "expected_share": float(x / n_e), "actual_share": float(y / n_a),
                      "contribution": float(p)}
                     for name, x, y, p in zip(names, e[used], a[used], parts, strict=True)]}
