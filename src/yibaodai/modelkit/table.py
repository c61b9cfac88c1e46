"""Labelled tables: rows of facts with a good/bad outcome, and how they are split.

Any CSV can be one (the benchmark reads the German credit data); the whitelist workbench's own
tables come from ``samples`` (the simulated history, or decisions joined with loan outcomes).
The outcome column may hold 0/1 or any two labels; the bad label is ``bad``, else ``1``, else
the second of the two labels sorted. Rows without an outcome are not part of the table.

Splits: when the rows carry dates, the latest dates (as close to ``oot_share`` of the rows as
whole dates allow) are held out as the out-of-time sample; the rest is split at random,
stratified on the outcome, into development (train) and test parts with a fixed seed — by
group when rows carry one (the same institution observed on several dates is one group: rows
of one institution are not independent, and a row split would let the test part recognise
institutions it was trained on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from yibaodai.errors import FieldError, ValidationFailed

#: A table needs at least this many rows of each outcome to be worth building on.
MIN_PER_CLASS = 10
#: A text column with more distinct values than this share of its rows is an identifier,
#: not a characteristic.
MAX_CATEGORY_SHARE = 0.5


@dataclass(frozen=True)
class Population:
    """Rows of characteristics (numbers as floats, text as strings), with each row's segment
    when known: what a scorecard scores."""

    frame: pd.DataFrame
    segments: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def rows(self, index: np.ndarray) -> Self:
        """The same table restricted to rows ``index`` (every per-row field alike)."""
        def pick(value: Any) -> Any:
            if isinstance(value, pd.DataFrame):
                return value.iloc[index].reset_index(drop=True)
            return value[index] if isinstance(value, np.ndarray) else value
        return replace(self, **{f.name: pick(getattr(self, f.name)) for f in fields(self)})

    def segment(self, name: str) -> Self:
        assert self.segments is not None
        return self.rows(np.flatnonzero(self.segments == name))


@dataclass(frozen=True)
class LabelledTable(Population):
    """A population with outcomes: ``target`` 1 = bad; optional observation ``dates`` and
    ``groups`` (the unit a row belongs to, e.g. the institution, so a split never puts the
    same institution on both sides)."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    bad_label: str = "1"
    dates: np.ndarray | None = None
    groups: np.ndarray | None = None

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c for c in self.frame.columns
                     if not pd.api.types.is_numeric_dtype(self.frame[c]))

    @property
    def bads(self) -> int:
        return int(self.target.sum())


