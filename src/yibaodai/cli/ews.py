"""``yibaodai ews``: the post-loan early-warning system measured — the change-point benchmark
on real labelled series, and the warning rules evaluated on the simulator's labelled
portfolio (docs/ews.md, docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    holdout: Annotated[bool, typer.Option(
        "--holdout", help="Also leave one series out at a time, choose the configuration "
                          "on the others and score it on the one left out.")] = False,
    as_json: AsJson = False,
) -> None:
    """F1 (margin 5) and segmentation covering of the change-point detector on every series,
    beside the no-change and ruptures-Binseg baselines computed in the same run; with
    ``--holdout`` also the held-out figure of choosing its configuration (docs/ews.md)."""
    from yibaodai.monitoring.benchmark import run_benchmark

    report = exit_on_refusal(lambda: run_benchmark(tcpd))
    if holdout:
        report["holdout"] = exit_on_refusal(lambda: _holdout(tcpd))
    if as_json:
        emit(report)
        return
    typer.echo(f"detector {report['detector']}: F1 {report['mean']['f1']:.3f} "
               f"cover {report['mean']['cover']:.3f}")
    for name, base in report["baselines"].items():
        typer.echo(f"baseline {name}: F1 {base['f1']:.3f} cover {base['cover']:.3f}")
    if holdout:
        held = report["holdout"]["held_out"]
        typer.echo(f"held out (leave one series out): F1 {held['f1']:.3f} "
                   f"cover {held['cover']:.3f}")


def _holdout(tcpd: Path) -> dict[str, Any]:
    from yibaodai.domain.ews.changepoint_holdout import Labelled, leave_one_out
    from yibaodai.errors import FieldError, ValidationFailed
    from yibaodai.monitoring.benchmark import load_tcpd

    data = load_tcpd(tcpd)
    if len(data) < 2:
        raise ValidationFailed("留一验证至少需要两条序列", "leave-one-out needs at least two "
                               "series", code="tcpd_too_few",
                               fields=[FieldError("tcpd", "序列不足两条", "fewer than two series")])
    return leave_one_out([Labelled(s.name, s.values, s.annotations) for s in data])


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
