"""``yibaodai retention``: bureau data after authorizations end."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from yibaodai.bootstrap import open_database
from yibaodai.cli._app import app
from yibaodai.clock import SHANGHAI, SystemClock
from yibaodai.gateway import retention
from yibaodai.settings import load_settings

retention_app = typer.Typer(help="Retention of bureau data after authorizations end.",
                            no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@retention_app.callback()
def _group() -> None:
    """Retention of bureau data after authorizations end (docs/interface.md §10)."""


@retention_app.command("apply")
def apply(
    dry_run: Annotated[bool, typer.Option("--dry-run",
                                          help="Print what would be deleted; change nothing.")
                       ] = False,
    as_of: Annotated[str | None, typer.Option(
        help="Judge at this time (yyyy-MM-ddTHH:mm:ss, Asia/Shanghai) instead of now; "
             "only with --dry-run.")] = None,
) -> None:
    """Delete the data of institutions whose retention period has run out (one audit row
    each); the archive, authorizations, decisions and the audit log are never deleted."""
    if as_of is not None and not dry_run:
        typer.echo("--as-of only previews: add --dry-run", err=True)
        raise typer.Exit(2)
    now = SystemClock().now()
    if as_of is not None:
        try:
            parsed = datetime.fromisoformat(as_of)
        except ValueError:
            typer.echo(f"--as-of: not a date-time: {as_of}", err=True)
            raise typer.Exit(2) from None
        now = parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
    db = open_database(load_settings())
    try:
        items = retention.apply(db, now=now, dry_run=dry_run)
    finally:
        db.dispose()
    verb = "would delete" if dry_run else "deleted"
    for item in items:
        v = item.verdict
        counts = ", ".join(f"{k}={n}" for k, n in item.counts.items() if n)
        ended = v.ended_at.isoformat() if v.ended_at else "-"
        until = v.keep_until.isoformat() if v.keep_until else "-"
        typer.echo(f"{v.fixmedins_code}: {verb} {counts} (ended {ended}, kept until {until}, "
                   f"{'case' if v.had_case else 'no case'})")
    typer.echo(f"{len(items)} institution(s) {verb}" + (" [dry run]" if dry_run else ""))
