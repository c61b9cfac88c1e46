"""Which characteristics enter the regression, and why the others do not.

In order of information value (highest first), a characteristic is dropped when

* ``iv_below_min``  — its IV is below ``min_iv`` (it barely separates goods from bads);
* ``unstable``      — its CSI between the development rows and a later population (the
                      out-of-time rows, else the recent population) reaches ``max_csi``;
* ``correlated``    — the WoE of an already kept, stronger characteristic correlates with its
                      own beyond ``max_correlation`` (two views of the same fact);
* ``wrong_sign``    — after fitting, its coefficient says more WoE means more risk (decided in
                      ``regression.fit_with_signs``, recorded here).

Every decision is kept with its numbers, so the report shows what was left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from yibaodai.modelkit.binning import FeatureBinning


@dataclass(frozen=True)
class Choice:
    feature: str
    iv: float
    csi: float | None
    kept: bool
    reason: str  # "kept" or one of the codes above
    detail: str = ""


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def select(binnings: Mapping[str, FeatureBinning], woe: pd.DataFrame, *, min_iv: float,
           max_correlation: float, csi: Mapping[str, float] | None,
           max_csi: float) -> list[Choice]:
    """The choice for every characteristic, strongest first."""
    order = sorted(binnings, key=lambda f: (-binnings[f].iv, f))
    kept: list[str] = []
    out: list[Choice] = []
    for feature in order:
        iv = binnings[feature].iv
        stability = None if csi is None else csi.get(feature)
        if iv < min_iv:
            out.append(Choice(feature, iv, stability, False, "iv_below_min",
                              f"IV {iv:.4f} < {min_iv:g}"))
            continue
        if stability is not None and stability >= max_csi:
            out.append(Choice(feature, iv, stability, False, "unstable",
                              f"CSI {stability:.4f} >= {max_csi:g}"))
            continue
        column = woe[feature].to_numpy()
        twin = next((k for k in kept
                     if abs(_correlation(column, woe[k].to_numpy())) > max_correlation), None)
        if twin is not None:
            r = _correlation(column, woe[twin].to_numpy())
            out.append(Choice(feature, iv, stability, False, "correlated",
                              f"r = {r:.3f} with {twin}"))
            continue
        kept.append(feature)
        out.append(Choice(feature, iv, stability, True, "kept"))
    return out


def mark_wrong_sign(choices: list[Choice], dropped: Mapping[str, float]) -> list[Choice]:
    """Record the regression's sign drops (feature -> the coefficient it had)."""
    return [replace(c, kept=False, reason="wrong_sign",
                    detail=f"coefficient {dropped[c.feature]:+.4f}")
            if c.feature in dropped else c for c in choices]
