"""Observations — what the engine saw about an institution on a date, and what happened next —
and the tables built from them.

An ``Observation`` holds the engine's own ``AdmissionInputs`` (profile facts and settlement
features, exactly as a decision stores them), the observation date and the outcome (1 bad,
0 good, None not known yet). Sources:

* the simulated history (``simulated.simulated_history``): the development sample;
* the bank's own decisions joined with head office's loan outcomes (``database_sample``):
  a case's loan is **bad** at ``BAD_OVERDUE_DAYS`` days overdue, **good** once drawn (or
  closed) without that and at least ``MIN_MONTHS_ON_BOOK`` months after the decision; other
  loans have no outcome yet. Only admitted institutions get loans, so this sample knows nothing
  of the refused (no reject inference here), and a case keeps only its latest loan status;
* the live population (``decisions_between``): every decision's stored inputs, unlabelled.

Observations travel between commands as CSV (``write_csv`` / ``read_csv``), one column per
profile fact and feature, values written so that reading them back gives the same inputs.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.admission.service import inputs_from_json
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import CaseRow, DecisionRow
from yibaodai.domain.admission import AdmissionInputs, Policy, knockouts, scoring_facts
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.features.definitions import FLOAT_COLUMNS, INT_COLUMNS
from yibaodai.modelkit.catalogue import CATALOGUE
from yibaodai.modelkit.table import LabelledTable, Population, from_frame

BAD_OVERDUE_DAYS = 30
MIN_MONTHS_ON_BOOK = 6
PROFILE = tuple(f.name for f in fields(AdmissionInputs) if f.name != "features")
_INT_PROFILE = ("penalties_24m", "months_since_last_penalty", "designation_days_left",
                "months_designated")
#: Features not carried in CSV (nested, or the date itself).
_NOT_IN_CSV = ("monthly_fund_pay_12m", "as_of")
TARGET, DATE, SEGMENT, GROUP = "bad", "observed_on", "segment", "fixmedins_code"


@dataclass(frozen=True)
class Observation:
    inputs: AdmissionInputs
    observed_on: date
    bad: int | None


# --- tables -----------------------------------------------------------------------------------


def facts_frame(inputs: Sequence[AdmissionInputs]) -> pd.DataFrame:
    """The catalogue's facts of each row (what a scorecard bins), numbers as floats."""
    rows = [scoring_facts(i) for i in inputs]
    frame = pd.DataFrame({f: [r.get(f) for r in rows] for f in CATALOGUE})
    for name, fact in CATALOGUE.items():
        if not fact.categorical:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame


def in_policy(observation: Observation, policy: Policy | None) -> bool:
    """Whether the policy's knock-outs let the row through to the scorecard."""
    return policy is None or not knockouts(observation.inputs, policy)


def observation_table(observations: Iterable[Observation], *,
                      policy: Policy | None) -> LabelledTable:
    """The labelled rows that reach the scorecard under ``policy`` (knock-outs first, as the
    engine decides), as a table of the catalogue's facts with dates and segments."""
    rows = [o for o in observations if o.bad is not None and in_policy(o, policy)]
    frame = facts_frame([o.inputs for o in rows])
    frame[TARGET] = [o.bad for o in rows]
    frame[DATE] = [o.observed_on.isoformat() for o in rows]
    frame[SEGMENT] = [o.inputs.segment for o in rows]
    frame[GROUP] = [o.inputs.fixmedins_code for o in rows]
    return from_frame(frame, target=TARGET, date_column=DATE, segment_column=SEGMENT,
                      group_column=GROUP, features=list(CATALOGUE))


def population(inputs: Sequence[AdmissionInputs], *, policy: Policy | None = None
               ) -> Population:
    """Rows as a scorecard sees them, by segment — those ``policy`` lets through, if given."""
    kept = [i for i in inputs if policy is None or not knockouts(i, policy)]
    return Population(facts_frame(kept), np.array([i.segment for i in kept], dtype=object))


def recent_population(observations: Iterable[Observation], *, policy: Policy | None
                      ) -> Population:
    """The rows without an outcome (the recent population of a sample), in ``policy``."""
    return population([o.inputs for o in observations if o.bad is None], policy=policy)


