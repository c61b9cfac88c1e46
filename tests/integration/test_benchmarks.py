"""The benchmarks still run (tiny sizes, PostgreSQL only): their numbers are not checked here
(that is the job of the benchmark runs themselves, never of a test), but what they count is:
every row sent through the real endpoint arrived, every push decided."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("YIBAODAI_TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(not PG_URL, reason="the benchmarks run on PostgreSQL only")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False,
                            env={**os.environ, "YIBAODAI_BENCH_POSTGRES_URL": PG_URL or ""})
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_ingest_benchmark_counts_every_row(tmp_path: Path) -> None:
    out = tmp_path / "bench-ingest.md"
    result = _run("bench.ingest_bench", "--sizes", "30,60", "--messages", "2",
                  "--concurrency", "1,2", "--out", str(out))
    report = json.loads(result.stdout)
    runs = report["runs"]
    assert [(r["rows_per_message"], r["concurrency"]) for r in runs] == [
        (30, 1), (30, 2), (60, 1), (60, 2)]
    # the benchmark deletes exactly the rows it sent (it asserts that count) before the COPY
    assert all(r["rows"] == r["rows_per_message"] * 2 for r in runs)
    assert all(r["http_rows_per_s"] > 0 and r["copy_rows_per_s"] > 0 for r in runs)
    text = out.read_text(encoding="utf-8")
    assert "## Measured numbers" in text and report["command"] in text


def test_decision_benchmark_decides_every_push(tmp_path: Path) -> None:
    out = tmp_path / "bench-decisions.md"
    _run("bench.decision_latency", "--n", "3", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    # the benchmark asserts one decision and one queued answer per institution
    assert "- institutions: 3 " in text
    assert "ingest + decision + answer queued" in text


def test_platform_benchmark_loads_the_data_and_serves_every_page(tmp_path: Path) -> None:
    """Loads a kept database (``--reuse-db``), then measures again on it without loading,
    then drops it (``--drop-db``)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"yb_bench_keep_{os.getpid()}"
    admin = create_engine(make_url(PG_URL or "").set(database="postgres"))

    def exists() -> bool:
        with admin.connect() as c:
            return c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name}).first() is not None

    out = tmp_path / "bench-platform.md"
    small = ("--institutions", "60", "--cases", "10", "--years", "2", "--think", "0.1,0.3",
             "--reuse-db", name)
    try:
        result = _run("bench.platform_load", *small, "--users", "2", "--seconds", "6",
                      "--warmup", "2", "--out", str(out))
        report = json.loads(result.stdout)
        assert report["data"]["institutions"] == 60 and report["data"]["cases"] == 10
        assert report["data"]["settlement_rows"] > 60 * 365
        assert {p["page"] for p in report["pages"]} == {
            "dashboard", "case list (filtered)", "case detail", "institution view"}
        assert all(p["requests"] > 0 and p["failures"] == 0 for p in report["pages"])
        assert report["trivial"]["requests"] > 0
        # percentiles of each request's own time, locust's rounded p95 kept beside them
        for row in (report["trivial"], *report["pages"]):
            assert row["median_ms"] <= row["p95_ms"] <= row["p99_ms"], row
            assert abs(row["p95_ms"] - row["p95_ms_locust"]) <= max(3.0, row["p95_ms"]), row
        # the warm-up's requests are reported apart, not in the measured numbers
        assert report["warmup_s"] == 2 and sum(w["requests"] for w in report["warmup"].values())
        text_out = out.read_text(encoding="utf-8")
        assert "## Measured numbers" in text_out and report["command"] in text_out
        assert report["reused"] is None and exists()
        again = json.loads(_run("bench.platform_load", *small, "--users", "1", "--seconds",
                                "3", "--warmup", "0", "--out", str(tmp_path / "again.md")).stdout)
        assert again["reused"] and name in again["reused"]
        assert again["data"] == report["data"]
        assert again["load_seconds"] == report["load_seconds"]  # the load's, not redone
        assert "this run reused the data" in (tmp_path / "again.md").read_text("utf-8")
        assert all(p["requests"] > 0 and p["failures"] == 0 for p in again["pages"])
    finally:
        _run("bench.platform_load", "--drop-db", name)
    assert not exists()
    admin.dispose()
