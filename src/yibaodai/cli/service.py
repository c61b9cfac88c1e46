"""``yibaodai serve``, ``worker`` and ``jobs``: the bank as a service, on the system clock.

``serve`` runs the gateway, the JSON API and the report platform, with one embedded worker
thread (``--no-worker`` for deployments that run workers as their own processes); ``worker``
is a worker on its own. SIGTERM (or Ctrl+C) lets the send in progress finish, then stops.
Nothing here imports the demo or the simulators (an import contract checks it).
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from typing import Annotated, Any

import typer

from yibaodai.cli._app import app, configure_logging, emit
from yibaodai.errors import ConfigurationError
from yibaodai.settings import Settings, load_settings

jobs_app = typer.Typer(help="The worker's jobs: recent runs, next due times, run one now.",
                       no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` instead of killing the process. (uvicorn restores
    this handler after its own shutdown and raises the signal again, so it runs too.)"""
    def handler(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _checked_settings() -> Settings:
    """The environment's settings for a command that serves or works: an unsafe secret (the
    demo's, outside demo mode) stops it with a bilingual message and exit 2."""
    try:
        return load_settings().check()
    except ConfigurationError as exc:
        typer.echo(f"{exc.message_zh}\n{exc.message_en}", err=True)
        raise typer.Exit(2) from None


def _require_receivers(settings: Settings) -> None:
    """A worker needs somewhere to deliver: say which settings are missing, exit 2."""
    try:
        settings.require_receivers()
    except ConfigurationError as exc:
        typer.echo(f"{exc.message_zh}\n{exc.message_en}", err=True)
        raise typer.Exit(2) from None


def serve_bank(settings: Settings, *, host: str, port: int, worker: bool,
               frozen_at: str | None = None) -> None:
    """Serve the bank until stopped; with ``worker``, one worker thread runs beside it and is
    stopped (its current send finished) before this returns. ``frozen_at``: a simulated
    clock standing still at that time (the report platform after the demo)."""
    import uvicorn

    from yibaodai.clock import SimulatedClock, SystemClock
    from yibaodai.runtime import build_bank, build_worker, settle_heap

    if worker:
        _require_receivers(settings)
    clock = SimulatedClock(datetime.fromisoformat(frozen_at)) if frozen_at else SystemClock()
    bank = build_bank(settings, clock)
    embedded = build_worker(bank) if worker else None
    thread = None
    if embedded is not None:
        _stop_on_signals(embedded.stop)
        thread = threading.Thread(target=embedded.run_forever, name="worker",
                                  kwargs={"poll": settings.dispatch_interval_seconds})
        thread.start()
    settle_heap()
    typer.echo(f"报表平台 report platform: http://{host}:{port}  (Ctrl+C to stop)", err=True)
    try:
        uvicorn.run(bank.app, host=host, port=port, log_level="warning")
    finally:
        if embedded is not None and thread is not None:
            embedded.stop.set()
            thread.join()
            embedded.close()
        bank.db.dispose()


@app.command()
def serve(
    port: int = 8000, host: str = "127.0.0.1",
    worker: Annotated[bool, typer.Option("--worker/--no-worker",
                                         help="Run one worker thread beside the server.")
                      ] = True,
) -> None:
    """Serve the bank: gateway endpoints, JSON API, report platform, and one worker. Refuses
    the demo secret unless demo mode is switched on (YIBAODAI_DEMO_MODE=1)."""
    configure_logging(quiet=False)
    serve_bank(_checked_settings(), host=host, port=port, worker=worker)


@app.command("worker")
def worker_command() -> None:
    """Run a worker on its own: outbox delivery and the scheduled jobs, until SIGTERM."""
    from yibaodai.clock import SystemClock
    from yibaodai.runtime import build_bank, build_worker

    configure_logging(quiet=False)
    settings = _checked_settings()
    _require_receivers(settings)
    bank = build_bank(settings, SystemClock())
    worker = build_worker(bank)
    _stop_on_signals(worker.stop)
    try:
        worker.run_forever(poll=settings.dispatch_interval_seconds)
    finally:
        worker.close()
        bank.db.dispose()


def _worker_for_commands() -> Any:
    from yibaodai.clock import SystemClock
    from yibaodai.runtime import build_bank, build_worker

    return build_worker(build_bank(load_settings(), SystemClock()))


@jobs_app.command("list")
def jobs_list(as_json: Annotated[bool, typer.Option("--json")] = False,
              recent: Annotated[int, typer.Option(min=0, max=100)] = 5) -> None:
    """Each job: its schedule, when it is due next and its recent runs."""
    worker = _worker_for_commands()
    try:
        status = worker.status(recent=recent)
    finally:
        worker.close()
    if as_json:
        emit(status)
        return
    for job in status:
        last = job["recent_runs"][0] if job["recent_runs"] else None
        ran = f"{last['outcome']} at {last['started_at']} {last['counts']}" if last else "never"
        typer.echo(f"{job['job']:<20} {job['schedule']:<32} next {job['next_due'] or '-'}  "
                   f"last {ran}")


@jobs_app.command("run")
def jobs_run(name: str) -> None:
    """Run job NAME now, whether due or not (under its lease); exit 1 if it fails."""
    worker = _worker_for_commands()
    try:
        outcome = worker.run_job(name)
    finally:
        worker.close()
    emit({"job": outcome.job, "started_at": outcome.started_at.isoformat(),
          "outcome": outcome.outcome, "counts": outcome.counts, "error": outcome.error})
    if outcome.outcome != "ok":
        raise typer.Exit(1)
