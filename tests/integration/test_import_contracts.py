"""The layering contracts (``[tool.importlinter]`` in pyproject.toml) hold for the code as it
is, and each one breaks when a forbidden import is added: run on a copy of the package with
one line added, ``lint-imports`` fails and names the contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "yibaodai"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's own contracts on the package under ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "COLUMNS": "250"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo",
                           str(ROOT / "pyproject.toml")],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "src" / "yibaodai",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return tmp_path


def test_the_package_keeps_every_import_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("gateway/service.py", "from yibaodai.cases import service as _cases",
     "the gateway knows nothing of admission, cases or monitoring"),
    ("gateway/service.py", "from yibaodai.marketing import campaigns as _campaigns",
     "the gateway knows nothing of admission, cases or monitoring"),
    ("outbound/outbox.py", "from yibaodai.cases.service import mark_reported as _mark",
     "outbound knows nothing of the cases"),
    ("domain/case.py", "from yibaodai.db.models import CaseRow as _CaseRow",
     "domain imports nothing of the project but errors and clock"),
    ("web/api.py", "from yibaodai.sim.city import generate_city as _city",
     "no production code imports the simulators or the demo"),
    ("db/session.py", "from yibaodai.web import app as _app",
     "no cycles between the top-level packages"),
])
def test_a_forbidden_import_breaks_its_contract(tree: Path, module: str, line: str,
                                                contract: str) -> None:
    path = tree / "src" / "yibaodai" / module
    with path.open("a", encoding="utf-8") as source:  # at the end: still valid Python
        source.write(f"\n{line}\n")
    result = _lint(tree)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), result.stdout
