"""Where a series changes level (变点检测): binary segmentation on the CUSUM statistic,
normalised by a long-run variance estimate. Pure Python, one default configuration.

Why this shape. A borrower's monthly income is noisy and autocorrelated (a good quarter is
followed by another); a detector that assumes independent noise cuts a slowly wandering series
into many pieces and raises a warning every month. Dividing the CUSUM by the *long-run*
standard deviation (Bartlett kernel on the residuals of the two-level fit) makes the statistic
roughly a Brownian-bridge supremum whatever the autocorrelation, so one threshold holds on
series the detector has never seen; no labels, no per-series tuning. The threshold (3.0) is
far in the tail of that supremum (P > 3 is below 1e-7 for one test), which keeps the repeated
tests of the recursion honest. Measured on the TCPD series in ``yibaodai ews benchmark``.

Second path: sudden lasting jumps (跳变). The long-run variance that keeps a wandering series
whole also hides a crash in it (a currency devaluing in a month, a quarter of income gone from
one month to the next). A one-step move is kept as a change point when it is rare and large:
more than ``jump_threshold`` times the 90 % quantile of the series' absolute (median-centred)
one-step moves; the series has at most max(2, ``jump_rarity`` · n) such moves (a series that
jumps all the time, like an account balance, has no news in a jump); and it lasts: the median
of the ``jump_window`` points after it differs from the median of the ``jump_window`` before
it, in the jump's direction, by at least ``jump_persistence`` times the jump (a one-month spike
or a seasonal upswing does not). Jumps need ``jump_window`` points on both sides and are kept
only at least ``jump_separation`` points from every other change point.

Third path: lasting ramps in short series (陡变, new in ``-ramp-3``). In a short history the
change itself is a large share of the moves (a 21-point series whose level rises fivefold over
four points), so the jump path's 90 % quantile is inflated by the change it should find, and
its 8-point window does not fit. A ramp is a run of at most ``ramp_steps`` consecutive
one-step moves in one direction, each more than ``ramp_threshold`` times the *median*
absolute (median-centred) move — a scale the change cannot inflate until it is half of the
series. It is kept when such runs are rare (at most max(2, ``jump_rarity`` · n)) and when the
median of the ``w`` points after the run differs from the median of the ``w`` before it by at
least ``jump_persistence`` times the run's total move, with ``w`` = ``ramp_window_share`` · n
clipped to ``ramp_min_window`` … ``jump_window``. Why it matters for the product: a newly lent
pharmacy has 12-24 months of income, the common case, and a month-on-month collapse there is
what the level test's long-run variance and the jump path's long window both miss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median, quantiles

CHANGEPOINT_VERSION = "cusum-lrv-bs-jump-ramp-3"


@dataclass(frozen=True)
class ChangePointConfig:
    """The one default configuration; a change here is a new ``CHANGEPOINT_VERSION``."""

    threshold: float = 3.0
    min_segment: int = 3
    bandwidth_exponent: float = 0.5  # Bartlett bandwidth = floor(m ** exponent) on m points
    jump_threshold: float = 2.0  # times the 90 % quantile of |one-step move|; inf: no jumps
    jump_window: int = 8
    jump_persistence: float = 1.0
    jump_rarity: float = 0.05
    jump_separation: int = 6
    ramp_threshold: float = 8.0  # times the median |one-step move|, each step; inf: no ramps
    ramp_steps: int = 4
    ramp_window_share: float = 0.2  # window = share * n, clipped to ramp_min_window..jump_window
    ramp_min_window: int = 4


DEFAULT = ChangePointConfig()


def fill_missing(values: Sequence[float | None]) -> list[float]:
    """A missing observation carries the last one forward (the first ones take the first
    value present): a gap is not evidence of a change."""
    present = [v for v in values if v is not None]
    last = present[0] if present else 0.0
    out: list[float] = []
    for v in values:
        if v is not None:
            last = float(v)
        out.append(last)
    return out


def long_run_variance(residuals: Sequence[float], bandwidth: int) -> float:
    """Bartlett-kernel (Newey-West) estimate of the variance of the residuals' mean times m."""
    m = len(residuals)
    mean = sum(residuals) / m
    e = [r - mean for r in residuals]
    gamma0 = sum(v * v for v in e) / m
    total = gamma0
    for lag in range(1, min(bandwidth, m - 1) + 1):
        cov = sum(e[i] * e[i - lag] for i in range(lag, m)) / m
        total += 2.0 * (1.0 - lag / (bandwidth + 1)) * cov
    return max(total, 1e-12 * gamma0, 1e-300)


def _best_split(x: Sequence[float], min_segment: int) -> tuple[int, float]:
    """(k, |CUSUM_k| / sqrt(m)) at the split maximising it, k points on the left."""
    m = len(x)
    total = sum(x)
    running = 0.0
    best_k, best = 0, -1.0
    for k in range(1, m):
        running += x[k - 1]
        if k < min_segment or m - k < min_segment:
            continue
        stat = abs(running - k / m * total)
        if stat > best:
            best_k, best = k, stat
    return best_k, best / math.sqrt(m)


