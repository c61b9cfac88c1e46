"""``yibaodai ews``: the post-loan early-warning system measured — the change-point benchmark
on real labelled series, and the warning rules evaluated on the simulator's labelled
portfolio (docs/ews.md, docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from yibaodai.cli._app import app, emit, exit_on_refusal

ews_app = typer.Typer(help="Post-loan early warning: benchmark and evaluation.",
                      no_args_is_help=True)
app.add_typer(ews_app, name="ews")

AsJson = Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")]


@ews_app.command("benchmark")
def benchmark(
    tcpd: Annotated[Path, typer.Option(help="Directory laid out like TCPD (series/*.json, "
                                            "annotations.json).")] = Path("bench/data/tcpd"),
    as_json: AsJson = False,
) -> None:
    """F1 (margin 5) and segmentation covering of the change-point detector on every series,
    beside the no-change and ruptures-Binseg baselines computed in the same run."""
    from yibaodai.monitoring.benchmark import run_benchmark

    report = exit_on_refusal(lambda: run_benchmark(tcpd))
    if as_json:
        emit(report)
        return
    typer.echo(f"detector {report['detector']}: F1 {report['mean']['f1']:.3f} "
               f"cover {report['mean']['cover']:.3f}")
    for name, base in report["baselines"].items():
        typer.echo(f"baseline {name}: F1 {base['f1']:.3f} cover {base['cover']:.3f}")


@ews_app.command("evaluate")
def evaluate(
    seed: Annotated[int, typer.Option(help="Seed of the simulated city.")] = 7,
    institutions: Annotated[int, typer.Option(min=10, max=20_000,
                                              help="Institutions in the simulated city.")] = 300,
    as_of: Annotated[str, typer.Option(help="The city's day (YYYY-MM-DD).")] = "2026-08-31",
    as_json: AsJson = False,
) -> None:
    """The warning rules month by month over the simulator's labelled portfolio: recall two
    months ahead of default, false warnings per 100 borrowers per month, lead times."""
    from datetime import date

    from yibaodai.sim.portfolio import evaluate_portfolio

    report = evaluate_portfolio(seed=seed, institutions=institutions,
                                as_of=date.fromisoformat(as_of))
    if as_json:
        emit(report)
        return
    typer.echo(f"recall_2m {report['recall_2m']}  false_per_100_month "
               f"{report['false_per_100_month']}  lead time median "
               f"{report['lead_time_months']['median']} months "
               f"({report['defaulters']} defaulters of {report['borrowers']} borrowers)")
