"""What an operator does in tests: runs the ``yibaodai`` command line against an
installation, and — as a DBA with SQL rights would — changes rows of the append-only tables
after dropping their triggers (``db.append_only.lifted``, in one transaction)."""

from __future__ import annotations

from typing import Any

import structlog
from click.testing import Result
from sqlalchemy import text
from typer.testing import CliRunner

from yibaodai.cli import app
from yibaodai.db.append_only import lifted
from yibaodai.db.session import Database
from yibaodai.settings import Settings


def run_cli(settings: Settings, *args: str) -> Result:
    """``yibaodai ARGS`` with the installation's database and key folder in the environment.

    The CLI configures structlog to print to the sys.stderr of the moment, which under
    CliRunner is a stream closed afterwards: the configuration is restored, or every later log
    line in this process fails (and a bank server in the same process answers 500)."""
    env = {"YIBAODAI_DATABASE_URL": settings.database_url,
           "YIBAODAI_VAR_DIR": str(settings.var_dir),
           "YIBAODAI_DEMO_MODE": "1" if settings.demo_mode else "0"}
    saved = structlog.get_config()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        structlog.configure(**saved)


def as_dba(db: Database, sql: str, **params: Any) -> None:
    """Run ``sql`` with the append-only triggers dropped, then put them back, and commit."""
    with db.unit_of_work() as session:
        with lifted(session):
            session.execute(text(sql), params)
        session.commit()
