"""``yibaodai demo`` and ``simulate``: the end-to-end demo and the synthetic city."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from yibaodai.cli._app import app, configure_logging, emit
from yibaodai.cli.service import serve_bank
from yibaodai.cli.users import write_demo_accounts
from yibaodai.settings import load_settings


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Makes the whole demo deterministic.")] = 7,
    institutions: Annotated[int, typer.Option(min=20, max=5000)] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary.")] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve",
                                        help="Serve the report platform afterwards.")] = True,
    fresh: Annotated[bool, typer.Option(help="Delete the SQLite demo database first.")] = True,
    port: int = 8000,
) -> None:
    """Run the end-to-end demo on real HTTP, then serve the report platform (demo mode: the
    demo secret is allowed for this run and its server only)."""
    from yibaodai.demo import maybe_progress, run_demo

    settings = load_settings().model_copy(update={"demo_mode": True})
    configure_logging(quiet=True)
    if fresh and settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(settings.keys_dir, ignore_errors=True)
    with maybe_progress(not as_json and sys.stderr.isatty()) as progress:
        def report(line: str) -> None:
            """Each stage with its elapsed time, on stderr (stdout keeps the summary), also
            when stderr is a log file and not a terminal."""
            if progress is not None:
                progress.console.print(line, highlight=False)
            else:
                typer.echo(line, err=True)

        summary = run_demo(settings, seed=seed, institutions=institutions, progress=progress,
                           report=report)
    write_demo_accounts(settings, summary["accounts"])
    if as_json:
        emit(summary)
    else:
        _print_summary(summary)
    if serve:  # the platform on the demo's data, the clock frozen where the demo ended
        serve_bank(settings, host="127.0.0.1", port=port, worker=False,
                   frozen_at=summary["simulated_until"])


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="医保贷演示结果 Demo summary")
    table.add_column("stage")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        if not isinstance(value, (dict, list)):  # accounts and the funnel have their own
            table.add_row(key, str(value))
    console.print(table)
    funnel = summary.get("campaign_funnel")
    if isinstance(funnel, dict):
        steps = Table(title=f"营销漏斗 Campaign funnel: {funnel.get('name', '')}")
        for col in ("stage", "count", "万元"):
            steps.add_column(col, justify="left" if col == "stage" else "right")
        for stage, step in funnel.get("stages", {}).items():
            steps.add_row(stage, str(step.get("count")), step.get("amount_wan") or "-")
        console.print(steps)
    accounts = Table(title="演示账号 Demo log-ins")
    for col in ("username", "password", "role", "sub_branch"):
        accounts.add_column(col)
    for a in summary["accounts"][:9]:
        accounts.add_row(a["username"], a["password"], a["role"], a["sub_branch"] or "-")
    console.print(accounts)
    console.print(f"(另有 {len(summary['accounts']) - 9} 个账号：yibaodai users list "
                  f"/ {len(summary['accounts']) - 9} more: yibaodai users list)")


@app.command()
def simulate(
    seed: int = 7, institutions: int = 300,
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")] = "2026-08-31",
    output: Annotated[Path | None, typer.Option(help="Write JSON here instead of stdout.")] = None,
) -> None:
    """Generate the synthetic city (institutions only) as JSON."""
    from dataclasses import asdict

    from yibaodai.sim.city import generate_city

    city = [asdict(i) for i in generate_city(seed=seed, institutions=institutions,
                                            as_of=date.fromisoformat(as_of))]
    text = json.dumps(city, ensure_ascii=False, indent=2, default=str)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{len(city)} institutions -> {output}")
    else:
        typer.echo(text)
