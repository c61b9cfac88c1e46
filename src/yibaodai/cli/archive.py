"""``yibaodai archive``: the raw-message archive."""

from __future__ import annotations

import typer

from yibaodai.cli._app import app
from yibaodai.settings import load_settings

archive_app = typer.Typer(help="The raw-message archive.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")


@archive_app.command("verify")
def archive_verify() -> None:
    """Check the SM3 chain of the raw-message archive; exit 1 naming the first bad record."""
    from yibaodai.db.session import Database
    from yibaodai.gateway.archive import verify_archive

    db = Database(load_settings().database_url)
    with db.unit_of_work() as s:
        bad = verify_archive(s)
    db.dispose()
    if bad is not None:
        typer.echo(f"archive record {bad} or its link was altered", err=True)
        raise typer.Exit(1)
    typer.echo("archive intact")
