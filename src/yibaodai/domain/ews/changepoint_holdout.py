"""How much the detector's one default configuration owes to the series it was chosen on
(变点检测的留一验证). Pure: labelled series in, figures out.

Why. The default (threshold, bandwidth, minimum segment) was picked by looking at the TCPD
series' scores, so the mean on those same series flatters it. Leave-one-out over the design
choices repeats that picking honestly: for every series, the configuration with the best mean
F1 + covering on the *other* series is chosen and scored on the one left out. The mean of those
held-out scores is what to expect on a series the detector has never seen. Beside it, the
per-series best configuration (it reads the labels, so it is an upper bound, never a detector)
shows how far tuning within this family could go at all.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from yibaodai.domain.ews.changepoint import DEFAULT, ChangePointConfig, change_points
from yibaodai.domain.ews.metrics import score

_LEVEL = tuple((t, s, b) for t, b, s in product((1.5, 2.0, 2.5, 2.8, 3.0, 3.2, 3.5, 4.0),
                                                  (1 / 3, 0.5, 0.6), (3, 2, 5)))
_JUMPS = tuple(j for j in product((2.0, 2.5, 3.0), (5, 8, 12), (0.8, 1.0), (0.03, 0.05, 0.1))
               if j[:3] != (2.0, 5, 0.8))
_RAMPS = (*product((6.0, 8.0, 10.0, 12.0), (1, 2, 4, 6), (0.15, 0.2, 0.25), (4,)),
          (8.0, 4, 0.2, 3), (8.0, 4, 0.2, 5))

#: The design choices the default was picked from (it is one of them): the 72 level settings
#: with the default jump rule and without jumps (``jump_threshold`` inf), 51 jump settings
#: (threshold, window, persistence, rarity) with the default level setting, and 50 ramp
#: settings (threshold, longest run, window share, smallest window; and no ramps, threshold
#: inf) with the default level and jump settings. Left out without
#: reading any label, by the product check (tests/unit/test_ews_changepoint.py: at most 2 % of
#: healthy seasonal 36-month histories cut): persistence 0.5 (cuts 4-6 %) and threshold 2
#: with window 5 and persistence 0.8 (2.7 %).
DESIGN_GRID: tuple[ChangePointConfig, ...] = tuple(dict.fromkeys(
    [ChangePointConfig(threshold=t, min_segment=s, bandwidth_exponent=b)
     for t, s, b in _LEVEL]
    + [ChangePointConfig(threshold=t, min_segment=s, bandwidth_exponent=b,
                         jump_threshold=math.inf) for t, s, b in _LEVEL]
    + [ChangePointConfig(jump_threshold=c, jump_window=w, jump_persistence=p, jump_rarity=r)
       for c, w, p, r in _JUMPS]
    + [ChangePointConfig(ramp_threshold=c, ramp_steps=k, ramp_window_share=w, ramp_min_window=m)
       for c, k, w, m in _RAMPS]
    + [ChangePointConfig(ramp_threshold=math.inf)]))


@dataclass(frozen=True)
class Labelled:
    """One benchmark series: values (gaps as ``None``) and each annotator's change points."""

    name: str
    values: Sequence[float | None]
    annotations: Sequence[Sequence[int]]


Detector = Callable[[Sequence[float | None], ChangePointConfig], list[int]]


def _label(config: ChangePointConfig) -> str:
    level = (f"threshold {config.threshold:g}, bandwidth m^{config.bandwidth_exponent:.2f}, "
             f"min_segment {config.min_segment}")
    if math.isinf(config.jump_threshold):
        jump = "no jumps"
    else:
        jump = (f"jumps > {config.jump_threshold:g} x q90, window {config.jump_window}, "
                f"persistence {config.jump_persistence:g}, rarity {config.jump_rarity:g}")
    if math.isinf(config.ramp_threshold):
        return f"{level}, {jump}, no ramps"
    return (f"{level}, {jump}, ramps > {config.ramp_threshold:g} x median, steps "
            f"{config.ramp_steps}, window {config.ramp_window_share:g} n "
            f"(min {config.ramp_min_window})")


def _mean(pairs: Sequence[tuple[float, float]]) -> dict[str, float]:
    return {"f1": round(sum(p[0] for p in pairs) / len(pairs), 4),
            "cover": round(sum(p[1] for p in pairs) / len(pairs), 4)}


def leave_one_out(series: Sequence[Labelled],
                  grid: Sequence[ChangePointConfig] = DESIGN_GRID,
                  detect: Detector = change_points) -> dict[str, Any]:
    """Held-out and full-data figures of choosing the configuration from ``grid``.

    Ties are broken towards the default, then the earlier configuration in ``grid``, so
    the result is deterministic. Needs at least two series."""
    if len(series) < 2 or not grid:
        raise ValueError("leave-one-out needs at least two series and one configuration")
    table = [[score(s.annotations, detect(s.values, c), len(s.values)) for s in series]
             for c in grid]

    def best(rows: Sequence[int]) -> int:
        totals = [sum(table[c][i][0] + table[c][i][1] for i in rows) for c in range(len(grid))]
        return max(range(len(grid)), key=lambda c: (totals[c], grid[c] == DEFAULT, -c))

    everyone = range(len(series))
    held_out: list[tuple[float, float]] = []
    chosen: Counter[str] = Counter()
    for i in everyone:
        c = best([j for j in everyone if j != i])
        chosen[_label(grid[c])] += 1
        held_out.append(table[c][i])
    full = best(list(everyone))
    default = grid.index(DEFAULT) if DEFAULT in grid else None
    oracle = [max((table[c][i] for c in range(len(grid))), key=sum) for i in everyone]
    return {
        "series": len(series),
        "configurations": len(grid),
        "held_out": _mean(held_out),
        "chosen_when_held_out": dict(chosen.most_common()),
        "best_on_all": {"configuration": _label(grid[full]), **_mean([table[full][i]
                                                                      for i in everyone])},
        "default": None if default is None else {
            "configuration": _label(DEFAULT), **_mean([table[default][i] for i in everyone])},
        "per_series_best_upper_bound": _mean(oracle),
    }


__all__ = ["DESIGN_GRID", "Detector", "Labelled", "leave_one_out"]