def _segment(x: Sequence[float], offset: int, config: ChangePointConfig,
             found: list[int]) -> None:
    m = len(x)
    if m < 2 * config.min_segment:
        return
    k, cusum = _best_split(x, config.min_segment)
    left, right = x[:k], x[k:]
    mean_l, mean_r = sum(left) / k, sum(right) / (m - k)
    residuals = [v - mean_l for v in left] + [v - mean_r for v in right]
    scale = math.sqrt(long_run_variance(residuals, int(m ** config.bandwidth_exponent)))
    if cusum / scale <= config.threshold:
        return
    found.append(offset + k)
    _segment(left, offset, config, found)
    _segment(right, offset + k, config, found)


def jumps(x: Sequence[float], config: ChangePointConfig = DEFAULT) -> list[int]:
    """Indices of rare, large, lasting one-step moves (sorted), by the rule in the module's
    docstring; ``x`` has no gaps."""
    n, w = len(x), config.jump_window
    edge = max(config.min_segment, w)
    if n < 2 * edge:
        return []
    d = [b - a for a, b in pairwise(x)]
    centre = median(d)
    size = [abs(v - centre) for v in d]
    unit = quantiles(size, n=10, method="inclusive")[8]  # the 90 % point, interpolated
    if unit <= 0:
        return []
    large = [j for j in range(len(d)) if size[j] > config.jump_threshold * unit]
    if len(large) > max(2.0, config.jump_rarity * n):
        return []
    found: list[int] = []
    for j in sorted(large, key=lambda j: (-size[j], j)):
        k = j + 1
        if k < edge or n - k < edge:
            continue
        if any(abs(k - p) < config.jump_separation for p in found):
            continue
        moved = median(x[k:k + w]) - median(x[k - w:k])
        if moved * d[j] <= 0 or abs(moved) < config.jump_persistence * abs(d[j]):
            continue
        found.append(k)
    return sorted(found)


def _runs(dev: Sequence[float], limit: float) -> list[tuple[int, int]]:
    """Maximal runs (first, last) of consecutive moves beyond ``limit`` in one direction."""
    out: list[tuple[int, int]] = []
    j = 0
    while j < len(dev):
        if abs(dev[j]) <= limit:
            j += 1
            continue
        last = j
        while last + 1 < len(dev) and abs(dev[last + 1]) > limit and dev[last + 1] * dev[j] > 0:
            last += 1
        out.append((j, last))
        j = last + 1
    return out


def ramps(x: Sequence[float], config: ChangePointConfig = DEFAULT) -> list[int]:
    """Indices where a rare, large, lasting run of one-direction moves begins (sorted), by the
    rule in the module's docstring; ``x`` has no gaps."""
    n = len(x)
    w = min(config.jump_window, max(config.ramp_min_window, int(config.ramp_window_share * n)))
    edge = max(config.min_segment, w)
    if n < 2 * edge:
        return []
    d = [b - a for a, b in pairwise(x)]
    centre = median(d)
    dev = [v - centre for v in d]
    unit = median(abs(v) for v in dev)
    if unit <= 0:
        return []
    runs = _runs(dev, config.ramp_threshold * unit)
    if len(runs) > max(2.0, config.jump_rarity * n):
        return []
    found: list[int] = []
    for first, last in sorted(runs, key=lambda r: (-abs(x[r[1] + 1] - x[r[0]]), r[0])):
        k, end = first + 1, last + 1
        if last - first >= config.ramp_steps or k < edge or n - end < edge:
            continue
        if any(abs(k - p) < config.jump_separation for p in found):
            continue
        total = x[end] - x[first]
        moved = median(x[end:end + w]) - median(x[k - w:k])
        if moved * total <= 0 or abs(moved) < config.jump_persistence * abs(total):
            continue
        found.append(k)
    return sorted(found)


def change_points(values: Sequence[float | None],
                  config: ChangePointConfig = DEFAULT) -> list[int]:
    """Indices where a new level begins (sorted, never 0), for a series with optional gaps:
    the level changes, then the lasting jumps and ramps not already near one."""
    x = fill_missing(values)
    found: list[int] = []
    if len(set(x)) > 1:
        _segment(x, 0, config, found)
        separation = max(config.jump_separation, config.min_segment)
        for k in jumps(x, config) + ramps(x, config):
            if all(abs(k - p) >= separation for p in found):
                found.append(k)
    return sorted(found)


__all__ = ["CHANGEPOINT_VERSION", "DEFAULT", "ChangePointConfig", "change_points",
           "fill_missing", "jumps", "long_run_variance", "ramps"]
