"""Logistic regression on WoE, and its points: the scorecard.

The regression (scikit-learn's ``LogisticRegressionCV``, L2, the penalty chosen by stratified
5-fold cross-validated AUC on the development rows only) models ln(odds of bad) as
``intercept + sum(coefficient x WoE)``. Since WoE is ln(goods/bads), every coefficient must be
negative; a characteristic whose coefficient comes out positive is dropped (the weakest such
first) and the regression refitted.

Points (``Scaling``): score = offset + factor x ln(odds of good), factor = PDO / ln 2, offset =
base score - factor x ln(base odds): ``base_odds`` goods per bad at ``base_score`` points, twice
the odds every ``pdo`` points. So base points = round(offset - factor x intercept) and a bin's
points = round(-factor x coefficient x WoE). Whole points, as the engine scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibaodai.domain.scorecard import Scorecard
from yibaodai.errors import ValidationFailed
from yibaodai.modelkit.binning import FeatureBinning

#: The penalty strengths tried by cross-validation.
C_GRID = np.logspace(-3, 2, 16)
FOLDS = 5


@dataclass(frozen=True)
class Scaling:
    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def bad_probability(self, score: np.ndarray) -> np.ndarray:
        """The probability of bad that a score stands for."""
        log_odds_good = (np.asarray(score, dtype="float64") - self.offset) / self.factor
        return 1.0 / (1.0 + np.exp(log_odds_good))


@dataclass(frozen=True)
class Logit:
    intercept: float
    coefficients: dict[str, float]
    penalty_c: float


def fit_logit(woe: pd.DataFrame, target: np.ndarray, *, seed: int) -> Logit:
    # scikit-learn: imported here, not at module level. The web app imports this module,
    # and the bank's start-up (``serve``, the demo) should not pay seconds for them.
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    folds = min(FOLDS, int(target.sum()), int(len(target) - target.sum()))
    model = LogisticRegressionCV(
        Cs=C_GRID, l1_ratios=(0.0,), use_legacy_attributes=False, scoring="roc_auc",
        cv=StratifiedKFold(n_splits=max(folds, 2), shuffle=True, random_state=seed),
        max_iter=2000)
    model.fit(woe.to_numpy(), target)
    return Logit(float(model.intercept_[0]),
                 {f: float(b) for f, b in zip(woe.columns, model.coef_[0], strict=True)},
                 float(np.ravel(model.C_)[0]))


def fit_with_signs(woe: pd.DataFrame, target: np.ndarray, features: Sequence[str], *,
                   iv: Mapping[str, float], seed: int) -> tuple[Logit, dict[str, float]]:
    """The regression on ``features`` after dropping wrong-signed ones, weakest (lowest IV)
    first; (the fit, the dropped features with the coefficient each had)."""
    keep = list(features)
    dropped: dict[str, float] = {}
    while keep:
        logit = fit_logit(woe[keep], target, seed=seed)
        wrong = [f for f in keep if logit.coefficients[f] > 0]
        if not wrong:
            return logit, dropped
        weakest = min(wrong, key=lambda f: (iv[f], f))
        dropped[weakest] = logit.coefficients[weakest]
        keep.remove(weakest)
    raise ValidationFailed("没有可用的评分项", "no characteristic is left to score with (each "
                           "was too weak, unstable, correlated or of the wrong sign)",
                           code="no_characteristics")


def scorecard(binnings: Mapping[str, FeatureBinning], logit: Logit, scaling: Scaling, *,
              cutoff: int) -> Scorecard:
    factor = scaling.factor
    characteristics = []
    for feature, b in logit.coefficients.items():
        binning = binnings[feature]
        points = [round(-factor * b * s.woe) for s in binning.stats]
        characteristics.append(binning.characteristic(points))
    return Scorecard(base_points=round(scaling.offset - factor * logit.intercept),
                     cutoff=cutoff, characteristics=tuple(characteristics))


def cutoff_for_approval(scores: np.ndarray, approval_rate: float) -> int:
    """The highest whole score that still admits at least ``approval_rate`` of the rows."""
    return int(np.quantile(scores, 1.0 - approval_rate, method="lower"))
