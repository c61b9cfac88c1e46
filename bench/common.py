"""What the benchmarks share: machine facts for the reports, a scratch PostgreSQL database, and
the bank served in a process of its own, as in production.

Run the benchmarks from the repository root as modules (``.venv/bin/python -m bench.<name>``).

The bank server (``BankServer``) is started with this module as its entry point
(``python -m bench.common serve ...``): ``build_bank`` and ``uvicorn.run`` exactly as
``yibaodai serve`` does, but with the clock frozen at a given time, so that a benchmark's
dates stay fixed, and optionally with the admission step switched off (the ingest-only
baseline of ``bench.decision_latency``). The server has its own interpreter and GIL; client
and server no longer share one Python process.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pg_url_from_env() -> str:
    return os.environ.get("YIBAODAI_BENCH_POSTGRES_URL",
                          os.environ.get("YIBAODAI_TEST_POSTGRES_URL", DEFAULT_PG_URL))


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine_facts(pg_url: str | None = None,
                  packages: tuple[str, ...] = ()) -> dict[str, str]:
    """CPU, cores, RAM, OS, Python, PostgreSQL (when ``pg_url``) and package versions."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(ValueError, OSError):
        ram = f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GiB"
    facts = {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram, "os": platform.platform(),
             "python": platform.python_version()}
    with contextlib.suppress(OSError):
        facts["load average at start"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if pg_url is not None:
        from sqlalchemy import create_engine, text

        engine = create_engine(pg_url)
        with engine.connect() as c:
            facts["postgresql"] = str(c.execute(text("select version()")).scalar()).split(
                " on ")[0]
        engine.dispose()
    for package in packages:
        facts[package] = _version(package)
    return facts


@contextlib.contextmanager
def scratch_database(pg_url: str) -> Iterator[str]:
    """A fresh database ``yb_bench_<random>`` on the server of ``pg_url``, dropped at the end
    (also on failure). Yields its SQLAlchemy URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"yb_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(pg_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BankServer:
    """The bank app in its own process (``python -m bench.common serve``), on a free port."""

    def __init__(self, *, database_url: str, var_dir: Path, frozen_at: datetime,
                 decisions: bool = True, log_path: Path | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._args = [sys.executable, "-m", "bench.common", "serve",
                      "--database-url", database_url, "--var-dir", str(var_dir),
                      "--frozen-at", frozen_at.isoformat(), "--port", str(self.port)]
        if not decisions:
            self._args.append("--no-decisions")
        self._log_path = log_path or var_dir / f"server-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BankServer:
        import httpx

        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self._log_path.open("wb")
        self._proc = subprocess.Popen(self._args, cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"bank server exited; see {self._log_path}:\n"
                                   + self._log_path.read_text(errors="replace")[-3000:])
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                self.__exit__()  # never leave the process behind
                raise RuntimeError(f"bank server did not answer in 60 s; see {self._log_path}")
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def _serve(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.common serve")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--var-dir", type=Path, required=True)
    ap.add_argument("--frozen-at", required=True, help="ISO time the clock stays at")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--no-decisions", action="store_true",
                    help="switch the admission step off (ingest-only baseline)")
    args = ap.parse_args(argv)

    import uvicorn

    from yibaodai.bootstrap import open_database
    from yibaodai.cli import configure_logging
    from yibaodai.clock import SimulatedClock
    from yibaodai.runtime import build_bank, settle_heap
    from yibaodai.settings import Settings

    configure_logging(quiet=False)  # as ``yibaodai serve``: JSON lines at INFO on stderr
    if args.no_decisions:
        from yibaodai.admission import handlers

        def never(*_a: Any, **_k: Any) -> bool:
            return False

        handlers.should_decide = never  # type: ignore[attr-defined]
    settings = Settings(database_url=args.database_url, var_dir=args.var_dir, demo_mode=True)
    clock = SimulatedClock(datetime.fromisoformat(args.frozen_at))
    bank = build_bank(settings, clock, open_database(settings))
    settle_heap()  # as ``yibaodai serve``
    uvicorn.run(bank.app, host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        raise SystemExit("usage: python -m bench.common serve --database-url URL ...")
    _serve(sys.argv[2:])
