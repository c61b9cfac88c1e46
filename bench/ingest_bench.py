"""Ingest benchmark: batched 8301 daily summaries through the REAL bureau endpoint, against a
raw PostgreSQL COPY of the same rows into the same table, side by side in one run.

    .venv/bin/python -m bench.ingest_bench [--pg-url URL] [--sizes 1000,5000,20000]
                                           [--messages 4] [--concurrency 1,2] [--profile]

* A scratch database ``yb_bench_<random>`` is created on the server of ``--pg-url`` (default
  ``$YIBAODAI_BENCH_POSTGRES_URL``, ``$YIBAODAI_TEST_POSTGRES_URL`` or the local server),
  migrated, and dropped at the end (also on failure).
* The bank runs in a process of its own (``bench.common.BankServer``: ``build_bank`` +
  uvicorn, as ``yibaodai serve``, with the clock frozen at START so the dates are fixed).
  The bureau seals every message as the real bureau does (``seal_request``: SM4-CBC
  encryption of ``input``, SM3withSM2 signature) and posts it over HTTP.
* Each measured message is a fresh institution (authorized beforehand with 8101, untimed):
  rows are ``days x 13 insurance types x 4 clearing types``. No profile is sent, so no
  admission decision runs: this measures ingest, not admission.
* "HTTP" = wall time from the first POST of the pre-sealed bodies until every signed answer
  is verified by the bureau (the bank's whole path: size, JSON, envelope, SM2 verify, SM4
  decrypt, window, archive + commit, row validation, authorization, COPY of the facts,
  outcome + commit, sealing the answer). ``--concurrency`` is how many messages the bureau
  has in flight at once (1 = strictly one after the other; each sender has its own
  connection). "seal" = the bureau's sealing time, reported apart, not in "HTTP".
* "COPY" = psycopg ``COPY ... FROM STDIN`` of the same rows (fen integers) into
  ``settlement_facts`` after those rows were deleted: one COPY + commit per message, with the
  same number of senders (connections) as the HTTP run it is compared with.
* ``--profile`` also runs messages through ``Gateway.handle`` in this process and reports
  the wall time of each stage (and cProfile's top functions on stderr).

Results go to stdout as JSON and to the "Measured numbers" section of docs/bench-ingest.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import pstats
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import ROOT, BankServer, machine_facts, pg_url_from_env, scratch_database
from yibaodai.bootstrap import ensure_keys, keyring, open_database, seed_organisation
from yibaodai.clock import SHANGHAI, SimulatedClock
from yibaodai.db.migrate import upgrade
from yibaodai.domain.codes import make_institution_code, make_uscc
from yibaodai.protocol.envelope import open_response, seal_request
from yibaodai.protocol.keys import KeyRing
from yibaodai.runtime import build_bank
from yibaodai.settings import Settings
from yibaodai.sim.bulk import daily_rows

START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
LAST_DAY = START.date() - timedelta(days=1)
SENDER = "210200000001"
COPY_COLUMNS = ("fixmedins_code, setl_date, insutype, clr_type, setl_cnt, refd_setl_cnt, "
                "medfee_sumamt_fen, fund_pay_sumamt_fen, hifp_pay_fen, acct_pay_fen, "
                "psn_cash_pay_fen, source_msgid")
PACKAGES = ("sqlalchemy", "psycopg", "pydantic", "fastapi", "uvicorn", "httptools",
            "cryptography", "tongsuopy")


def fen(text_amount: str) -> int:
    return int(Decimal(text_amount) * 100)


def copy_text(rows: list[dict[str, Any]], msgid: str) -> str:
    return "".join(
        f"{r['fixmedins_code']}\t{r['setl_date']}\t{r['insutype']}\t{r['clr_type']}\t"
        f"{r['setl_cnt']}\t{r['refd_setl_cnt']}\t{fen(r['medfee_sumamt'])}\t"
        f"{fen(r['fund_pay_sumamt'])}\t{fen(r['hifp_pay'])}\t{fen(r['acct_pay'])}\t"
        f"{fen(r['psn_cash_pay'])}\t{msgid}\n" for r in rows)


class Bureau:
    """Seals messages as the bureau does. The bank's clock is frozen at START: every message
    carries that time, and ``seq`` keeps the msgids apart."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self.uscc = make_uscc(area_code="210202", org_body8="MA0ABC12")

    def seal(self, infno: str, code: str, rows: list[dict[str, Any]]) -> bytes:
        with self._lock:
            seq = next(self._seq)
        assert seq < 10_000, "msgid sequence exhausted at this second"
        env = seal_request(infno=infno, input={"data": rows}, sender_code=SENDER,
                           fixmedins_code=code, fixmedins_name="基准诊所", area="210200",
                           keyring=self.ring, peer_key_id=self.ring.peer_key_ids["bank"],
                           now=START, seq=seq)
        return json.dumps(env, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def authorization(self, code: str) -> bytes:
        return self.seal("8101", code, [{
            "fixmedins_code": code, "fixmedins_name": "基准诊所", "uscc": self.uscc,
            "auth_no": f"BENCH{code}", "auth_scope": ["settlement"],
            "begndate": "2026-01-01", "enddate": "2029-12-31"}])

    def post(self, http: httpx.Client, endpoint: str, body: bytes) -> Any:
        r = http.post(endpoint, content=body, headers={"content-type": "application/json"})
        r.raise_for_status()
        answer = open_response(r.content, keyring=self.ring)
        if answer.infcode != 0:
            raise RuntimeError(answer.err_msg)
        return answer


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--pg-url", default=pg_url_from_env())
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--messages", type=int, default=4,
                    help="messages per batch size and concurrency level")
    ap.add_argument("--concurrency", default="1,2",
                    help="messages in flight at once, one run per value")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-ingest.md",
                    help="report whose 'Measured numbers' section is rewritten ('-': none)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    levels = [int(x) for x in args.concurrency.split(",")]
    results: dict[str, Any] = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.ingest_bench", *sys.argv[1:]]),
        "machine": machine_facts(args.pg_url, PACKAGES), "runs": []}
    from yibaodai.protocol import sm2

    results["sm2_backend"] = sm2.sm2_backend_for()
    with scratch_database(args.pg_url) as url, tempfile.TemporaryDirectory(
            prefix="yb_bench_") as tmp:
        run(url, Path(tmp), sizes, levels, args.messages, args.profile, results)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if str(args.out) != "-":
        write_markdown(args.out, results)
    return 0


