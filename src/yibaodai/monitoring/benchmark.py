"""The change-point benchmark (``yibaodai ews benchmark``): reads a directory laid out like
TCPD (``series/*.json``, ``annotations.json``), runs our detector with its one default
configuration on every series and scores it beside two baselines computed in the same run —
no change points at all, and ``ruptures`` binary segmentation with the normal cost and the
standard penalty 20·log n on the standardised series (TCPD's default Binseg setting)."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yibaodai.domain.ews.changepoint import CHANGEPOINT_VERSION, change_points, fill_missing
from yibaodai.domain.ews.metrics import score
from yibaodai.errors import FieldError, NotFound, ValidationFailed


@dataclass(frozen=True)
class LabelledSeries:
    name: str
    values: list[float | None]
    annotations: list[list[int]]


def load_tcpd(directory: Path) -> list[LabelledSeries]:
    """Every series of the directory with its annotators' change points, sorted by name."""
    notes_file = directory / "annotations.json"
    if not (directory / "series").is_dir() or not notes_file.is_file():
        raise NotFound(f"找不到变点基准数据：{directory}（应含 series/*.json 与 annotations.json）",
                       f"no change-point benchmark data in {directory} (expected series/*.json "
                       "and annotations.json)", code="tcpd_missing",
                       fields=[FieldError("tcpd", "目录不存在或不完整", "missing or incomplete")])
    notes: dict[str, dict[str, list[int]]] = json.loads(notes_file.read_text("utf-8"))
    out: list[LabelledSeries] = []
    for path in sorted((directory / "series").glob("*.json")):
        raw = json.loads(path.read_text("utf-8"))["series"][0]["raw"]
        if path.stem not in notes:
            raise ValidationFailed(f"序列 {path.stem} 没有标注", f"series {path.stem} has no "
                                   "annotations", code="tcpd_unannotated",
                                   fields=[FieldError(path.stem, "缺少标注", "not annotated")])
        out.append(LabelledSeries(path.stem, [None if v is None else float(v) for v in raw],
                                  [list(v) for v in notes[path.stem].values()]))
    if not out:
        raise NotFound(f"{directory}/series 下没有序列", f"no series under {directory}/series",
                       code="tcpd_empty")
    return out


def binseg_baseline(values: list[float | None]) -> list[int]:
    """``ruptures`` Binseg, normal cost, penalty 20·log n, on the standardised series."""
    import numpy as np
    import ruptures

    x = np.asarray(fill_missing(values), dtype=float)
    spread = float(x.std()) or 1.0
    z = ((x - x.mean()) / spread).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ruptures' note on its covariance bias
        ends = ruptures.Binseg(model="normal", min_size=2, jump=1).fit(z).predict(
            pen=20 * math.log(len(x)))
    return [int(e) for e in ends[:-1]]


def _mean(pairs: list[tuple[float, float]]) -> dict[str, float]:
    return {"f1": round(sum(p[0] for p in pairs) / len(pairs), 4),
            "cover": round(sum(p[1] for p in pairs) / len(pairs), 4)}


def run_benchmark(directory: Path) -> dict[str, Any]:
    """The report ``ews benchmark --json`` prints (shape fixed by issue 11)."""
    data = load_tcpd(directory)
    ours: list[tuple[float, float]] = []
    zero: list[tuple[float, float]] = []
    binseg: list[tuple[float, float]] = []
    per_series: dict[str, dict[str, Any]] = {}
    for s in data:
        n = len(s.values)
        predicted = change_points(s.values)
        f1, cover = score(s.annotations, predicted, n)
        ours.append((f1, cover))
        zero.append(score(s.annotations, [], n))
        binseg.append(score(s.annotations, binseg_baseline(s.values), n))
        per_series[s.name] = {"f1": round(f1, 4), "cover": round(cover, 4),
                              "predicted": predicted}
    return {"mean": _mean(ours), "series": per_series,
            "baselines": {"zero": _mean(zero), "binseg": _mean(binseg)},
            "detector": CHANGEPOINT_VERSION}


__all__ = ["LabelledSeries", "binseg_baseline", "load_tcpd", "run_benchmark"]
