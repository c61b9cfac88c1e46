"""``yibaodai model``: whitelist model versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from yibaodai.bootstrap import open_database
from yibaodai.cli._app import app, emit
from yibaodai.settings import load_settings

model_app = typer.Typer(help="Whitelist model versions: draft, submit, approve, activate, "
                             "challenger.", no_args_is_help=True)
app.add_typer(model_app, name="model")


def _model_action(version_id: int, action: str, user: str) -> None:
    from yibaodai.admission.versions import move
    from yibaodai.clock import SystemClock
    from yibaodai.domain.model_version import Action
    from yibaodai.errors import YibaodaiError

    db = open_database(load_settings())
    try:
        with db.unit_of_work() as s:
            stage = move(s, version_id=version_id, action=Action(action), username=user,
                         now=SystemClock().now())
            s.commit()
    except YibaodaiError as exc:
        typer.echo(f"refused ({exc.code}): {exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    typer.echo(f"model version {version_id}: {stage.value}")


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Versions with their stage (derived from the event log) and content hash."""
    from yibaodai.admission.versions import describe

    db = open_database(load_settings())
    with db.unit_of_work() as s:
        rows = describe(s)
    db.dispose()
    if as_json:
        emit(rows)
    else:
        for r in rows:
            typer.echo(f"{r['id']}\t{r['label']}\t{r['stage']}\t{r['content_hash'][:12]}")


@model_app.command("show")
def model_show(version_id: int) -> None:
    """A version's content (policy, scorecards, limit rule) and its history, as JSON."""
    from yibaodai.admission.versions import describe, history, load_version
    from yibaodai.errors import YibaodaiError

    db = open_database(load_settings())
    try:
        with db.unit_of_work() as s:
            loaded = load_version(s, version_id)
            meta = next(r for r in describe(s) if r["id"] == version_id)
            data = {**meta, "content": loaded.model.to_json(),
                    "history": history(s, version_id)}
    except YibaodaiError as exc:
        typer.echo(f"{exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    emit(data)


@model_app.command("create-draft")
def model_create_draft(
    from_id: Annotated[int, typer.Option("--from", help="Version to copy.")],
    user: Annotated[str, typer.Option(help="Staff username of the author.")],
    label: Annotated[str | None, typer.Option(help="New version label.")] = None,
    changes: Annotated[Path | None, typer.Option(
        help="JSON file with a partial content to merge over the copy.")] = None,
) -> None:
    """A new draft copied from --from, optionally changed by a JSON file."""
    from yibaodai.admission.versions import create_draft
    from yibaodai.clock import SystemClock
    from yibaodai.errors import YibaodaiError

    patch = json.loads(changes.read_text(encoding="utf-8")) if changes else None
    db = open_database(load_settings())
    try:
        with db.unit_of_work() as s:
            vid = create_draft(s, from_id=from_id, username=user, now=SystemClock().now(),
                               label=label, changes=patch)
            s.commit()
    except YibaodaiError as exc:
        typer.echo(f"refused ({exc.code}): {exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    typer.echo(f"model version {vid}: draft")


@model_app.command("submit")
def model_submit(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """draft -> submitted (the maker)."""
    _model_action(version_id, "submit", user)


@model_app.command("approve")
def model_approve(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """submitted -> approved, by a manager who is not the submitter (the checker)."""
    _model_action(version_id, "approve", user)


@model_app.command("activate")
def model_activate(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """approved/challenger -> active; the previous active version is retired."""
    _model_action(version_id, "activate", user)


@model_app.command("set-challenger")
def model_set_challenger(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """approved -> challenger: runs in shadow on every decision, never affecting results."""
    _model_action(version_id, "set_challenger", user)


@model_app.command("shadow")
def model_shadow(limit: int = 50) -> None:
    """Active and challenger decisions side by side, as JSON."""
    from yibaodai.admission.service import shadow_report

    db = open_database(load_settings())
    with db.unit_of_work() as s:
        rows = shadow_report(s, limit=limit)
    db.dispose()
    emit(rows)