def run(url: str, tmp: Path, sizes: list[int], levels: list[int], per_run: int,
        profile: bool, results: dict[str, Any]) -> None:
    upgrade(url)
    settings = Settings(database_url=url, var_dir=tmp / "var", demo_mode=True)
    ensure_keys(settings.keys_dir)
    db = open_database(settings)
    with db.unit_of_work() as s:
        seed_organisation(s)
        s.commit()
    bureau = Bureau(keyring(settings.keys_dir, "bureau"))
    codes = (make_institution_code(letter="H", area_code="210202", seq=n)
             for n in itertools.count(1))
    pg_dsn = url.replace("postgresql+psycopg://", "postgresql://")

    with BankServer(database_url=url, var_dir=settings.var_dir, frozen_at=START) as server:
        endpoint = f"{server.url}/fsi/api/bank/callService"
        clients = [httpx.Client(timeout=300) for _ in range(max(levels))]
        try:
            warm = next(codes)  # first request of a fresh server: not measured
            bureau.post(clients[0], endpoint, bureau.authorization(warm))
            bureau.post(clients[0], endpoint,
                        bureau.seal("8301", warm, daily_rows(warm, 10, LAST_DAY)))
            for size in sizes:
                for level in levels:
                    results["runs"].append(measure(bureau, clients, endpoint, pg_dsn, size,
                                                   level, per_run, codes))
        finally:
            for c in clients:
                c.close()

    if profile:
        bank = build_bank(settings, SimulatedClock(START), db)
        gateway = bank.context.bureau_gateway
        assert gateway is not None

        def fresh(size: int) -> bytes:
            code = next(codes)
            assert gateway.handle(bureau.authorization(code)).infcode == 0
            return bureau.seal("8301", code, daily_rows(code, size, LAST_DAY))

        size = max(sizes)
        body = fresh(size)
        prof = cProfile.Profile()
        prof.enable()
        answer = gateway.handle(body)
        prof.disable()
        assert answer.infcode == 0, answer.envelope.get("err_msg")
        results["stages_in_process_s"] = stages(gateway, [fresh(size) for _ in range(3)])
        for key in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(22)
            print(out.getvalue(), file=sys.stderr)
    db.dispose()


