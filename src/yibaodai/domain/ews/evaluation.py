"""How well the warning rules warn, on a labelled portfolio (``yibaodai ews evaluate``). Pure:
month-by-month signals and labels in, the measures out.

- ``recall_2m``: share of defaulting borrowers warned at least 2 months before the month of
  default, by a warning raised no earlier than the month before deterioration began (an alarm
  a year before anything went wrong is luck, not a warning).
- ``false_per_100_month``: new warnings (a rule firing for a borrower where it did not fire
  the month before) on borrowers that never default, per 100 such borrowers per month.
- lead time: months from the first such warning to the month of default."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any


def month_index(key: str) -> int:
    return int(key[:4]) * 12 + int(key[5:]) - 1


@dataclass(frozen=True)
class BorrowerRun:
    """One borrower's monthly run: ``fired[i]`` the rule codes firing in ``months[i]``."""

    code: str
    months: Sequence[str]
    fired: Sequence[frozenset[str]]
    deteriorates_from: str | None  # month keys; None for a borrower that never defaults
    defaults_in: str | None


def new_warnings(run: BorrowerRun) -> list[tuple[str, str]]:
    """(month, rule) where a rule starts firing (one open warning per borrower and signal)."""
    out: list[tuple[str, str]] = []
    before: frozenset[str] = frozenset()
    for month, fired in zip(run.months, run.fired, strict=True):
        out.extend((month, code) for code in sorted(fired - before))
        before = fired
    return out


def score_runs(runs: Sequence[BorrowerRun]) -> dict[str, Any]:
    defaulters = [r for r in runs if r.defaults_in is not None]
    healthy = [r for r in runs if r.defaults_in is None]
    leads: list[int] = []
    by_rule_hits: Counter[str] = Counter()
    missed: list[str] = []
    for r in defaulters:
        assert r.defaults_in is not None and r.deteriorates_from is not None
        onset, default = month_index(r.deteriorates_from) - 1, month_index(r.defaults_in)
        warned = [(month_index(m), code) for m, code in new_warnings(r)
                  if onset <= month_index(m) <= default - 2]
        if warned:
            first = min(m for m, _ in warned)
            leads.append(default - first)
            by_rule_hits.update({code for m, code in warned if m == first})
        else:
            missed.append(r.code)
    false = [code for r in healthy for _, code in new_warnings(r)]
    healthy_months = sum(len(r.months) for r in healthy)
    distribution = dict(sorted(Counter(leads).items()))
    return {
        "borrowers": len(runs), "defaulters": len(defaulters),
        "recall_2m": round(len(leads) / len(defaulters), 4) if defaulters else None,
        "false_per_100_month": round(100 * len(false) / healthy_months, 4)
        if healthy_months else None,
        "lead_time_months": {"median": median(leads) if leads else None,
                             "min": min(leads, default=None), "max": max(leads, default=None),
                             "distribution": {str(k): v for k, v in distribution.items()}},
        "first_warning_by_rule": dict(sorted(by_rule_hits.items())),
        "false_by_rule": dict(sorted(Counter(false).items())),
        "missed": missed,
    }


def fired_codes(signals: Sequence[Any], *, levels: Mapping[str, int], floor: int) -> frozenset[str]:
    """Codes of the signals at or above level rank ``floor``."""
    return frozenset(s.rule_code for s in signals if levels[s.level] >= floor)


__all__ = ["BorrowerRun", "fired_codes", "month_index", "new_warnings", "score_runs"]
