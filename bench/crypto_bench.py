"""Benchmark: SM3withSM2 on the Tongsuo backend (C, ``tongsuopy``) against the gmssl fallback
(pure Python), side by side in one run, and what that means for a whole envelope.

    .venv/bin/python -m bench.crypto_bench [--sm2-n 300] [--envelope-n 40] [--rows 1000]
                                           [--write docs/bench-crypto.md]

For each backend (selected as the tests do, by setting ``sm2.SM2_BACKEND``):

* ``sm2_sign`` and ``sm2_verify`` of a 256-byte message (rs_base64, default user ID), one key
  pair (so Tongsuo's key cache is warm, as in production where a party signs with one key and
  verifies a handful of peers' keys);
* ``seal_request`` (bureau: SM4-CBC + SM3withSM2) and ``open_request`` (bank: parse, validate,
  verify, decrypt, parse the inner JSON) of one 8301 envelope of ``--rows`` daily-summary rows,
  keys from ``write_party_keys`` in a temporary directory, and the two together.

Each timing is one call measured with ``time.perf_counter``; a few warm-up calls are not counted;
the two backends take turns call by call, so load from other processes falls on both alike.
Prints a Markdown report (machine, versions, date, command, p50/p95 and the gmssl / Tongsuo
ratio); ``--write PATH`` also writes it there. Not a test: run by hand when crypto changes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import machine_facts
from yibaodai.clock import SHANGHAI
from yibaodai.protocol import sm2
from yibaodai.protocol.envelope import open_request, seal_request
from yibaodai.protocol.keys import load_keyring, write_party_keys
from yibaodai.sim.bulk import daily_rows

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
SENDER = "YBJ210200001"
INSTITUTION = "H21020200255"
WARMUP = 3


BACKENDS = ("tongsuo", "gmssl")


def use(name: str) -> None:
    sm2.SM2_BACKEND = name  # type: ignore[assignment]  # what the tests do
    assert sm2.sm2_backend_for() == name, name


def interleaved(fns: dict[str, Callable[[], Any]], n: int) -> dict[str, list[float]]:
    """Milliseconds per call for each backend, ``n`` calls each after ``WARMUP`` uncounted ones;
    the backends take turns call by call (order swapped every round) so that load from other
    processes on this shared machine falls on both alike."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(WARMUP + n):
        for name in (BACKENDS if i % 2 == 0 else BACKENDS[::-1]):
            use(name)
            t = time.perf_counter()
            fns[name]()
            dt = (time.perf_counter() - t) * 1000
            if i >= WARMUP:
                out[name].append(dt)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace, keys: Path) -> tuple[dict[str, dict[str, list[float]]], int]:
    results: dict[str, dict[str, list[float]]] = {name: {} for name in BACKENDS}

    def add(op: str, per_backend: dict[str, list[float]]) -> None:
        for name, values in per_backend.items():
            results[name][op] = values

    pair = sm2.generate_sm2_keypair()
    message = bytes(range(256))
    sigs = {}
    for name in BACKENDS:
        use(name)
        sigs[name] = sm2.sm2_sign(pair.private_key_hex, pair.public_key_hex, message)
        assert sm2.sm2_verify(pair.public_key_hex, message, sigs[name])

    def signer() -> Callable[[], Any]:
        return lambda: sm2.sm2_sign(pair.private_key_hex, pair.public_key_hex, message)

    def verifier(name: str) -> Callable[[], Any]:
        return lambda: sm2.sm2_verify(pair.public_key_hex, message, sigs[name])

    add("SM2 sign (256 B)", interleaved({n: signer() for n in BACKENDS}, args.sm2_n))
    add("SM2 verify (256 B)", interleaved({n: verifier(n) for n in BACKENDS}, args.sm2_n))

    bureau = load_keyring(keys, party="bureau")
    bank = load_keyring(keys, party="bank")
    data = {"data": daily_rows(INSTITUTION, args.rows, NOW.date() - timedelta(days=1))}
    seq = iter(range(1, 10**9))

    def seal() -> dict[str, Any]:
        return seal_request(infno="8301", input=data, sender_code=SENDER,
                            fixmedins_code=INSTITUTION, fixmedins_name="基准诊所",
                            area="210202", keyring=bureau,
                            peer_key_id=bureau.peer_key_ids["bank"], now=NOW,
                            seq=next(seq) % 10_000)

    def wire() -> bytes:
        return json.dumps(seal(), ensure_ascii=False, separators=(",", ":")).encode()

    bodies = {}
    for name in BACKENDS:
        use(name)
        bodies[name] = wire()
        assert len(open_request(bodies[name], keyring=bank).input["data"]) == args.rows

    def opener(name: str) -> Callable[[], Any]:
        return lambda: open_request(bodies[name], keyring=bank)

    rows = args.rows
    add(f"seal_request, {rows} rows", interleaved({n: seal for n in BACKENDS}, args.envelope_n))
    add(f"open_request, {rows} rows",
        interleaved({n: opener(n) for n in BACKENDS}, args.envelope_n))
    add(f"seal + open, {rows} rows",
        interleaved({n: lambda: open_request(wire(), keyring=bank) for n in BACKENDS},
                    args.envelope_n))
    return results, len(bodies["tongsuo"])


