"""Benchmark: from an 8301 push to the decision committed and the bureau answer queued.

PostgreSQL only. A fresh database; N institutions, each authorized (8101) and profiled (8201)
over real HTTP, with 3 years of daily settlement history loaded by COPY (setup, not measured).
The bank runs in processes of its own (``bench.common.BankServer``, as ``yibaodai serve``,
clock frozen at 2026-09-01 09:00): one normal, one with the admission step switched off,
both on the same database. Then, interleaved per institution:

* ingest-only: an 8301 push of 5 days to the server without the admission step;
* decision:    an 8301 push of the next 6 days that makes the data current, to the normal
               server, so the gateway decides (first decision: features, active model, score,
               limit, reasons, shadow check, case, outbox) in the same transaction.

Each timing is the bureau's wall clock around one signed, encrypted HTTP call: POST of the
sealed envelope, the bank's whole path (open, archive commit, processing commit, sealing the
answer) and the bureau opening the signed answer. The bureau's own sealing is done just
before and reported apart. Also measured: SM2/SM4 envelope cost alone, and the decision step
alone in-process.

    .venv/bin/python -m bench.decision_latency --n 200 [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import ROOT, BankServer, machine_facts, pg_url_from_env, scratch_database
from yibaodai.clock import SHANGHAI

FROZEN_AT = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)  # the bank's clock in this benchmark

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--url", default=pg_url_from_env())
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-decisions.md")
    args = parser.parse_args()

    from yibaodai.admission.handlers import decision_made
    from yibaodai.admission.service import gather_inputs, latest_decision, make_decision
    from yibaodai.admission.versions import active_version
    from yibaodai.bootstrap import ensure_keys, keyring
    from yibaodai.clock import SimulatedClock
    from yibaodai.db.models import DecisionRow, InstitutionRow, OutboxRow
    from yibaodai.domain.admission import decide
    from yibaodai.protocol.envelope import open_request, open_response, seal_request, seal_response
    from yibaodai.runtime import build_bank, prepare_database
    from yibaodai.settings import Settings
    from yibaodai.sim.bureau import BureauPusher
    from yibaodai.sim.city import daily_settlements, generate_city

    with scratch_database(args.url) as url, tempfile.TemporaryDirectory(
            prefix="yb-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        settings = Settings(database_url=url, var_dir=tmp / "var", demo_mode=True)
        ensure_keys(settings.keys_dir)
        clock = SimulatedClock(FROZEN_AT)
        db = prepare_database(settings)
        bank = build_bank(settings, clock, db)
        seed = 11
        city = [i for i in generate_city(seed=seed, institutions=max(60, args.n * 2),
                                         as_of=date(2026, 8, 31))
                if i.stopped_on is None and i.begntime <= START][:args.n]
        assert len(city) == args.n, f"only {len(city)} institutions with 3 years of history"

        servers = {True: BankServer(database_url=url, var_dir=settings.var_dir,
                                    frozen_at=FROZEN_AT),
                   False: BankServer(database_url=url, var_dir=settings.var_dir,
                                     frozen_at=FROZEN_AT, decisions=False)}
        with servers[True] as server, servers[False] as ingest_server:
            ring = keyring(settings.keys_dir, "bureau")
            # the clocks one second apart keep the two pushers' msgids apart
            pushers = {True: BureauPusher(bank_url=server.url, keyring=ring,
                                          clock=SimulatedClock(FROZEN_AT), seed=seed),
                       False: BureauPusher(bank_url=ingest_server.url, keyring=ring,
                                           clock=SimulatedClock(FROZEN_AT + timedelta(
                                               seconds=1)), seed=seed)}
            pusher = pushers[True]
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
                with cur.copy(f"COPY settlement_facts ({cols}) FROM STDIN") as cp:
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
            seal_ms: list[float] = []
            for inst in city:
                for decides, (a, b), sink in ((False, BASELINE_DAYS, ingest_ms),
                                              (True, DECISION_DAYS, decision_ms)):
                    sender = pushers[decides]
                    t = time.perf_counter()
                    envelope = sender.client.seal(
                        infno="8301", fixmedins_code=inst.fixmedins_code,
                        fixmedins_name=inst.fixmedins_name,
                        rows=sender.settlement_rows(inst, start=a, end=b))
                    t1 = time.perf_counter()
                    answer = sender.client.post(envelope)
                    sink.append((time.perf_counter() - t1) * 1000)
                    seal_ms.append((t1 - t) * 1000)
                    assert answer.infcode == 0, answer.err_msg
                    assert ("decision" in answer.output) == decides, answer.output
            for p in pushers.values():
                p.close()

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
                previous = latest_decision(s, inst.fixmedins_code)
                decision = make_decision(s, code=inst.fixmedins_code, trigger="bench",
                                         now=clock.now())
                bank.bus.publish(s, [decision_made(  # the case and the answer, as in the flow
                    decision, supersedes=previous.id if previous else None)])
                s.flush()
                step_ms.append((time.perf_counter() - t2) * 1000)
        facts = machine_facts(args.url, ("sqlalchemy", "psycopg", "uvicorn", "httptools",
                                         "tongsuopy", "ibis-framework"))
        bank.db.dispose()

    ing, dec = summary(ingest_ms), summary(decision_ms)
    crypto, step, gather = summary(crypto_ms), summary(step_ms), summary(gather_ms)
    result = {"n": args.n, "rows": rows, "admitted": admitted, "ingest": ing, "decision": dec,
              "crypto": crypto, "step": step, "gather": gather, "seal": summary(seal_ms),
              "facts": facts,
              "date": datetime.now().astimezone().isoformat(timespec="seconds"),
              "command": " ".join([".venv/bin/python -m bench.decision_latency", *sys.argv[1:]])}
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
        "| ms per 8301 push (HTTP POST to verified answer; bank in its own process) "
        "| p50 | p95 | p99 | mean | max |",
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
            ("bureau sealing its push (rows, SM4, SM2 sign), just before the timed call; "
             "not in the timings above", r["seal"]),
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
