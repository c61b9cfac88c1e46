"""Ingest benchmark: batched 8301 daily summaries through the REAL bureau endpoint, against a
raw PostgreSQL COPY of the same rows into the same table.

    .venv/bin/python bench/ingest_bench.py [--pg-url URL] [--sizes 1000,5000,20000]
                                           [--messages 3] [--profile]

* A scratch database ``yb_bench_<random>`` is created on the server of ``--pg-url`` (default
  ``$YIBAODAI_TEST_POSTGRES_URL`` or postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
  migrated, and dropped at the end (also on failure).
* The bank app is served by ``yibaodai.sim.server.ServerThread`` (uvicorn on a loopback
  socket); the bureau seals every message as the real bureau does (``seal_request``: SM4-CBC
  encryption of ``input``, SM3withSM2 signature) and posts it over HTTP.
* Each measured message is a fresh institution (authorized beforehand with 8101, untimed):
  rows are ``days x 13 insurance types x 4 clearing types``. No profile is sent, so no
  admission decision runs: this measures ingest, not admission.
* "HTTP" time = POST of the pre-sealed body until the signed answer is verified (the bank's
  whole path: size, JSON, envelope, SM2 verify, SM4 decrypt, window, archive + commit, row
  validation, authorization, delete/insert, outcome + commit, sealing the answer).
  "seal" = the bureau's sealing time, reported apart. "COPY" = psycopg ``COPY ... FROM STDIN``
  of the same rows (fen integers) into ``settlement_facts`` after those rows were deleted,
  one COPY + commit per message.
* ``--slow-path`` switches this process back to the row-by-row path for comparison: 8301
  rows validated one by one (``rows.fast_daily`` / the pydantic model, then
  ``DailyColumns.from_rows``) instead of ``rows.fast_daily_columns``, and the signing string
  re-encoded whole (no splice of ``input``). Everything else (archive, COPY) is the same code.
* ``--profile`` also runs one largest message through ``Gateway.handle`` in-process under
  cProfile and prints the top functions by cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from yibaodai.bootstrap import ensure_keys, keyring, seed_organisation
from yibaodai.clock import SHANGHAI, SimulatedClock
from yibaodai.db.migrate import upgrade
from yibaodai.db.session import Database
from yibaodai.domain.codes import make_institution_code, make_uscc
from yibaodai.gateway.envelope import open_response, seal_request
from yibaodai.runtime import build_bank
from yibaodai.settings import Settings
from yibaodai.sim.bulk import daily_rows
from yibaodai.sim.server import ServerThread

START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
SENDER = "210200000001"
COPY_COLUMNS = ("fixmedins_code, setl_date, insutype, clr_type, setl_cnt, refd_setl_cnt, "
                "medfee_sumamt_fen, fund_pay_sumamt_fen, hifp_pay_fen, acct_pay_fen, "
                "psn_cash_pay_fen, source_msgid")


def fen(text_amount: str) -> int:
    return int(Decimal(text_amount) * 100)


def copy_text(rows: list[dict[str, Any]], msgid: str) -> str:
    return "".join(
        f"{r['fixmedins_code']}\t{r['setl_date']}\t{r['insutype']}\t{r['clr_type']}\t"
        f"{r['setl_cnt']}\t{r['refd_setl_cnt']}\t{fen(r['medfee_sumamt'])}\t"
        f"{fen(r['fund_pay_sumamt'])}\t{fen(r['hifp_pay'])}\t{fen(r['acct_pay'])}\t"
        f"{fen(r['psn_cash_pay'])}\t{msgid}\n" for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg-url", default=os.environ.get(
        "YIBAODAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--messages", type=int, default=3, help="messages per batch size")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--slow-path", action="store_true",
                    help="row-by-row validation and whole re-encoded signing string (before)")
    args = ap.parse_args()
    if args.slow_path:
        slow_path()
    sizes = [int(s) for s in args.sizes.split(",")]

    name = f"yb_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(args.pg_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    from yibaodai.gateway import crypto

    backend = getattr(crypto, "sm2_backend_for", lambda: "gmssl")()
    results: dict[str, Any] = {"database": name, "path": "slow" if args.slow_path else "fast",
                               "sm2_backend": backend, "sizes": {}}
    try:
        run(url, sizes, args.messages, args.profile, results)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(results, indent=2))
    return 0


def run(url: str, sizes: list[int], per_size: int, profile: bool,
        results: dict[str, Any]) -> None:
    t0 = time.perf_counter()
    upgrade(url)
    results["migrate_s"] = round(time.perf_counter() - t0, 2)
    tmp = Path(tempfile.mkdtemp(prefix="yb_bench_"))
    settings = Settings(database_url=url, var_dir=tmp / "var")
    ensure_keys(settings.keys_dir)
    db = Database(url)
    with db.unit_of_work() as s:
        seed_organisation(s)
        s.commit()
    clock = SimulatedClock(START)
    bank = build_bank(settings, clock, db)
    ring = keyring(settings.keys_dir, "bureau")
    seq = itertools.count(1)
    codes = (make_institution_code(letter="H", area_code="210202", seq=n)
             for n in itertools.count(1))
    uscc = make_uscc(area_code="210202", org_body8="MA0ABC12")
    pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))

    def seal(infno: str, code: str, rows: list[dict[str, Any]]) -> bytes:
        clock.advance(timedelta(seconds=1))  # a fresh msgid second for every message
        env = seal_request(infno=infno, input={"data": rows}, sender_code=SENDER,
                           fixmedins_code=code, fixmedins_name="基准诊所", area="210200",
                           keyring=ring, peer_key_id=ring.peer_key_ids["bank"],
                           now=clock.now(), seq=next(seq) % 10_000)
        return json.dumps(env, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    with ServerThread(bank.app) as server, __import__("httpx").Client(timeout=300) as http:
        endpoint = f"{server.url}/fsi/api/bank/callService"

        def post(body: bytes) -> Any:
            r = http.post(endpoint, content=body, headers={"content-type": "application/json"})
            r.raise_for_status()
            answer = open_response(r.content, keyring=ring)
            if answer.infcode != 0:
                raise RuntimeError(answer.err_msg)
            return answer

        last_day = START.date() - timedelta(days=1)
        for size in sizes:
            batch = [next(codes) for _ in range(per_size)]
            for code in batch:  # authorizations: untimed
                post(seal("8101", code, [{
                    "fixmedins_code": code, "fixmedins_name": "基准诊所", "uscc": uscc,
                    "auth_no": f"BENCH{code}", "auth_scope": ["settlement"],
                    "begndate": "2026-01-01", "enddate": "2029-12-31"}]))
            data = {code: daily_rows(code, size, last_day) for code in batch}
            t = time.perf_counter()
            bodies = [(code, seal("8301", code, data[code])) for code in batch]
            seal_s = time.perf_counter() - t
            post(seal("8301", batch[0], data[batch[0]][:10]))  # warm-up (not measured)
            msgids = []
            t = time.perf_counter()
            for _code, body in bodies:
                post(body)
                msgids.append(json.loads(body)["msgid"])
            http_s = time.perf_counter() - t
            with pg.cursor() as cur:  # the same rows out again (untimed), then COPY them in
                cur.execute("DELETE FROM settlement_facts WHERE fixmedins_code = ANY(%s)",
                            (batch,))
            pg.commit()
            payloads = [copy_text(data[code], msgid) for code, msgid in zip(batch, msgids,
                                                                             strict=True)]
            t = time.perf_counter()
            for payload in payloads:
                with pg.cursor() as cur, cur.copy(
                        f"COPY settlement_facts ({COPY_COLUMNS}) FROM STDIN") as cp:
                    cp.write(payload)
                pg.commit()
            copy_s = time.perf_counter() - t
            rows = size * per_size
            body_mb = sum(len(b) for _, b in bodies) / per_size / 1e6
            results["sizes"][str(size)] = {
                "messages": per_size, "rows": rows, "body_mb_per_message": round(body_mb, 2),
                "http_s": round(http_s, 3), "http_rows_per_s": round(rows / http_s),
                "bureau_seal_s": round(seal_s, 3),
                "copy_s": round(copy_s, 3), "copy_rows_per_s": round(rows / copy_s),
                "http_over_copy": round((rows / http_s) / (rows / copy_s), 3),
            }
            print(f"{size:>6} rows/message: HTTP {rows / http_s:>9,.0f} rows/s, "
                  f"COPY {rows / copy_s:>10,.0f} rows/s, ratio {copy_s / http_s:.3f} "
                  f"(body {body_mb:.2f} MB, seal {seal_s / per_size:.3f} s/msg)",
                  file=sys.stderr)

        def seal_fresh(size: int) -> bytes:
            code = next(codes)
            post(seal("8101", code, [{
                "fixmedins_code": code, "fixmedins_name": "基准诊所", "uscc": uscc,
                "auth_no": f"BENCH{code}", "auth_scope": ["settlement"],
                "begndate": "2026-01-01", "enddate": "2029-12-31"}]))
            return seal("8301", code, daily_rows(code, size, last_day))

        if profile:
            size = max(sizes)
            code = next(codes)
            post(seal("8101", code, [{
                "fixmedins_code": code, "fixmedins_name": "基准诊所", "uscc": uscc,
                "auth_no": f"BENCH{code}", "auth_scope": ["settlement"],
                "begndate": "2026-01-01", "enddate": "2029-12-31"}]))
            body = seal("8301", code, daily_rows(code, size, last_day))
            gateway = bank.context.bureau_gateway
            assert gateway is not None
            prof = cProfile.Profile()
            t = time.perf_counter()
            prof.enable()
            answer = gateway.handle(body)
            prof.disable()
            results["profile_in_process_s"] = round(time.perf_counter() - t, 3)
            assert answer.infcode == 0, answer.envelope.get("err_msg")
            results["stages_in_process_s"] = stages(
                gateway, [seal_fresh(size) for _ in range(3)])
            for key in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats(key).print_stats(22)
                print(out.getvalue(), file=sys.stderr)
    pg.close()
    db.dispose()


def slow_path() -> None:
    """The row-by-row path (see ``--slow-path``), patched into this process."""
    from yibaodai.gateway import envelope, rows

    def whole(fields: Any) -> bytes:
        return envelope._compact({k: v for k, v in fields.items() if k != "cainfo"})

    rows.fast_daily_columns = lambda *a, **k: None  # type: ignore[assignment]
    envelope.canonical_signing_bytes = whole  # type: ignore[assignment]


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
