"""How a change-point detector is scored against human annotations, exactly as the Turing
Change Point Dataset (TCPD) publishes it (van den Burg & Williams, 2020), so our figures can be
set beside the published ones. Pure: index lists in, numbers out.

A *change point* is the index of the first observation of a new segment; index 0 always
counts as one, for the prediction and for every annotator."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

MARGIN = 5


def true_positives(truth: Iterable[int], predicted: Iterable[int], margin: int = MARGIN,
                   ) -> set[int]:
    """The true points matched by a prediction within ``margin``; each predicted point
    matches at most one true point (the closest one still free, in the order of ``truth``)."""
    free = set(predicted)
    matched: set[int] = set()
    for tau in sorted(set(truth)):
        close = sorted((abs(tau - x), x) for x in free if abs(tau - x) <= margin)
        if not close:
            continue
        matched.add(tau)
        free.remove(close[0][1])
    return matched


def f1_score(annotations: Sequence[Sequence[int]], predicted: Iterable[int],
             margin: int = MARGIN) -> float:
    """F1 with precision against the union of the annotators' points and recall averaged over
    annotators (index 0 added everywhere, so an empty prediction still scores)."""
    truths = [set(a) | {0} for a in annotations] or [{0}]
    found = set(predicted) | {0}
    union = set().union(*truths)
    precision = len(true_positives(union, found, margin)) / len(found)
    recall = sum(len(true_positives(t, found, margin)) / len(t) for t in truths) / len(truths)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def segments(change_points: Iterable[int], n: int) -> list[range]:
    """The partition of ``range(n)`` that the change points cut (points outside are ignored)."""
    cuts = sorted({c for c in change_points if 0 < c < n} | {0, n})
    return [range(a, b) for a, b in pairwise(cuts)]


def _jaccard(a: range, b: range) -> float:
    inter = max(0, min(a.stop, b.stop) - max(a.start, b.start))
    return inter / (len(a) + len(b) - inter)


def cover_single(truth: Sequence[range], predicted: Sequence[range]) -> float:
    """Length-weighted best Jaccard overlap of each true segment with a predicted one."""
    n = sum(len(r) for r in truth)
    return sum(len(r) * max(_jaccard(r, p) for p in predicted) for r in truth) / n


def covering(annotations: Sequence[Sequence[int]], predicted: Iterable[int], n: int) -> float:
    """Segmentation covering of the prediction, averaged over annotators."""
    mine = segments(predicted, n)
    truths = [segments(a, n) for a in annotations] or [segments((), n)]
    return sum(cover_single(t, mine) for t in truths) / len(truths)


def score(annotations: Mapping[str, Sequence[int]] | Sequence[Sequence[int]],
          predicted: Sequence[int], n: int) -> tuple[float, float]:
    """(F1, covering) of one series."""
    lists = list(annotations.values()) if isinstance(annotations, Mapping) else list(annotations)
    return f1_score(lists, predicted), covering(lists, predicted, n)
