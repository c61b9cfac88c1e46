"""``model benchmark``: the workbench's scorecard against optbinning's own pipeline.

On one seeded, stratified 70/30 split of any labelled CSV, in the same run:

* **ours** — the workbench pipeline (``build``: optimal binning with the catalogue's trends,
  selection by IV / correlation, cross-validated logistic regression, points), scored on the
  test rows with the *whole points* a model version would carry;
* **optbinning** — ``BinningProcess`` over every column (text columns declared categorical)
  followed by scikit-learn's ``LogisticRegression`` with its defaults, scored by probability.

Both are measured with the same AUC and KS (``metrics.discrimination``).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from optbinning import BinningProcess
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from yibaodai.modelkit import metrics
from yibaodai.modelkit.build import ALL, BuildParams, build
from yibaodai.modelkit.scoring import score_frame
from yibaodai.modelkit.table import read_csv, split


def _auc_ks(result: dict[str, Any]) -> dict[str, Any]:
    return {"auc": result["auc"], "ks": result["ks"]}


def benchmark(path: Path, *, target: str, seed: int = 42,
              test_share: float = 0.3) -> dict[str, Any]:
    started = time.perf_counter()
    table = read_csv(path, target=target)
    parts = split(table, test_share=test_share, seed=seed)
    assert parts.test is not None
    train, test = parts.train, parts.test
    ours = build(train, params=BuildParams(test_share=0, oot_share=0, segments=(), seed=seed),
                 source=str(path))
    points = score_frame(ours.card_for(ALL), test.frame)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optbinning's pandas dtype notices
        columns = list(train.frame.columns)
        pipeline = Pipeline([
            ("binning", BinningProcess(columns, categorical_variables=list(train.categorical))),
            ("regression", LogisticRegression())])
        pipeline.fit(train.frame, train.target)
        probability = pipeline.predict_proba(test.frame)[:, 1]
    return {"ours": _auc_ks(metrics.discrimination(test.target, points)),
            "optbinning": _auc_ks(metrics.discrimination(test.target, -probability)),
            "rows": len(table), "seconds": round(time.perf_counter() - started, 2)}
