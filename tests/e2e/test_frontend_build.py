"""The built front-end stays light: the first page's JavaScript within 1 MB gzipped, measured
from the build's manifest by scripts/frontend_size.py; ECharts only in the chunks of pages
with charts (imported per chart type, split by route)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "frontend_size.py"


@cache
def sizes() -> ModuleType:
    """The measuring script itself (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("frontend_size", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def weights() -> dict[str, object]:
    module = sizes()
    if not (module.BUILD / ".vite" / "manifest.json").is_file():
        pytest.fail("the front-end is not built: run `make frontend`", pytrace=False)
    return {w.page: w for w in module.weigh()}


def test_every_first_page_loads_at_most_one_megabyte_of_gzipped_javascript(
        weights: dict[str, object]) -> None:
    budget = sizes().BUDGET_JS_GZIP
    for page, w in weights.items():
        assert 0 < w.js_gzip <= budget, f"{page}: {w.js_gzip} bytes of gzipped JS"  # type: ignore[attr-defined]


def test_the_log_in_page_does_not_download_the_chart_library(
        weights: dict[str, object]) -> None:
    login = next(w for page, w in weights.items() if page.startswith("log-in"))
    dashboard = next(w for page, w in weights.items() if page.startswith("dashboard"))
    assert not [f for f in login.js if "EChart" in f]  # type: ignore[attr-defined]
    assert [f for f in dashboard.js if "EChart" in f]  # type: ignore[attr-defined]
    assert dashboard.js_gzip > login.js_gzip  # type: ignore[attr-defined]
