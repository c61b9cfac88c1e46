"""``yibaodai model`` workbench commands: sample, build, validate, export, backtest, monitor,
benchmark (docs/modelkit.md). Reports are JSON (``--out``, or ``--json`` on stdout) and Excel
(``--excel``); progress goes to stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from yibaodai.cli._app import emit
from yibaodai.cli.model import User, database, model_app, refuse, signed_in
from yibaodai.errors import YibaodaiError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from yibaodai.domain.admission import Policy
    from yibaodai.modelkit.build import BuildReport, Progress
    from yibaodai.modelkit.samples import Observation

AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
Excel = Annotated[Path | None, typer.Option(help="Also write the report as an Excel file.")]
Out = Annotated[Path | None, typer.Option(help="Write the JSON report to this file.")]
SampleFile = Annotated[Path | None, typer.Option(
    "--sample", help="Observations CSV written by `model sample`.")]
Simulated = Annotated[bool, typer.Option(
    "--simulated", help="Generate the development sample from the simulated city now.")]
Seed = Annotated[int, typer.Option(help="Seed of the simulated city.")]
Institutions = Annotated[int, typer.Option(help="Institutions in the simulated city.")]
AsOf = Annotated[str, typer.Option(help="Last day of the simulated history (YYYY-MM-DD).")]
Snapshots = Annotated[int, typer.Option(help="Monthly observation dates.")]
Base = Annotated[int | None, typer.Option(
    "--base", help="Version whose policy (knock-outs) defines the population; default: "
                   "the active version.")]


@contextmanager
def _progress() -> Iterator[Progress]:
    from rich.console import Console
    from rich.progress import Progress as Bar

    with Bar(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=1)

        def step(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=max(total, 1))

        yield step


def _report(report: dict[str, Any], *, out: Path | None, excel: Path | None, as_json: bool,
            sheets: Any, summary: str) -> None:
    from yibaodai.modelkit.excel import write_workbook

    if out is not None:
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str),
                       encoding="utf-8")
    if excel is not None:
        write_workbook(excel, sheets(report))
    if as_json:
        emit(report)
    else:
        typer.echo(summary)


def _policy(session: Session, base: int | None) -> Policy:
    from yibaodai.admission.versions import active_version, load_version
    from yibaodai.clock import SystemClock

    version = load_version(session, base) if base is not None else \
        active_version(session, SystemClock().now())
    return version.model.policy


def _observations(sample: Path | None, simulated: bool, seed: int, institutions: int,
                  as_of: str, snapshots: int) -> list[Observation]:
    from yibaodai.modelkit import samples
    from yibaodai.modelkit.simulated import simulated_history

    if sample is not None:
        return samples.read_csv(sample)
    if not simulated:
        typer.echo("give --sample FILE or --simulated", err=True)
        raise typer.Exit(2)
    with _progress() as step:
        labelled, recent = simulated_history(seed=seed, institutions=institutions,
                                             as_of=date.fromisoformat(as_of),
                                             snapshots=snapshots, progress=step)
    return labelled + recent


def _load_build(path: Path) -> BuildReport:
    from pydantic import ValidationError

    from yibaodai.errors import FieldError, ValidationFailed
    from yibaodai.modelkit.build import BuildReport

    try:
        return BuildReport.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        fields = [FieldError(".".join(str(p) for p in e["loc"]), e["msg"], e["msg"])
                  for e in exc.errors()[:10]] if isinstance(exc, ValidationError) else []
        refuse(ValidationFailed("构建结果文件无效", f"not a build report: {path}",
                                code="invalid_build", fields=fields))


@model_app.command("sample")
def model_sample(
    out: Annotated[Path, typer.Option(help="Observations CSV to write.")],
    from_db: Annotated[bool, typer.Option(
        "--from-db", help="Decisions joined with loan outcomes instead of the simulation.")]
    = False,
    seed: Seed = 2026, institutions: Institutions = 400, as_of: AsOf = "2026-06-30",
    snapshots: Snapshots = 6, as_json: AsJson = False,
) -> None:
    """Write a labelled development sample: the simulated city's history (default), or the
    bank's own decisions with their loans' outcomes (--from-db)."""
    from yibaodai.clock import SystemClock
    from yibaodai.modelkit import samples

    if from_db:
        with database() as s:
            rows = samples.database_sample(s, now=SystemClock().now())
    else:
        rows = _observations(None, True, seed, institutions, as_of, snapshots)
    samples.write_csv(out, rows)
    labelled = [o for o in rows if o.bad is not None]
    summary = {"rows": len(rows), "labelled": len(labelled),
               "bads": sum(o.bad or 0 for o in labelled), "file": str(out)}
    if as_json:
        emit(summary)
    else:
        typer.echo(f"{out}: {summary['rows']} observations, {summary['labelled']} labelled, "
                   f"{summary['bads']} bad")


@model_app.command("build")
def model_build(
    out: Annotated[Path, typer.Option(help="Build report (JSON) to write.")],
    sample: SampleFile = None, simulated: Simulated = False,
    csv: Annotated[Path | None, typer.Option(help="Any labelled CSV instead of a sample.")]
    = None,
    target: Annotated[str, typer.Option(help="Outcome column of --csv.")] = "bad",
    date_col: Annotated[str | None, typer.Option(help="Date column of --csv.")] = None,
    segment_col: Annotated[str | None, typer.Option(help="Segment column of --csv.")] = None,
    base: Base = None, seed: Seed = 2026, institutions: Institutions = 400,
    as_of: AsOf = "2026-06-30", snapshots: Snapshots = 6,
    pdo: float = 20.0, base_score: float = 600.0, base_odds: float = 50.0,
    min_iv: float = 0.02, approval_rate: float = 0.85, split_seed: int = 42,
    excel: Excel = None, as_json: AsJson = False,
) -> None:
    """Build scorecards (pooled + segment models) from a labelled table."""
    from yibaodai.modelkit import build as b
    from yibaodai.modelkit import samples, table

    params = b.BuildParams(pdo=pdo, base_score=base_score, base_odds=base_odds, min_iv=min_iv,
                           approval_rate=approval_rate, seed=split_seed)
    recent = None
    try:
        if csv is not None:
            labelled = table.read_csv(csv, target=target, date_column=date_col,
                                      segment_column=segment_col)
            source = str(csv)
        else:
            rows = _observations(sample, simulated, seed, institutions, as_of, snapshots)
            with database() as s:
                policy = _policy(s, base)
            labelled = samples.observation_table(rows, policy=policy)
            recent = samples.recent_population(rows, policy=policy)
            source = str(sample) if sample else f"simulated city seed {seed}"
        with _progress() as step:
            report = b.build(labelled, params=params, source=source, recent=recent,
                             progress=step)
    except YibaodaiError as exc:
        refuse(exc)
    data = report.model_dump(mode="json")
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [f"{out}: {', '.join(f'{k}={v}' for k, v in report.rows.items())}"]
    lines += [f"  {key}: test AUC {m.metrics.get('test', m.metrics['train'])['auc']}"
              for key, m in report.models.items()]
    _report(data, out=None, excel=excel, as_json=as_json, sheets=b.sheets,
            summary="\n".join(lines + report.notes))


@model_app.command("validate")
def model_validate(
    build_file: Annotated[Path, typer.Option("--build", help="Build report (JSON).")],
    sample: SampleFile = None,
    recent_db: Annotated[bool, typer.Option(
        "--recent-db", help="Recent population: the decisions of the last --months.")] = False,
    months: int = 3, base: Base = None, out: Out = None, excel: Excel = None,
    as_json: AsJson = False,
) -> None:
    """Validation report: discrimination, calibration, cut-offs, PSI/CSI."""
    from yibaodai.clock import SystemClock
    from yibaodai.modelkit import samples, validation

    build = _load_build(build_file)
    labelled = recent = None
    try:
        with database() as s:
            policy = _policy(s, base)
            if sample is not None:
                rows = samples.read_csv(sample)
                labelled = samples.observation_table(rows, policy=policy)
                recent = samples.recent_population(rows, policy=policy)
            if recent_db:
                now = SystemClock().now()
                live = samples.decisions_between(s, start=samples.months_back(now, months),
                                                 end=now)
                recent = samples.population([i for _, i in live], policy=policy)
        report = validation.validate(build, sample=labelled, recent=recent,
                                     subject=str(build_file))
    except YibaodaiError as exc:
        refuse(exc)
    views = ", ".join(f"{v['segment']} AUC {v['sample']['auc'] if v['sample'] else '-'}"
                      for v in report["segments"])
    _report(report, out=out, excel=excel, as_json=as_json, sheets=validation.sheets,
            summary=f"validation of {build_file}: {views}; cautions: {len(report['cautions'])}")


@model_app.command("export")
def model_export(
    build_file: Annotated[Path, typer.Option("--build", help="Build report (JSON).")],
    user: User,
    validation_file: Annotated[Path | None, typer.Option(
        "--validation", help="Validation report (JSON) to attach.")] = None,
    base: Annotated[int | None, typer.Option(
        "--base", help="Version to copy policy and limit rule from; default: active.")] = None,
    label: Annotated[str | None, typer.Option(help="New version label.")] = None,
    cutoff: Annotated[int | None, typer.Option(help="Cut-off for every segment.")] = None,
    changes: Annotated[Path | None, typer.Option(
        help="JSON file with policy / limit changes.")] = None,
    submit: Annotated[bool, typer.Option(help="Submit the new draft too.")] = False,
) -> None:
    """Export a build as a new model version (draft, or submitted with --submit), its reports
    attached (signed in)."""
    from yibaodai.modelkit.export import export_version

    build = _load_build(build_file)
    validation = json.loads(validation_file.read_text(encoding="utf-8")) \
        if validation_file else None
    patch = json.loads(changes.read_text(encoding="utf-8")) if changes else None
    vid = signed_in(user, lambda s, now: export_version(
        s, build=build, username=user, now=now, base_id=base, label=label, cutoff=cutoff,
        changes=patch, validation=validation, submit=submit))
    typer.echo(f"model version {vid}: {'submitted' if submit else 'draft'}")


@model_app.command("backtest")
def model_backtest(
    sample: SampleFile = None, simulated: Simulated = False,
    champion: Annotated[int | None, typer.Option(help="Version id; default: active.")] = None,
    challenger: Annotated[int | None, typer.Option(
        help="Version id; default: the challenger, if any.")] = None,
    build_file: Annotated[Path | None, typer.Option(
        "--build", help="A build to try as the challenger (as `export` would make it).")]
    = None,
    seed: Seed = 2026, institutions: Institutions = 400, as_of: AsOf = "2026-06-30",
    snapshots: Snapshots = 6, out: Out = None, excel: Excel = None, as_json: AsJson = False,
) -> None:
    """Champion and challenger decided on the same history: approvals, limits, bad rates."""
    from yibaodai.admission.versions import active_version, load_version, version_in_stage
    from yibaodai.clock import SystemClock
    from yibaodai.domain.admission import model_from_json
    from yibaodai.domain.model_version import Stage
    from yibaodai.modelkit import backtest
    from yibaodai.modelkit.export import scorecard_changes

    rows = [o for o in _observations(sample, simulated, seed, institutions, as_of, snapshots)
            if o.bad is not None]
    try:
        with database() as s:
            first = load_version(s, champion) if champion is not None else \
                active_version(s, SystemClock().now())
            models = {"champion": first.model}
            if build_file is not None:
                content = first.model.to_json() | scorecard_changes(
                    _load_build(build_file), served=first.model.policy.served_segments)
                content["version"] = "candidate"
                models["challenger"] = model_from_json(content)
            else:
                second = load_version(s, challenger) if challenger is not None else \
                    version_in_stage(s, Stage.CHALLENGER)
                if second is not None:
                    models["challenger"] = second.model
        report = backtest.backtest(rows, models)
    except YibaodaiError as exc:
        refuse(exc)
    lines = [f"{v['name']} {v['label']}: approval {v['all']['approval_rate']}, bad rate "
             f"admitted {v['all']['bad_rate_admitted']} / refused {v['all']['bad_rate_refused']}"
             for v in report["versions"]]
    _report(report, out=out, excel=excel, as_json=as_json, sheets=backtest.sheets,
            summary="\n".join(lines))


@model_app.command("monitor")
def model_monitor(
    version: Annotated[int | None, typer.Option(help="Version id; default: active.")] = None,
    months: int = 6,
    sample: Annotated[Path | None, typer.Option(
        "--sample", help="Development sample, for a version without a build report.")]
    = None,
    out: Out = None, excel: Excel = None, as_json: AsJson = False,
) -> None:
    """Monthly PSI of the score and CSI of each characteristic of the live population."""
    from yibaodai.clock import SystemClock
    from yibaodai.modelkit import monitoring, samples

    dev = [o.inputs for o in samples.read_csv(sample) if o.bad is not None] if sample else None
    with database() as s:
        report = monitoring.monthly_stability(s, now=SystemClock().now(), months=months,
                                              version_id=version, sample=dev)
    lines = [f"{m['month']}: " + ", ".join(
        f"{g['segment']} {g['rows']} rows PSI "
        f"{g['stability']['score']['value'] if g['stability'] else '-'}"
        for g in m["segments"]) for m in report["months"]]
    _report(report, out=out, excel=excel, as_json=as_json, sheets=monitoring.sheets,
            summary="\n".join(lines) or "no decisions in the window")


@model_app.command("benchmark")
def model_benchmark(
    csv: Annotated[Path, typer.Option(help="Any labelled CSV.")],
    target: Annotated[str, typer.Option(help="Outcome column.")],
    seed: int = 42, as_json: AsJson = False,
) -> None:
    """Ours (binning -> selection -> LR -> points) against optbinning's BinningProcess + LR
    on the same seeded stratified 70/30 split; AUC and KS on the 30%."""
    from yibaodai.modelkit.benchmark import benchmark

    try:
        result = benchmark(csv, target=target, seed=seed)
    except YibaodaiError as exc:
        refuse(exc)
    if as_json:
        emit(result)
    else:
        typer.echo(f"ours AUC {result['ours']['auc']:.4f} KS {result['ours']['ks']:.4f}; "
                   f"optbinning AUC {result['optbinning']['auc']:.4f} KS "
                   f"{result['optbinning']['ks']:.4f}; {result['rows']} rows, "
                   f"{result['seconds']} s")
