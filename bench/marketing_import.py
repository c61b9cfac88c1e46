"""Benchmark: importing the bureau's list (issue 12).

1. A list of ``--rows`` rows (default 20,000) with 5 % near-duplicates, written by the
   simulator as its messy Excel file, imported end to end (read, parse, match, write,
   assign, commit) into a fresh database on each backend; then imported again (every row an
   update). Target: <= 20 s per import. The counts are checked against what the generator
   injected, so a fast wrong import fails.
2. The de-duplication alone (``domain.marketing.matching.cluster``) at several sizes, with
   the number of comparisons, to show it grows like n log n: time / (n log2 n) stays flat and
   the log-log slope between sizes stays near 1. At the small sizes the all-pairs comparison
   within districts (blocking by district alone) runs beside it, for the ratio.
3. The two Excel readers side by side on the same file: python-calamine (used) and openpyxl.

Run from the repository root:
    .venv/bin/python -m bench.marketing_import [--rows 20000] [--sizes 2500,5000,10000,20000]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import math
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import machine_facts, pg_url_from_env, scratch_database

AS_OF = "2026-08-31"
PACKAGES = ("python-calamine", "openpyxl", "lxml", "XlsxWriter", "rapidfuzz", "SQLAlchemy",
            "psycopg")


def _list(rows: int, *, seed: int) -> tuple[bytes, Any]:
    from datetime import date

    from yibaodai.sim.bureau_list import write_bureau_list
    from yibaodai.sim.city import generate_city

    institutions = round((rows - 3) / 1.05)  # 3 unusable rows, 5 % duplicates
    city = generate_city(seed=seed, institutions=institutions, as_of=date.fromisoformat(AS_OF))
    out = io.BytesIO()
    manifest = write_bureau_list(city, out, seed=seed, as_of=date.fromisoformat(AS_OF))
    return out.getvalue(), manifest


def _import_on(url: str, data: bytes, manifest: Any) -> dict[str, float]:
    from yibaodai.auth.passwords import use_cheapest_parameters_for_tests
    from yibaodai.bootstrap import open_database, seed_demo_users, seed_organisation
    from yibaodai.clock import SHANGHAI
    from yibaodai.db.migrate import upgrade
    from yibaodai.marketing import import_list
    from yibaodai.settings import Settings

    use_cheapest_parameters_for_tests()  # 54 staff accounts; not what is measured
    upgrade(url)
    # A scratch installation in demo mode: its chain key is made on first use, in a folder
    # of its own (never the working copy's ./var).
    db = open_database(Settings(database_url=url, demo_mode=True,
                                var_dir=Path(tempfile.mkdtemp(prefix="bench-marketing-"))))
    with db.unit_of_work() as s:
        seed_organisation(s)
        seed_demo_users(s, seed=1)
        s.commit()
    now = datetime(2026, 9, 1, 9, tzinfo=SHANGHAI)
    times: dict[str, float] = {}
    for run in ("first", "again"):
        started, cpu = time.perf_counter(), time.process_time()
        with db.unit_of_work() as s:
            report = import_list(s, data=data, filename="list.xlsx", actor="bench", now=now)
            s.commit()
        times[run] = time.perf_counter() - started
        # this process's CPU time (not the database server's): what the import costs
        # whatever else the shared machine runs, and the load it ran under
        times[f"{run}_cpu"] = time.process_time() - cpu
        times[f"{run}_load"] = os.getloadavg()[0]
        expected_new = manifest.institutions if run == "first" else 0
        assert (report.read, report.new, report.merged, len(report.refused)) == (
            manifest.data_rows, expected_new, manifest.near_duplicates, manifest.refusable), (
            run, report.read, report.new, report.merged, len(report.refused))
    db.dispose()
    return times


def _records(data: bytes) -> list[Any]:
    from yibaodai.domain.marketing.layout import find_layout
    from yibaodai.domain.marketing.matching import MatchRecord, address_key, name_key
    from yibaodai.domain.marketing.rows import parse_table
    from yibaodai.marketing.reader import read_list

    rows = read_list(data, filename="list.xlsx")[0].rows
    layout = find_layout(rows)
    assert layout is not None
    table = parse_table(rows, layout)
    return [MatchRecord(i, r.district, name_key(r.name), address_key(r.address or ""),
                        r.fixmedins_code, r.uscc) for i, r in enumerate(table.rows)]


def _all_pairs_seconds(records: list[Any]) -> float:
    """Blocking by district alone: every pair of a district compared (the baseline)."""
    from yibaodai.domain.marketing.matching import similarity

    blocks: dict[str, list[Any]] = {}
    for r in records:
        blocks.setdefault(r.district, []).append(r)
    started = time.process_time()
    for block in blocks.values():
        for i, left in enumerate(block):
            for right in block[i + 1:]:
                similarity(left, right)
    return time.process_time() - started


def _dedup(sizes: list[int], *, seed: int, repeat: int, all_pairs_up_to: int
           ) -> list[dict[str, Any]]:
    from yibaodai.domain.marketing.matching import all_pairs_count, cluster

    out = []
    for n in sizes:
        data, manifest = _list(n, seed=seed)
        records = _records(data)
        best = math.inf
        for _ in range(repeat):  # CPU time: the growth with n, not the machine's load
            started = time.process_time()
            result = cluster(records)
            best = min(best, time.process_time() - started)
        merged = sum(len(g) - 1 for g in result.groups)
        assert merged == manifest.near_duplicates, (n, merged, manifest.near_duplicates)
        row: dict[str, Any] = {
            "rows": len(records), "seconds": round(best, 3), "comparisons": result.compared,
            "all_pairs": all_pairs_count(records),
            "us_per_n_log2_n": round(best / (len(records) * math.log2(len(records))) * 1e6, 3)}
        if n <= all_pairs_up_to:
            row["all_pairs_seconds"] = round(_all_pairs_seconds(records), 3)
            row["ratio_all_pairs_to_blocked"] = round(row["all_pairs_seconds"] / best, 1)
        out.append(row)
    for prev, cur in itertools.pairwise(out):
        cur["log_log_slope"] = round(math.log(cur["seconds"] / prev["seconds"])
                                     / math.log(cur["rows"] / prev["rows"]), 2)
    return out


def _readers(data: bytes) -> dict[str, float]:
    from openpyxl import load_workbook

    from yibaodai.marketing.reader import read_list

    started = time.perf_counter()
    read_list(data, filename="list.xlsx")
    calamine = time.perf_counter() - started
    started = time.perf_counter()
    book = load_workbook(io.BytesIO(data), data_only=True)
    _ = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    _ = list(book.worksheets[0].merged_cells.ranges)
    openpyxl = time.perf_counter() - started
    return {"python_calamine_s": round(calamine, 2), "openpyxl_s": round(openpyxl, 2),
            "ratio": round(openpyxl / calamine, 1)}


def _markdown(result: dict[str, Any]) -> str:
    lines = ["# Benchmark: importing the bureau's list (issue 12)", "",
             f"Command: `{result['command']}`", "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in result["machine"].items()]
    lines += ["", "## Measured numbers", "",
              f"Import of a {result['rows']}-row list ({result['near_duplicates']} "
              "near-duplicates), end to end, target <= 20 s:", "",
              "| backend | first import (s) | CPU (s) | load | same list again (s) | CPU (s) | "
              "load |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {b} | {t['first']:.2f} | {t['first_cpu']:.2f} | {t['first_load']:.1f} | "
              f"{t['again']:.2f} | {t['again_cpu']:.2f} | {t['again_load']:.1f} |"
              for b, t in result["imports"].items()]
    lines += ["", "CPU is the importing process's own time (the database server's is not in "
              "it); load is the 1-minute load average on the 2 cores when the import ended."]
    lines += ["", "De-duplication alone (`cluster`), best of the repeats, CPU time:", "",
              "| rows | CPU seconds | comparisons | all pairs in districts | µs / (n log2 n) | "
              "log-log slope | all-pairs seconds | ratio |", "|---|---|---|---|---|---|---|---|"]
    for d in result["dedup"]:
        lines.append(f"| {d['rows']} | {d['seconds']} | {d['comparisons']} | {d['all_pairs']} | "
                     f"{d['us_per_n_log2_n']} | {d.get('log_log_slope', '')} | "
                     f"{d.get('all_pairs_seconds', '')} | "
                     f"{d.get('ratio_all_pairs_to_blocked', '')} |")
    r = result["readers"]
    lines += ["", f"Excel readers on the {result['rows']}-row file: python-calamine "
              f"{r['python_calamine_s']} s, openpyxl {r['openpyxl_s']} s (ratio {r['ratio']}).",
              ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--sizes", default="2500,5000,10000,20000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--all-pairs-up-to", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("docs/bench-marketing.md"))
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    pg_url = pg_url_from_env() if "postgresql" in backends else None
    result: dict[str, Any] = {
        "command": "python -m bench.marketing_import " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
        "machine": machine_facts(pg_url, PACKAGES), "rows": args.rows}
    data, manifest = _list(args.rows, seed=args.seed)
    result["near_duplicates"] = manifest.near_duplicates
    result["imports"] = {}
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                result["imports"]["sqlite"] = _import_on(f"sqlite:///{tmp}/bench.db", data,
                                                         manifest)
        else:
            assert pg_url is not None
            with scratch_database(pg_url) as url:
                result["imports"]["postgresql"] = _import_on(url, data, manifest)
    result["dedup"] = _dedup([int(n) for n in args.sizes.split(",")], seed=args.seed,
                             repeat=args.repeat, all_pairs_up_to=args.all_pairs_up_to)
    result["readers"] = _readers(data)
    args.out.write_text(_markdown(result), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
