"""``yibaodai decision``: admission decisions, listed and replayed."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from yibaodai.bootstrap import open_database
from yibaodai.cli._app import app, emit
from yibaodai.settings import load_settings

decision_app = typer.Typer(help="Admission decisions.", no_args_is_help=True)
app.add_typer(decision_app, name="decision")


@decision_app.command("list")
def decision_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List decisions: id, institution, time, result, limit, score, model version."""
    from yibaodai.db.models import DecisionRow, ModelVersionRow

    db = open_database(load_settings())
    with db.unit_of_work() as s:
        labels: dict[int | None, str] = {vid: label for vid, label in s.execute(
            select(ModelVersionRow.id, ModelVersionRow.label))}
        rows = [{"id": d.id, "fixmedins_code": d.fixmedins_code,
                 "decided_at": d.decided_at.isoformat(), "result": d.result,
                 "credit_limit": str(d.credit_limit), "score": d.score,
                 "model_version": labels.get(d.model_version_id, d.rule_version),
                 "model_version_id": d.model_version_id, "trigger": d.trigger}
                for d in s.scalars(select(DecisionRow).order_by(DecisionRow.id))]
    db.dispose()
    if as_json:
        emit(rows)
    else:
        for r in rows:
            typer.echo("\t".join(str(v) for v in r.values()))


@decision_app.command("replay")
def decision_replay(decision_id: int) -> None:
    """Recompute a decision from its stored inputs and model version; exit 1 on any
    difference, naming each."""
    from yibaodai.admission.service import replay
    from yibaodai.db.models import DecisionRow

    db = open_database(load_settings())
    with db.unit_of_work() as s:
        decision = s.get(DecisionRow, decision_id)
        if decision is None:
            typer.echo(f"no decision {decision_id}", err=True)
            raise typer.Exit(2)
        same, diffs = replay(s, decision)
    db.dispose()
    if not same:
        typer.echo(f"decision {decision_id}: DIFFERS", err=True)
        for d in diffs:
            typer.echo(f"  {d}", err=True)
        raise typer.Exit(1)
    typer.echo(f"decision {decision_id}: identical")
