"""Benchmark: from an 8301 push to the decision committed and the bureau answer queued.

PostgreSQL only. A fresh database; N institutions, each authorized (8101) and profiled (8201)
over real HTTP, with 3 years of daily settlement history loaded by COPY (setup, not measured).
Then, interleaved per institution:

* ingest-only: an 8301 push of 5 days with the decision step switched off;
* decision:    an 8301 push of the next 6 days that makes the data current, so the gateway
               decides (first decision: features, active model, score, limit, reasons, shadow
               check, case, outbox) in the same transaction.

Each timing is the client's wall clock around one signed, encrypted HTTP call (bureau-side
seal, bank open, archive commit, processing commit, bank seal, bureau open). Also measured:
SM2/SM4 envelope cost alone, and the decision step alone in-process.

    .venv/bin/python bench/decision_latency.py --n 200 [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START = date(2023, 8, 21)  # three years of daily history ...
HISTORY_END = date(2026, 8, 20)  # ... preloaded up to here
BASELINE_DAYS = (date(2026, 8, 21), date(2026, 8, 25))
DECISION_DAYS = (date(2026, 8, 26), date(2026, 8, 31))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "mean": statistics.fmean(values), "max": max(values)}


def machine_facts(url: str) -> dict[str, str]:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                                  check=False).stdout.strip()
        except OSError:
            return "?"
    import gmssl
    import sqlalchemy

    engine = create_engine(url)
    with engine.connect() as c:
        pg = str(c.execute(text("select version()")).scalar()).split(" on ")[0]
    engine.dispose()
    return {
        "cpu": sh("lscpu | sed -n 's/^Model name:[ ]*//p' | head -1") or platform.processor(),
        "cores": sh("nproc"),
        "ram": sh("free -h | awk '/Mem:/ {print $2}'"),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": pg,
        "sqlalchemy": sqlalchemy.__version__,
        "gmssl": getattr(gmssl, "__version__", sh(f"{sys.executable} -m pip show gmssl "
                                                  "2>/dev/null | sed -n 's/^Version: //p'")),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--url", default=os.environ.get("YIBAODAI_BENCH_POSTGRES_URL",
                                                        DEFAULT_URL))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-decisions.md")
    args = parser.parse_args()

    from yibaodai.admission.service import gather_inputs, make_decision
    from yibaodai.admission.versions import active_version
    from yibaodai.bootstrap import ensure_keys, keyring
    from yibaodai.clock import SHANGHAI, SimulatedClock
    from yibaodai.db.models import DecisionRow, InstitutionRow, OutboxRow
    from yibaodai.domain.admission import decide
    from yibaodai.gateway import service as gateway_service
    from yibaodai.gateway.envelope import open_request, open_response, seal_request, seal_response
    from yibaodai.runtime import build_bank, prepare_database
    from yibaodai.settings import Settings
    from yibaodai.sim.bureau import BureauPusher
    from yibaodai.sim.city import daily_settlements, generate_city
    from yibaodai.sim.server import ServerThread

    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    name = f"yb_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.url).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="yb-bench-"))
    try:
        settings = Settings(database_url=url, var_dir=tmp / "var")
        ensure_keys(settings.keys_dir)
        clock = SimulatedClock(datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI))
        db = prepare_database(settings)
        bank = build_bank(settings, clock, db)
        seed = 11
        city = [i for i in generate_city(seed=seed, institutions=max(60, args.n * 2),
                                         as_of=date(2026, 8, 31))
                if i.stopped_on is None and i.begntime <= START][:args.n]
        assert len(city) == args.n, f"only {len(city)} institutions with 3 years of history"

        # the decision step can be switched off per call (ingest-only baseline)
        decide_enabled = [True]
        real_should_decide = gateway_service.should_decide

        def switchable(session: Any, code: str, now: datetime) -> bool:
            return decide_enabled[0] and real_should_decide(session, code, now)

        gateway_service.should_decide = switchable  # type: ignore[assignment]

        with ServerThread(bank.app) as server:
            pusher = BureauPusher(bank_url=server.url, keyring=keyring(settings.keys_dir,
                                                                       "bureau"),
                                  clock=clock, seed=seed)
            t0 = time.perf_counter()
            for inst in city:
                assert pusher.authorize(inst, on=date(2026, 8, 1)).infcode == 0
                assert pusher.push_profile(inst).infcode == 0
            rows = 0
            raw = bank.db.engine.raw_connection()
            try:
                cur = raw.cursor()
                cols = ("fixmedins_code, setl_date, insutype, clr_type, setl_cnt, refd_setl_cnt,"
                        " medfee_sumamt_fen, fund_pay_sumamt_fen, hifp_pay_fen, acct_pay_fen, "
                        "psn_cash_pay_fen, source_msgid")
                with cur.copy(f"COPY settlement_facts ({cols}) FROM STDIN") as cp:  # type: ignore[attr-defined]
                    for inst in city:
                        for r in daily_settlements(inst, seed=seed, start=START,
                                                   end=HISTORY_END):
                            cp.write_row((r.fixmedins_code, r.setl_date, r.insutype,
                                          r.clr_type, r.setl_cnt, r.refd_setl_cnt,
                                          int(r.medfee_sumamt * 100),
                                          int(r.fund_pay_sumamt * 100),
                                          int(r.hifp_pay * 100), int(r.acct_pay * 100),
                                          int(r.psn_cash_pay * 100), "bench-preload"))
                            rows += 1
                raw.commit()
                cur.execute("ANALYZE")
                raw.commit()
            finally:
                raw.close()
            setup_s = time.perf_counter() - t0
            print(f"setup: {args.n} institutions, {rows} history rows, {setup_s:.1f}s",
                  flush=True)

            ingest_ms: list[float] = []
            decision_ms: list[float] = []
            for inst in city:
                for enabled, (a, b), sink in ((False, BASELINE_DAYS, ingest_ms),
                                              (True, DECISION_DAYS, decision_ms)):
                    decide_enabled[0] = enabled
                    t = time.perf_counter()
                    answers = pusher.push_settlements(inst, start=a, end=b)
                    sink.append((time.perf_counter() - t) * 1000)
                    assert len(answers) == 1 and answers[0].infcode == 0, answers[0].err_msg
                    if enabled:
                        assert "decision" in answers[0].output, answers[0].output
            pusher.close()

        with bank.db.unit_of_work() as s:
            n_decisions = s.scalar(select(func.count()).select_from(DecisionRow))
            n_answers = s.scalar(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.kind == "admission_result"))
            admitted = s.scalar(select(func.count()).select_from(DecisionRow).where(
                DecisionRow.result == "admitted"))
        assert n_decisions == args.n and n_answers == args.n, (n_decisions, n_answers)

        # where the time goes: the envelope (SM2 sign/verify, SM4) and the decision step alone
        ring_b, ring_k = keyring(settings.keys_dir, "bureau"), keyring(settings.keys_dir, "bank")
        sample = [{"fixmedins_code": city[0].fixmedins_code, "setl_date": "2026-08-26",
                   "insutype": "310", "clr_type": "11", "setl_cnt": 10, "refd_setl_cnt": 0,
                   "medfee_sumamt": "100.00", "fund_pay_sumamt": "60.00", "hifp_pay": "60.00",
                   "acct_pay": "20.00", "psn_cash_pay": "20.00"}] * 12
        crypto_ms: list[float] = []
        for k in range(30):
            t = time.perf_counter()
            env = seal_request(infno="8301", input={"data": sample}, sender_code="210200000001",
                               fixmedins_code=city[0].fixmedins_code, fixmedins_name="x",
                               area="210200", keyring=ring_b,
                               peer_key_id=ring_b.peer_key_ids["bank"], now=clock.now(),
                               seq=9000 + k)
            open_request(env, keyring=ring_k)
            resp = seal_response(infcode=0, err_msg="", output={"accepted_rows": 12},
                                 refmsgid_area="210200", serial=k, now=clock.now(),
                                 keyring=ring_k)
            open_response(resp, keyring=ring_b)
            crypto_ms.append((time.perf_counter() - t) * 1000)

        step_ms: list[float] = []
        gather_ms: list[float] = []
        for inst in city[:50]:
            with bank.db.unit_of_work() as s:  # rolled back: measures, changes nothing
                t = time.perf_counter()
                row = s.get(InstitutionRow, inst.fixmedins_code)
                assert row is not None
                inputs = gather_inputs(s, row, clock.today())
                gather_ms.append((time.perf_counter() - t) * 1000)
                decide(inputs, active_version(s, clock.now()).model)
                t2 = time.perf_counter()
                make_decision(s, code=inst.fixmedins_code, trigger="bench", now=clock.now())
                s.flush()
                step_ms.append((time.perf_counter() - t2) * 1000)
        facts = machine_facts(args.url)
    finally:
        gateway_service.should_decide = real_should_decide  # type: ignore[possibly-undefined]
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    ing, dec = summary(ingest_ms), summary(decision_ms)
    crypto, step, gather = summary(crypto_ms), summary(step_ms), summary(gather_ms)
    result = {"n": args.n, "rows": rows, "admitted": admitted, "ingest": ing, "decision": dec,
              "crypto": crypto, "step": step, "gather": gather, "facts": facts,
              "date": datetime.now().astimezone().isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.executable).name, *sys.argv])}
    print(result, flush=True)
    write_markdown(args.out, result)


def write_markdown(path: Path, r: dict[str, Any]) -> None:
    ing, dec = r["ingest"], r["decision"]
    lines = [
        "## Measured numbers (written by `bench/decision_latency.py`)",
        "",
        f"- date: {r['date']}",
        f"- command: `{r['command']}`",
        *[f"- {k}: {v}" for k, v in r["facts"].items()],
        f"- institutions: {r['n']} (admitted {r['admitted']}), preloaded history rows: "
        f"{r['rows']} (3 years, {START} .. {HISTORY_END})",
        "",
        "| ms per 8301 push (HTTP, signed + encrypted) | p50 | p95 | p99 | mean | max |",
        "|---|---|---|---|---|---|",
        *[f"| {label} | {s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} | {s['mean']:.1f} "
          f"| {s['max']:.1f} |" for label, s in (("ingest only (decision step off)", ing),
                                                   ("ingest + decision + answer queued", dec))],
        f"| ratio decision / ingest-only | {dec['p50'] / ing['p50']:.2f} | "
        f"{dec['p95'] / ing['p95']:.2f} | {dec['p99'] / ing['p99']:.2f} | "
        f"{dec['mean'] / ing['mean']:.2f} | |",
        "",
        "| where the time goes (ms) | p50 | p95 | p99 |",
        "|---|---|---|---|",
        *[f"| {label} | {s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} |" for label, s in (
            ("envelope alone: SM2 sign+verify and SM4 both ways (seal/open request and "
             "response)", r["crypto"]),
            ("decision step alone in-process (make_decision: features, model, score, "
             "limit, case, outbox; flushed, rolled back)", r["step"]),
            ("of which gathering inputs (query ~27 months of daily rows + features)",
             r["gather"]))],
        "",
    ]
    text_ = path.read_text(encoding="utf-8") if path.exists() else "# Decision latency\n\n"
    marker = "## Measured numbers"
    head = text_.split(marker)[0].rstrip() + "\n\n"
    path.write_text(head + "\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
