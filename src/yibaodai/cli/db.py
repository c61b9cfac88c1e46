"""``yibaodai db``: the database schema."""

from __future__ import annotations

import typer

from yibaodai.cli._app import app
from yibaodai.settings import load_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to head and load the organisation."""
    from yibaodai.runtime import prepare_database

    settings = load_settings()
    prepare_database(settings).dispose()
    typer.echo(f"database at head: {settings.database_url}")
