"""The campaign funnel, the leaderboard of sub-branches, crediting an authorization to the
outreach that preceded it, and balancing prospects over client managers.

Funnel: listed → contacted → interested → authorized → admitted → reported → drawn. Each
prospect counts once, at the furthest stage it reached *during the campaign period*, and a
stage's count is the number of prospects that got at least that far, so the funnel never widens
downwards. Amounts are yuan (the credit limit from admission on, the drawn amount at drawn);
the platform shows them in 万元.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final


class Stage(StrEnum):
    LISTED = "listed"
    CONTACTED = "contacted"
    INTERESTED = "interested"
    AUTHORIZED = "authorized"
    ADMITTED = "admitted"
    REPORTED = "reported"
    DRAWN = "drawn"


STAGES: Final = tuple(Stage)
STAGE_NAMES: Final[dict[Stage, tuple[str, str]]] = {
    Stage.LISTED: ("名单内", "listed"),
    Stage.CONTACTED: ("已触达", "contacted"),
    Stage.INTERESTED: ("有意向", "interested"),
    Stage.AUTHORIZED: ("已授权", "authorized"),
    Stage.ADMITTED: ("已准入", "admitted"),
    Stage.REPORTED: ("已上报总行", "reported to head office"),
    Stage.DRAWN: ("已放款", "drawn"),
}
#: Stages that carry an amount, and which amount.
_AMOUNT_STAGES: Final = frozenset({Stage.ADMITTED, Stage.REPORTED, Stage.DRAWN})
ZERO: Final = Decimal("0.00")


@dataclass(frozen=True)
class Progress:
    """How far one prospect got in the period."""

    sub_branch: str | None
    stage: Stage
    credit_limit: Decimal = ZERO
    drawn: Decimal = ZERO


def furthest_stage(*, contacted: bool, interested: bool, authorized: bool, admitted: bool,
                   reported: bool, drawn: bool) -> Stage:
    """The furthest stage with evidence (a later stage implies the earlier ones)."""
    for stage, seen in ((Stage.DRAWN, drawn), (Stage.REPORTED, reported),
                        (Stage.ADMITTED, admitted), (Stage.AUTHORIZED, authorized),
                        (Stage.INTERESTED, interested), (Stage.CONTACTED, contacted)):
        if seen:
            return stage
    return Stage.LISTED


@dataclass(frozen=True)
class FunnelStep:
    stage: Stage
    count: int
    amount: Decimal | None  # yuan; None for the stages before admission


def funnel(progress: Iterable[Progress]) -> list[FunnelStep]:
    """Counts (and amounts) of prospects that reached at least each stage."""
    counts = dict.fromkeys(STAGES, 0)
    limits = dict.fromkeys(STAGES, ZERO)
    drawn = ZERO
    for p in progress:
        reached = STAGES.index(p.stage)
        for stage in STAGES[:reached + 1]:
            counts[stage] += 1
            limits[stage] += p.credit_limit
        drawn += p.drawn
    return [FunnelStep(s, counts[s], (drawn if s is Stage.DRAWN else limits[s])
                       if s in _AMOUNT_STAGES else None) for s in STAGES]


def funnel_by_sub_branch(progress: Iterable[Progress]) -> dict[str, list[FunnelStep]]:
    by_sub: dict[str, list[Progress]] = {}
    for p in progress:
        if p.sub_branch is not None:
            by_sub.setdefault(p.sub_branch, []).append(p)
    return {code: funnel(items) for code, items in sorted(by_sub.items())}


@dataclass(frozen=True)
class Target:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Standing:
    rank: int
    sub_branch: str
    drawn_count: int
    drawn_amount: Decimal
    authorized_count: int
    target_count: int | None
    target_amount: Decimal | None
    count_attainment: float | None   # drawn count / target count
    amount_attainment: float | None  # drawn amount / target amount


def _step(steps: Sequence[FunnelStep], stage: Stage) -> FunnelStep:
    return steps[STAGES.index(stage)]


def leaderboard(by_sub: Mapping[str, Sequence[FunnelStep]], *, targets: Mapping[str, Target],
                sub_branches: Sequence[str]) -> list[Standing]:
    """Sub-branches ranked by drawn amount, then drawn count, then authorizations (ties share
    a rank; equal sub-branches are listed by code). Every sub-branch is listed, with nothing
    if it has no prospects."""
    empty = funnel(())
    rows = []
    for code in sub_branches:
        steps = by_sub.get(code, empty)
        drawn = _step(steps, Stage.DRAWN)
        target = targets.get(code)
        rows.append((drawn.amount or ZERO, drawn.count,
                     _step(steps, Stage.AUTHORIZED).count, code, target))
    rows.sort(key=lambda r: (-r[0], -r[1], -r[2], r[3]))
    out: list[Standing] = []
    for i, (amount, count, authorized, code, target) in enumerate(rows):
        prev = out[-1] if out else None
        same = prev is not None and (prev.drawn_amount, prev.drawn_count,
                                     prev.authorized_count) == (amount, count, authorized)
        out.append(Standing(
            rank=prev.rank if same and prev else i + 1, sub_branch=code, drawn_count=count,
            drawn_amount=amount, authorized_count=authorized,
            target_count=target.count if target else None,
            target_amount=target.amount if target else None,
            count_attainment=round(count / target.count, 4) if target and target.count else None,
            amount_attainment=round(float(amount / target.amount), 4)
            if target and target.amount else None))
    return out


def creditable_outreach(events: Iterable[tuple[int, datetime]], *, authorized_at: datetime,
                        since: datetime) -> int | None:
    """The outreach an authorization is credited to: the latest one at or after ``since``
    (the campaign's start) and before the authorization. Ties on time go to the later entry."""
    best: tuple[datetime, int] | None = None
    for event_id, at in events:
        if since <= at < authorized_at and (best is None or (at, event_id) > best):
            best = (at, event_id)
    return best[1] if best else None


def balance(items: Sequence[int], *, loads: Mapping[int, int]) -> dict[int, int]:
    """Give each item (in order) to the manager with the least open load, counting what was
    just given; ties go to the lower user id. ``loads`` maps manager id -> open load. Empty
    when there is no manager."""
    heap = [(load, manager) for manager, load in loads.items()]
    heapq.heapify(heap)
    out: dict[int, int] = {}
    if not heap:
        return out
    for item in items:
        load, manager = heapq.heappop(heap)
        out[item] = manager
        heapq.heappush(heap, (load + 1, manager))
    return out
