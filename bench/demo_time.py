"""How long ``yibaodai demo --no-serve --json`` takes, installs aside (issue 9: ≤ 60 s on this
machine), beside a trivial command in the same run, and where its time goes stage by stage
(from the demo's own stage lines on stderr).

    .venv/bin/python -m bench.demo_time [--institutions 300] [--repeat 1]
        [--write docs/bench-demo.md]

Each run is a fresh folder (``YIBAODAI_VAR_DIR``), SQLite, the default seed; the report names
the machine, its load and the command."""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, machine_facts
from yibaodai.domain.organisation import load_organisation

TARGET_SECONDS = 60.0
STAGE = re.compile(r"^\[ *(\d+\.\d) s\] \S+ \S+ (.*)$")


def _yibaodai() -> str:
    return str(Path(sys.executable).with_name("yibaodai"))


def one_run(institutions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "YIBAODAI_VAR_DIR": str(Path(tmp) / "var")}
        env.pop("YIBAODAI_DATABASE_URL", None)
        load_at_start = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run([_yibaodai(), "demo", "--no-serve", "--json", "--institutions",
                               str(institutions)], env=env, capture_output=True, text=True,
                              check=False)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU the demo's process used (all its threads): on a loaded machine the wall time
        # also counts waiting for a core, this does not
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"the demo failed:\n{done.stderr[-3000:]}")
        t0 = time.perf_counter()
        subprocess.run([_yibaodai(), "--help"], env=env, capture_output=True, check=True)
        trivial = time.perf_counter() - t0
    summary = json.loads(done.stdout)
    stages = [(float(m[1]), m[2]) for line in done.stderr.splitlines()
              if (m := STAGE.match(line))]
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "cli_start_s": round(trivial, 2),
            "demo_reported_s": summary.get("elapsed_seconds"), "stages": stages,
            "load_at_start": load_at_start,
            "summary": {k: v for k, v in summary.items() if k != "accounts"}}


def _work_waiting(summary: dict[str, Any]) -> str:
    """Issue 9: every sub-branch opens the platform with cases to claim, to verify and open
    warnings."""
    n = len(load_organisation().sub_branches)
    got = {what: int(summary.get(f"sub_branches_with_{what}", 0))
           for what in ("cases_to_claim", "cases_to_verify", "open_warnings")}
    return (f"- work waiting on first log-in (target: all {n} sub-branches): "
            + ", ".join(f"{what.replace('_', ' ')} {v}/{n}" for what, v in got.items())
            + f"; met: {'yes' if min(got.values()) == n else 'no'}")


def report(runs: list[dict[str, Any]], args: argparse.Namespace,
           facts: dict[str, str]) -> str:
    """``facts``: the machine as read before the first run (its load average at start is
    then true); each run's own 1-minute load average at its start is listed too."""
    walls = [r["wall_s"] for r in runs]
    cpus = [r["cpu_s"] for r in runs]
    median = statistics.median(walls)
    loads = [r["load_at_start"] for r in runs]
    lines = [
        "# Benchmark: the end-to-end demo", "",
        f"Command: `.venv/bin/python -m bench.demo_time --institutions {args.institutions} "
        f"--repeat {args.repeat}`", "",
        f"Machine: {json.dumps(facts, ensure_ascii=False)}; 1-minute load average at the "
        f"start of each run {', '.join(f'{load:.1f}' for load in loads)}; at the "
        f"end {', '.join(f'{x:.1f}' for x in os.getloadavg())}", "",
        f"- target: ≤ {TARGET_SECONDS:.0f} s wall for `yibaodai demo --no-serve --json` "
        f"({args.institutions} institutions), installs aside",
        f"- measured: {', '.join(f'{w:.1f} s' for w in walls)} (median {median:.1f} s, "
        f"{median / TARGET_SECONDS:.2f}× the target); `yibaodai --help` in the same run "
        f"{runs[0]['cli_start_s']:.2f} s; CPU time of the demo's process (user + system, all "
        f"threads): {', '.join(f'{c:.1f} s' for c in cpus)}",
        f"- met: {'yes' if median <= TARGET_SECONDS else 'no'}",
        _work_waiting(runs[0]["summary"]), "",
        "Stages of the first run (elapsed seconds when the demo printed each line, on stderr):", "",
        "| elapsed s | stage |", "|---:|---|"]
    lines += [f"| {t:.1f} | {what} |" for t, what in runs[0]["stages"]]
    lines += ["", "Summary of the first run:", "", "```json",
              json.dumps(runs[0]["summary"], ensure_ascii=False, indent=1), "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--institutions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    facts = machine_facts()
    runs = [one_run(args.institutions) for _ in range(args.repeat)]
    text = report(runs, args, facts)
    if args.write:
        (ROOT / args.write if not args.write.is_absolute() else args.write).write_text(
            text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