def measure(bureau: Bureau, clients: list[httpx.Client], endpoint: str, pg_dsn: str,
            size: int, level: int, per_run: int, codes: Any) -> dict[str, Any]:
    batch = [next(codes) for _ in range(per_run)]
    for code in batch:  # authorizations: untimed
        bureau.post(clients[0], endpoint, bureau.authorization(code))
    data = {code: daily_rows(code, size, LAST_DAY) for code in batch}
    t = time.perf_counter()
    bodies = [bureau.seal("8301", code, data[code]) for code in batch]
    seal_s = time.perf_counter() - t
    msgids = [json.loads(b)["msgid"] for b in bodies]

    def send(i: int) -> None:  # sender i posts messages i, i + level, i + 2 * level, ...
        for body in bodies[i::level]:
            bureau.post(clients[i], endpoint, body)

    t = time.perf_counter()
    with ThreadPoolExecutor(level) as pool:
        list(pool.map(send, range(level)))
    http_s = time.perf_counter() - t

    with psycopg.connect(pg_dsn) as pg:  # the same rows out again (untimed), then COPY them in
        n = pg.execute("DELETE FROM settlement_facts WHERE fixmedins_code = ANY(%s)",
                       (batch,)).rowcount
        assert n == size * per_run, f"{n} rows stored, {size * per_run} sent"
    payloads = [copy_text(data[code], m) for code, m in zip(batch, msgids, strict=True)]
    connections = [psycopg.connect(pg_dsn) for _ in range(level)]

    def copy(i: int) -> None:
        pg = connections[i]
        for payload in payloads[i::level]:
            with pg.cursor() as cur, cur.copy(
                    f"COPY settlement_facts ({COPY_COLUMNS}) FROM STDIN") as cp:
                cp.write(payload)
            pg.commit()

    try:
        t = time.perf_counter()
        with ThreadPoolExecutor(level) as pool:
            list(pool.map(copy, range(level)))
        copy_s = time.perf_counter() - t
    finally:
        for c in connections:
            c.close()
    rows = size * per_run
    out = {"rows_per_message": size, "concurrency": level, "messages": per_run, "rows": rows,
           "body_mb_per_message": round(sum(map(len, bodies)) / per_run / 1e6, 2),
           "http_s": round(http_s, 3), "http_rows_per_s": round(rows / http_s),
           "bureau_seal_s_per_message": round(seal_s / per_run, 3),
           "copy_s": round(copy_s, 3), "copy_rows_per_s": round(rows / copy_s),
           "http_over_copy": round(copy_s / http_s, 3)}
    print(f"{size:>6} rows/message x{level}: HTTP {rows / http_s:>9,.0f} rows/s, "
          f"COPY {rows / copy_s:>10,.0f} rows/s, ratio {copy_s / http_s:.3f} "
          f"(body {out['body_mb_per_message']:.2f} MB)", file=sys.stderr, flush=True)
    return out


def write_markdown(path: Path, r: dict[str, Any]) -> None:
    lines = [
        "## Measured numbers (written by `bench/ingest_bench.py`)",
        "",
        f"- date: {r['date']}",
        f"- command: `{r['command']}`",
        f"- SM2 backend: {r['sm2_backend']}",
        *[f"- {k}: {v}" for k, v in r["machine"].items()],
        "",
        "| rows / message | messages in flight | body MB | HTTP rows/s | COPY rows/s (same "
        "senders) | HTTP / COPY | bureau seal s/msg (not in HTTP) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *[f"| {x['rows_per_message']:,} | {x['concurrency']} | {x['body_mb_per_message']} | "
          f"**{x['http_rows_per_s']:,}** | {x['copy_rows_per_s']:,} | {x['http_over_copy']} | "
          f"{x['bureau_seal_s_per_message']} |" for x in r["runs"]],
        "",
    ]
    if "stages_in_process_s" in r:
        lines += ["In-process stages of `Gateway.handle` (largest message, median of 3, ms):",
                  "", "| stage | ms |", "|---|---:|",
                  *[f"| {k} | {v * 1000:.1f} |" for k, v in r["stages_in_process_s"].items()],
                  "", "The stage marked [thread] runs on a helper thread beside the archive "
                  "insert; it is not part of the total (the archive waits for it before its "
                  "commit). In-process means no HTTP, in the bench's own process.", ""]
    text_ = path.read_text(encoding="utf-8") if path.exists() else "# Ingest benchmark\n\n"
    head = text_.split("## Measured numbers")[0].rstrip() + "\n\n"
    path.write_text(head + "\n".join(lines), encoding="utf-8")


def stages(gateway: Any, bodies: list[bytes]) -> dict[str, float]:
    """Wall time of each stage of ``Gateway.handle`` (no profiler), median of the bodies:
    the stage functions are wrapped with ``perf_counter`` for the duration of the run."""
    from yibaodai.gateway import ingest, service

    spent: dict[str, float] = {}
    wrapped = [(service, "verify_request", "envelope (parse, validate, SM2 verify)"),
               (service, "decrypt_request", "input (SM4 decrypt, JSON) [thread]"),
               (service.Gateway, "_archive", "archive (SM3, insert, commit)"),
               (service, "parse_daily", "row validation (8301)"),
               (ingest, "add_daily_columns", "facts (key lookup, delete, COPY)"),
               (service.Gateway, "_answer", "answer (seal, SM2 sign)")]
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in wrapped]

    def timer(fn: Any, label: str) -> Any:
        def inner(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
        return inner

    runs: list[dict[str, float]] = []
    try:
        for owner, attr, label in wrapped:
            setattr(owner, attr, timer(getattr(owner, attr), label))
        for body in bodies:
            spent.clear()
            t = time.perf_counter()
            answer = gateway.handle(body)
            total = time.perf_counter() - t
            assert answer.infcode == 0, answer.envelope.get("err_msg")
            run_ = dict(spent)
            # "[thread]" stages run beside the archive insert: not part of the sum
            run_["other (lookup, claim, outcome, commit)"] = total - sum(
                v for k, v in spent.items() if "[thread]" not in k)
            run_["total"] = total
            runs.append(run_)
    finally:
        for owner, attr, fn in saved:
            setattr(owner, attr, fn)
    out = {k: round(sorted(r[k] for r in runs)[len(runs) // 2], 4) for k in runs[0]}
    for k, v in out.items():
        print(f"  {k:<40} {v * 1000:8.1f} ms", file=sys.stderr)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
