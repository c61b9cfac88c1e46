"""``yibaodai backup FILE`` and ``yibaodai restore FILE``: the whole database in one signed,
portable file (``ops.backup``), with a progress bar per table on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from yibaodai.cli._app import app, emit, exit_on_refusal
from yibaodai.settings import load_settings


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(TextColumn(f"{label} {{task.description}}"), BarColumn(),
                  MofNCompleteColumn(), console=console, transient=True,
                  disable=not sys.stderr.isatty()) as bar:
        tasks: dict[str, Any] = {}

        def update(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total)
            bar.update(tasks[table], completed=done)

        yield update


@app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (a .zip).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest.")] = False,
) -> None:
    """Write every table to FILE with a manifest of counts, part SM3s and chain heads, signed
    with the bank's SM2 key."""
    from yibaodai.audit.keys import signing_keys
    from yibaodai.bootstrap import open_database
    from yibaodai.clock import SystemClock
    from yibaodai.ops.backup import backup

    def go() -> dict[str, Any]:
        settings = load_settings()
        db = open_database(settings)
        try:
            with _progress("backup") as progress:
                return backup(db, file, signing=signing_keys(settings.keys_dir),
                              now=SystemClock().now(), progress=progress)
        finally:
            db.dispose()

    manifest = exit_on_refusal(go)
    if as_json:
        emit(manifest)
        return
    rows = sum(p["rows"] for p in manifest["tables"])
    heads = ", ".join(f"{k} {v['records']} ({v['head'][:12]})"
                      for k, v in manifest["chains"].items())
    typer.echo(f"backup written to {file}: {rows} rows in {len(manifest['tables'])} tables; "
               f"chains {heads}; signed with {manifest['key_id']}")


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup written by `yibaodai backup`.",
                                         exists=True, dir_okay=False)],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the target's data: delete every row of every table (the "
                        "append-only triggers lifted inside the same transaction) before "
                        "loading. Without it a target holding any row is refused.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Load FILE into the configured database after checking its signature; verify every
    part's SM3, the row counts, the chains and their checkpoints, and the chain heads against
    the manifest; all in one transaction (any failure changes nothing)."""
    from yibaodai.audit.keys import signing_keys
    from yibaodai.bootstrap import open_database
    from yibaodai.clock import SystemClock
    from yibaodai.ops.backup import Restored, restore

    def go() -> Restored:
        settings = load_settings()
        db = open_database(settings)
        try:
            with _progress("restore") as progress:
                return restore(db, file, signing=signing_keys(settings.keys_dir),
                               now=SystemClock().now(), force=force, progress=progress)
        finally:
            db.dispose()

    done = exit_on_refusal(go)
    if as_json:
        emit({"tables": done.tables, "chains": done.chains, "replaced": done.replaced,
              "audit_id": done.audit_id, "verified": True})
        return
    rows = sum(done.tables.values())
    heads = ", ".join(f"{k} {v['records']} ({v['head'][:12]})" for k, v in done.chains.items())
    replaced = f"; replaced {sum(done.replaced.values())} rows" if done.replaced else ""
    typer.echo(f"restored {file}: {rows} rows in {len(done.tables)} tables{replaced}; "
               f"verified: row counts and chain heads match the manifest ({heads}), chains "
               f"and checkpoints intact; audit record {done.audit_id}")