def machine() -> str:
    facts = machine_facts(packages=("tongsuopy", "gmssl", "cryptography", "pydantic"))
    return ", ".join(f"{k} {v}" for k, v in facts.items())


def report(results: dict[str, dict[str, list[float]]], body_bytes: int,
           args: argparse.Namespace, command: str) -> str:
    ts, gm = results["tongsuo"], results["gmssl"]
    lines = [
        "# Crypto benchmark (SM2 on Tongsuo vs. gmssl, and a whole 8301 envelope)",
        "",
        f"Date: {date.today().isoformat()}. Command:",
        "",
        "```",
        command,
        "```",
        "",
        f"Machine: {machine()}.",
        "",
        "What is measured (see the docstring of `bench/crypto_bench.py`): one call at a time with "
        "`time.perf_counter`, after 3 uncounted warm-up calls, the two backends taking turns "
        "call by call so that load from other processes falls on both alike. SM2 rows: "
        f"`sm2_sign` / `sm2_verify` of a 256-byte message, default user ID, rs_base64, "
        f"{args.sm2_n} calls per backend. Envelope rows: `seal_request` (bureau) and "
        "`open_request` (bank: parse, "
        f"validate, SM2 verify, SM4 decrypt, inner JSON) of one 8301 envelope of {args.rows} "
        f"rows ({body_bytes / 1e3:.0f} kB on the wire), {args.envelope_n} calls each; "
        "\"seal + open\" is both in one call, as one push costs bureau and bank together.",
        "",
        "| operation | Tongsuo p50 | Tongsuo p95 | gmssl p50 | gmssl p95 | gmssl / Tongsuo (p50) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for op in ts:
        t50, t95, g50, g95 = pct(ts[op], .5), pct(ts[op], .95), pct(gm[op], .5), pct(gm[op], .95)
        lines.append(f"| {op} | {t50:.2f} ms | {t95:.2f} ms | {g50:.2f} ms | {g95:.2f} ms "
                     f"| {g50 / t50:.1f}× |")
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--sm2-n", type=int, default=300, help="sm2_sign / sm2_verify calls")
    ap.add_argument("--envelope-n", type=int, default=40)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--write", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    if not sm2.TONGSUO_AVAILABLE:
        print(f"tongsuopy is unavailable: {sm2.TONGSUO_UNAVAILABLE_REASON}", file=sys.stderr)
        return 2
    command = ".venv/bin/python -m bench.crypto_bench " + " ".join(sys.argv[1:])
    default = sm2.SM2_BACKEND
    with tempfile.TemporaryDirectory(prefix="yb_crypto_bench_") as tmp:
        keys = Path(tmp)
        write_party_keys(keys, party="bureau", key_id="bureau-bench")
        write_party_keys(keys, party="bank", key_id="bank-bench")
        try:
            results, body_bytes = run(args, keys)
        finally:
            sm2.SM2_BACKEND = default
    text = report(results, body_bytes, args, command.strip())
    print(text)
    if args.write is not None:
        args.write.write_text(text, encoding="utf-8")
    summary = {name: {op: {"p50_ms": round(pct(v, .5), 3), "p95_ms": round(pct(v, .95), 3)}
                      for op, v in res.items()}
               for name, res in results.items()}
    print(json.dumps(summary, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
