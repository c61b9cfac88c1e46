"""A fresh clone has no ./var/: the first command must create what it needs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from yibaodai.cli import app


def test_db_upgrade_creates_the_sqlite_folder_it_needs(tmp_path: Path) -> None:
    database = tmp_path / "not" / "yet" / "there" / "yibaodai.db"
    env = {"YIBAODAI_DATABASE_URL": f"sqlite:///{database}",
           "YIBAODAI_VAR_DIR": str(tmp_path / "var")}
    # the production order: a chain key first (it signs what the database records), then the schema
    keyed = CliRunner().invoke(app, ["chain-key", "new"], env=env)
    assert keyed.exit_code == 0, keyed.output
    result = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{database}")
    assert "settlement_facts" in inspect(engine).get_table_names()
    engine.dispose()