# --- the bank's own history ------------------------------------------------------------------


def database_sample(session: Session, *, now: datetime) -> list[Observation]:
    """Decisions that led to a loan, with the loan's outcome (see the module docstring)."""
    matured = now - timedelta(days=round(MIN_MONTHS_ON_BOOK * 30.44))
    out = []
    for case, decision in session.execute(
            select(CaseRow, DecisionRow).join(DecisionRow, CaseRow.decision_id == DecisionRow.id)
            .where(CaseRow.loan_status.in_(("drawn", "closed", "overdue")))
            .order_by(DecisionRow.id)):
        if (case.overdue_days or 0) >= BAD_OVERDUE_DAYS:
            bad: int | None = 1
        else:
            bad = 0 if decision.decided_at <= matured else None
        out.append(Observation(inputs_from_json(decision.inputs),
                               decision.decided_at.astimezone(SHANGHAI).date(), bad))
    return out


def months_back(now: datetime, months: int) -> datetime:
    """Midnight (Asia/Shanghai) starting the calendar month ``months - 1`` before ``now``'s:
    the start of a window of ``months`` calendar months ending at ``now``."""
    local = now.astimezone(SHANGHAI)
    index = local.year * 12 + local.month - 1 - (months - 1)
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=SHANGHAI)


def decisions_between(session: Session, *, start: datetime,
                      end: datetime) -> list[tuple[datetime, AdmissionInputs]]:
    """Every decision's time and stored inputs in [start, end): the live population."""
    rows = session.execute(select(DecisionRow.decided_at, DecisionRow.inputs).where(
        DecisionRow.decided_at >= start, DecisionRow.decided_at < end)
        .order_by(DecisionRow.id))
    return [(at, inputs_from_json(inputs)) for at, inputs in rows]


# --- CSV ----------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def write_csv(path: Path, observations: Sequence[Observation]) -> int:
    """One row per observation (UTF-8 with a byte-order mark, for Chinese Excel)."""
    features = sorted({k for o in observations for k in o.inputs.features
                       if k not in _NOT_IN_CSV})
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([DATE, TARGET, *PROFILE, *features])
        for o in observations:
            writer.writerow([o.observed_on.isoformat(), _text(o.bad),
                             *(_text(getattr(o.inputs, p)) for p in PROFILE),
                             *(_text(o.inputs.features.get(f)) for f in features)])
    return len(observations)


def _feature_value(name: str, text: str) -> Any:
    """The engine's type for a feature read back from text (amounts stay yuan strings)."""
    if text == "":
        return None
    if name in FLOAT_COLUMNS:
        return float(text)
    if name in INT_COLUMNS:
        return int(text)
    return text


def _observation(row: dict[str, str]) -> Observation:
    profile: dict[str, Any] = {p: row[p] for p in PROFILE}
    for p in _INT_PROFILE:
        profile[p] = int(row[p]) if row[p] != "" else None
    features = {k: _feature_value(k, v) for k, v in row.items()
                if k not in PROFILE and k not in (DATE, TARGET)}
    features["as_of"] = row[DATE]
    return Observation(AdmissionInputs(features=features, **profile),
                       date.fromisoformat(row[DATE]),
                       int(row[TARGET]) if row[TARGET] != "" else None)


def read_csv(path: Path) -> list[Observation]:
    """Observations written by ``write_csv``; a row that does not read is refused by line."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in (DATE, TARGET, *PROFILE) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationFailed("观测样本文件缺少列", f"the observations file lacks columns "
                                   f"{missing}", code="invalid_sample",
                                   fields=[FieldError(c, "缺少此列", "missing column")
                                           for c in missing])
        out = []
        for line, row in enumerate(reader, start=2):
            try:
                out.append(_observation(row))
            except (ValueError, TypeError) as exc:
                raise ValidationFailed("观测样本文件有无法读取的行", f"line {line}: {exc}",
                                       code="invalid_sample",
                                       fields=[FieldError(f"line {line}", str(exc),
                                                          str(exc))]) from exc
    return out
