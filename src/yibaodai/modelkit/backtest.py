"""Back-test: what versions would have decided on a history, and how those loans turned out.

Every observation is decided by every version with the engine's own ``decide`` — knock-outs,
scorecard, limit — so the back-test is the production rule, not a re-implementation. Per
version: approvals, limits, and the bad rate among the admitted and among the refused (rows
with a known outcome); by segment; the reasons refusals lead with. With two versions (champion
first, challenger second) the swap set shows where they disagree: who only one admits, and how
those rows turned out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from yibaodai.domain.admission import AdmissionOutcome, WhitelistModel, decide
from yibaodai.modelkit.excel import Column, Sheet
from yibaodai.modelkit.samples import Observation


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _summary(rows: Sequence[tuple[Observation, AdmissionOutcome]]) -> dict[str, Any]:
    admitted = [(o, d) for o, d in rows if d.admitted]
    refused = [(o, d) for o, d in rows if not d.admitted]
    total = sum((d.credit_limit for _, d in admitted), Decimal(0))

    def bads(part: list[tuple[Observation, AdmissionOutcome]]) -> tuple[int, int]:
        known = [o.bad for o, _ in part if o.bad is not None]
        return len(known), sum(known)

    known_a, bad_a = bads(admitted)
    known_r, bad_r = bads(refused)
    return {"rows": len(rows), "admitted": len(admitted),
            "approval_rate": _rate(len(admitted), len(rows)),
            "total_limit": str(total),
            "mean_limit": str((total / len(admitted)).quantize(Decimal("0.01")))
            if admitted else None,
            "labelled_admitted": known_a, "bads_admitted": bad_a,
            "bad_rate_admitted": _rate(bad_a, known_a),
            "labelled_refused": known_r, "bads_refused": bad_r,
            "bad_rate_refused": _rate(bad_r, known_r)}


def _version(name: str, model: WhitelistModel, observations: Sequence[Observation],
             outcomes: list[AdmissionOutcome]) -> dict[str, Any]:
    rows = list(zip(observations, outcomes, strict=True))
    segments = sorted({o.inputs.segment for o in observations})
    leading = Counter(d.reasons[0].code for d in outcomes if not d.admitted and d.reasons)
    return {"name": name, "label": model.version, "all": _summary(rows),
            "segments": {s: _summary([(o, d) for o, d in rows if o.inputs.segment == s])
                         for s in segments},
            "refusals_led_by": dict(leading.most_common())}


def _swap(observations: Sequence[Observation], first: list[AdmissionOutcome],
          second: list[AdmissionOutcome]) -> dict[str, Any]:
    cells: dict[str, list[int]] = {"both_admit": [], "champion_only": [],
                                   "challenger_only": [], "both_refuse": []}
    for n, (a, b) in enumerate(zip(first, second, strict=True)):
        key = ("both_admit" if b.admitted else "champion_only") if a.admitted else \
            ("challenger_only" if b.admitted else "both_refuse")
        cells[key].append(n)
    out: dict[str, Any] = {}
    for key, idx in cells.items():
        known = [bad for i in idx if (bad := observations[i].bad) is not None]
        out[key] = {"rows": len(idx), "labelled": len(known), "bads": sum(known),
                    "bad_rate": _rate(sum(known), len(known))}
    both = cells["both_admit"]
    out["limit_change_both_admit"] = str(sum(
        (second[i].credit_limit - first[i].credit_limit for i in both), Decimal(0)))
    out["agreement_rate"] = _rate(len(both) + len(cells["both_refuse"]), len(observations))
    return out


def backtest(observations: Sequence[Observation],
             models: Mapping[str, WhitelistModel]) -> dict[str, Any]:
    """Each model (name -> content; the first is the champion) on every observation."""
    outcomes = {name: [decide(o.inputs, m) for o in observations] for name, m in models.items()}
    names = list(models)
    report: dict[str, Any] = {
        "kind": "backtest", "rows": len(observations),
        "labelled": sum(1 for o in observations if o.bad is not None),
        "versions": [_version(n, models[n], observations, outcomes[n]) for n in names],
        "side_by_side": None}
    if len(names) == 2:
        report["side_by_side"] = _swap(observations, outcomes[names[0]], outcomes[names[1]])
    return report


_SUMMARY = [Column("rows", "行数 rows", "int"), Column("admitted", "准入数 admitted", "int"),
            Column("approval_rate", "准入率 approval rate", "rate"),
            Column("total_limit", "额度合计(元) total limit", "yuan"),
            Column("mean_limit", "平均额度(元) mean limit", "yuan"),
            Column("bad_rate_admitted", "准入者坏账率 bad rate admitted", "rate"),
            Column("labelled_admitted", "准入者有结果数", "int"),
            Column("bad_rate_refused", "拒绝者坏账率 bad rate refused", "rate"),
            Column("labelled_refused", "拒绝者有结果数", "int")]


def sheets(report: dict[str, Any]) -> list[Sheet]:
    versions = []
    for v in report["versions"]:
        versions.append({"version": f"{v['name']}: {v['label']}", "segment": "all", **v["all"]})
        versions += [{"version": f"{v['name']}: {v['label']}", "segment": s, **row}
                     for s, row in v["segments"].items()]
    reasons = [{"version": v["label"], "code": code, "rows": n}
               for v in report["versions"] for code, n in v["refusals_led_by"].items()]
    out = [Sheet("Versions", "回测 Back-test: approvals, limits, bad rates",
                 [Column("version", "版本 version"), Column("segment", "分段 segment"),
                  *_SUMMARY], versions),
           Sheet("Refusals", "拒绝首要原因 Leading refusal reasons",
                 [Column("version", "版本 version"), Column("code", "原因码 code"),
                  Column("rows", "行数 rows", "int")], reasons)]
    if report["side_by_side"]:
        swap = report["side_by_side"]
        cells = [{"cell": k, **v} for k, v in swap.items() if isinstance(v, dict)]
        out.append(Sheet("Swap set", "冠军/挑战者对比 Champion vs challenger",
                         [Column("cell", "组合 cell"), Column("rows", "行数 rows", "int"),
                          Column("labelled", "有结果数 labelled", "int"),
                          Column("bads", "坏样本 bads", "int"),
                          Column("bad_rate", "坏账率 bad rate", "rate")], cells))
    return out