def _refuse(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("样本表无效", f"invalid labelled table: {en}", code="invalid_table",
                            fields=[FieldError(field, zh, en)])


def _label_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode_target(values: pd.Series, *, column: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(1 = bad per labelled row, mask of labelled rows, the bad label). Refuses a column
    that does not hold exactly two labels."""
    labelled = values.notna().to_numpy() & (values.astype("string").str.strip() != "").fillna(
        False).to_numpy()
    text = np.array([_label_text(v) for v in values[labelled]], dtype=object)
    labels = sorted(set(text))
    if len(labels) != 2:
        raise _refuse(column, f"结果列须恰有两个取值，实有{len(labels)}个：{labels[:5]}",
                      f"the outcome column must hold exactly two labels, found "
                      f"{len(labels)}: {labels[:5]}")
    lowered = [x.lower() for x in labels]
    bad = labels[lowered.index("bad")] if "bad" in lowered else "1" if "1" in labels \
        else labels[1]
    return (text == bad).astype(np.int64), labelled, bad


def from_frame(frame: pd.DataFrame, *, target: str, date_column: str | None = None,
               segment_column: str | None = None, group_column: str | None = None,
               features: Sequence[str] | None = None) -> LabelledTable:
    """A labelled table from a data frame. ``features``: the candidate columns (default:
    every column but the outcome, date, segment and group columns, less identifier-like
    text)."""
    missing = [c for c in (target, date_column, segment_column, group_column)
               if c and c not in frame]
    if missing:
        raise _refuse(missing[0], f"缺少列“{missing[0]}”", f"no column {missing[0]!r}")
    y, labelled, bad = decode_target(frame[target], column=target)
    frame = frame.loc[labelled].reset_index(drop=True)
    reserved = {target, date_column, segment_column, group_column}
    if features is None:
        features = [c for c in frame.columns if c not in reserved and not _identifier(frame[c])]
    else:
        features = [c for c in features if c in frame.columns]
    data = pd.DataFrame({c: _column(frame[c]) for c in features})
    dates = None
    if date_column:
        parsed = pd.to_datetime(frame[date_column], errors="coerce")
        if parsed.isna().any():
            raise _refuse(date_column, "日期列含无法识别的日期", "the date column has unreadable "
                          "dates")
        dates = parsed.to_numpy(dtype="datetime64[D]")
    segments = frame[segment_column].astype(str).to_numpy() if segment_column else None
    groups = frame[group_column].astype(str).to_numpy() if group_column else None
    table = LabelledTable(data, segments, y, bad, dates, groups)
    goods = len(table) - table.bads
    if min(goods, table.bads) < MIN_PER_CLASS:
        raise _refuse(target, f"好坏样本各须至少{MIN_PER_CLASS}个（坏{table.bads}，好{goods}）",
                      f"at least {MIN_PER_CLASS} rows of each outcome are needed "
                      f"({table.bads} bad, {goods} good)")
    return table


def _identifier(column: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(column):
        return False
    return bool(column.nunique() > max(20, MAX_CATEGORY_SHARE * len(column)))


def _column(column: pd.Series) -> pd.Series:
    """Numbers as floats (NaN missing); text as Python strings (None missing) — pandas 3's
    ``str`` dtype is not ``object``, so the test is "numeric or not" (dependency notes)."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.astype("float64")
    return column.map(lambda v: None if pd.isna(v) or str(v).strip() == "" else str(v)
                      ).astype(object)


def read_csv(path: Path, *, target: str, date_column: str | None = None,
             segment_column: str | None = None, group_column: str | None = None,
             features: Sequence[str] | None = None) -> LabelledTable:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise _refuse("csv", f"无法读取CSV文件：{exc}", f"cannot read the CSV file: {exc}") \
            from exc
    return from_frame(frame, target=target, date_column=date_column,
                      segment_column=segment_column, group_column=group_column,
                      features=features)


@dataclass(frozen=True)
class Split:
    train: LabelledTable
    test: LabelledTable | None
    oot: LabelledTable | None


def _stratified(table: LabelledTable, test_share: float,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Development and test row numbers: a stratified random split, or — when rows belong to
    groups — the first fold of a stratified group k-fold with k = round(1 / test_share), so
    every group lies wholly on one side (the test share is then about 1/k)."""
    # scikit-learn is imported here, not at module level: the web app imports this module and
    # the bank's start-up (``serve``, the demo) should not pay for it until a model is built
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    index = np.arange(len(table))
    if table.groups is None:
        train, test = train_test_split(index, test_size=test_share, random_state=seed,
                                       stratify=table.target)
        return np.sort(train), np.sort(test)
    folds = StratifiedGroupKFold(n_splits=max(2, round(1 / test_share)), shuffle=True,
                                 random_state=seed)
    train, test = next(folds.split(index, table.target, table.groups))
    return np.sort(train), np.sort(test)


def _oot_start(dates: np.ndarray, share: float) -> np.datetime64 | None:
    """The first out-of-time date: the latest dates whose rows come closest to ``share`` of
    all rows — at least one date, never more than half the rows, never every date."""
    days, counts = np.unique(dates, return_counts=True)
    if share <= 0 or len(days) < 2:
        return None
    held = np.cumsum(counts[::-1])[:-1]  # rows in the latest 1, 2, ... dates
    allowed = held <= len(dates) / 2
    if not allowed.any():
        return None
    k = int(np.argmin(np.where(allowed, np.abs(held - share * len(dates)), np.inf)))
    start: np.datetime64 = days[::-1][k]
    return start


def split(table: LabelledTable, *, test_share: float = 0.3, oot_share: float = 0.2,
          seed: int = 42) -> Split:
    """Out-of-time part (latest dates, when there are dates), then a stratified random
    development/test split of the rest."""
    in_time = np.arange(len(table))
    oot = None
    first = _oot_start(table.dates, oot_share) if table.dates is not None else None
    if first is not None:
        assert table.dates is not None
        oot = table.rows(np.flatnonzero(table.dates >= first))
        in_time = np.flatnonzero(table.dates < first)
    rest = table.rows(in_time)
    if test_share <= 0:
        return Split(rest, None, oot)
    train, test = _stratified(rest, test_share, seed)
    return Split(rest.rows(train), rest.rows(test), oot)
